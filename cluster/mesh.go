package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"
)

// Where Istio keeps its mesh configuration: the `mesh` key of the `istio`
// ConfigMap (`istio-REVISION` for a revision) in the control plane's
// namespace.
const (
	DefaultMeshNamespace = "istio-system"
	DefaultMeshConfigMap = "istio"
	meshConfigKey        = "mesh"
)

// DefaultClusterDomain is Kubernetes' default DNS domain, the last part of
// a service's FQDN (NAME.NAMESPACE.svc.cluster.local).
const DefaultClusterDomain = "cluster.local"

// ProxyConfig is the part of Istio's ProxyConfig that sizing and onboarding
// look at, as the mesh's defaultConfig or a pod's proxy.istio.io/config
// annotation spell it. A nil field is unset: Istio's own default applies.
type ProxyConfig struct {
	// Concurrency is the number of Envoy worker threads. Unset, Istio 1.18+
	// derives it from the CPU limit (rounded up), or uses the node's cores
	// without a limit; 0 means every core.
	Concurrency *int32 `json:"concurrency,omitempty"`
	// HoldApplicationUntilProxyStarts delays the app's containers until the
	// proxy is ready.
	HoldApplicationUntilProxyStarts *bool `json:"holdApplicationUntilProxyStarts,omitempty"`
	// TerminationDrainDuration is how long the proxy drains on shutdown.
	TerminationDrainDuration *metav1.Duration `json:"terminationDrainDuration,omitempty"`
	// ProxyMetadata are environment variables passed to the proxy.
	ProxyMetadata map[string]string `json:"proxyMetadata,omitempty"`
}

// Over is p with every field p leaves unset taken from base: how Istio
// merges a pod's annotation over the mesh's defaultConfig.
func (p ProxyConfig) Over(base ProxyConfig) ProxyConfig {
	out := base
	if p.Concurrency != nil {
		out.Concurrency = p.Concurrency
	}
	if p.HoldApplicationUntilProxyStarts != nil {
		out.HoldApplicationUntilProxyStarts = p.HoldApplicationUntilProxyStarts
	}
	if p.TerminationDrainDuration != nil {
		out.TerminationDrainDuration = p.TerminationDrainDuration
	}
	if p.ProxyMetadata != nil {
		out.ProxyMetadata = p.ProxyMetadata
	}
	return out
}

// ParseProxyConfig reads a ProxyConfig YAML document (a pod's
// proxy.istio.io/config annotation); other fields are ignored.
func ParseProxyConfig(doc string) (ProxyConfig, error) {
	var p ProxyConfig
	if err := yaml.Unmarshal([]byte(doc), &p); err != nil {
		return ProxyConfig{}, fmt.Errorf("not a ProxyConfig YAML document: %w", err)
	}
	return p, nil
}

// MeshConfig is what proxysizer reads of Istio's mesh configuration.
type MeshConfig struct {
	// Source names the ConfigMap read ("configmap istio-system/istio").
	Source string `json:"-"`
	// Found is false when the ConfigMap or its key is absent: Istio's
	// defaults apply (or Istio is not installed).
	Found         bool        `json:"-"`
	RootNamespace string      `json:"rootNamespace,omitempty"`
	TrustDomain   string      `json:"trustDomain,omitempty"`
	DefaultConfig ProxyConfig `json:"defaultConfig"`
}

// ParseMeshConfig reads the `mesh` document of Istio's ConfigMap.
func ParseMeshConfig(doc string) (MeshConfig, error) {
	var m MeshConfig
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		return MeshConfig{}, fmt.Errorf("not a MeshConfig YAML document: %w", err)
	}
	m.Found = true
	return m, nil
}

// MeshConfigOptions say where the mesh configuration is.
type MeshConfigOptions struct {
	Namespace string // default DefaultMeshNamespace
	ConfigMap string // default DefaultMeshConfigMap; istio-REVISION for a revision
}

// ReadMeshConfig reads Istio's mesh configuration. A missing ConfigMap or
// key is not an error: the result says Found false.
func ReadMeshConfig(ctx context.Context, client kubernetes.Interface, o MeshConfigOptions) (MeshConfig, error) {
	if o.Namespace == "" {
		o.Namespace = DefaultMeshNamespace
	}
	if o.ConfigMap == "" {
		o.ConfigMap = DefaultMeshConfigMap
	}
	source := fmt.Sprintf("configmap %s/%s", o.Namespace, o.ConfigMap)
	cm, err := client.CoreV1().ConfigMaps(o.Namespace).Get(ctx, o.ConfigMap, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return MeshConfig{Source: source}, nil
	}
	if err != nil {
		return MeshConfig{}, fmt.Errorf("reading Istio's mesh configuration (%s): %w", source, err)
	}
	doc, ok := cm.Data[meshConfigKey]
	if !ok {
		return MeshConfig{Source: source}, nil
	}
	m, err := ParseMeshConfig(doc)
	if err != nil {
		return MeshConfig{}, fmt.Errorf("%s key %s: %w", source, meshConfigKey, err)
	}
	m.Source = source
	return m, nil
}
