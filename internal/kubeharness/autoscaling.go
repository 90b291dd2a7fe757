package kubeharness

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/proxysizer/proxysizer/hpasim"
)

// Autoscaling turns on the HPA controller and what it reads: the API
// server's aggregation layer, metrics-server serving metrics.k8s.io, and
// kwok emulating the kubelet's /metrics/resource endpoint with per-container
// CPU usage that tests set (SetUsage).
type Autoscaling struct {
	// Controller is kube-controller-manager's HPA flags (the replay uses
	// the same values).
	Controller hpasim.Controller
	// MetricResolution is metrics-server's --metric-resolution: how often
	// it scrapes kwok (metrics-server refuses less than 10 s).
	MetricResolution time.Duration
}

// TestAutoscaling is the harness's autoscaling settings: a 2 s sync period
// (kube-controller-manager's default is 15 s) and windows short enough for
// a test to cross them. The scale-down stabilisation window (25 s) is not a
// multiple of the sync period, so no recommendation sits on its edge.
func TestAutoscaling() Autoscaling {
	return Autoscaling{
		Controller: hpasim.Controller{
			SyncPeriod:              2 * time.Second,
			Tolerance:               0.1,
			DownscaleStabilization:  25 * time.Second,
			CPUInitializationPeriod: 20 * time.Second,
			InitialReadinessDelay:   5 * time.Second,
		},
		MetricResolution: 10 * time.Second,
	}
}

// controllerFlags are kube-controller-manager's HPA flags, all explicit.
func (a Autoscaling) controllerFlags() []string {
	c := a.Controller
	return []string{
		"--horizontal-pod-autoscaler-sync-period=" + c.SyncPeriod.String(),
		"--horizontal-pod-autoscaler-tolerance=" + strconv.FormatFloat(c.Tolerance, 'f', -1, 64),
		"--horizontal-pod-autoscaler-downscale-stabilization=" + c.DownscaleStabilization.String(),
		"--horizontal-pod-autoscaler-cpu-initialization-period=" + c.CPUInitializationPeriod.String(),
		"--horizontal-pod-autoscaler-initial-readiness-delay=" + c.InitialReadinessDelay.String(),
		// One log line per sync of each HPA ("Proposing desired replicas",
		// "Decided not to scale"): the tests read the controller's
		// decisions from them. UTC timestamps (klog prints local time).
		"--vmodule=horizontal=4",
	}
}

// The pod annotations that make kwok report a native sidecar's CPU:
// kwok v0.7.0 evaluates resource usage only for spec.containers, so the
// harness's Metric emits a restartable init container's series itself, as a
// fixed multiple of a regular container's usage.
const (
	// NativeSidecarAnnotation names the restartable init container to report.
	NativeSidecarAnnotation = "kwok.proxysizer.io/native-sidecar"
	// NativeSidecarFollowsAnnotation names the regular container whose CPU
	// the sidecar's follows.
	NativeSidecarFollowsAnnotation = "kwok.proxysizer.io/native-sidecar-follows"
	// NativeSidecarRatioAnnotation is the sidecar's CPU as a multiple of
	// that container's (a decimal, e.g. "0.5"); it must not change while the
	// pod runs (the counter would jump).
	NativeSidecarRatioAnnotation = "kwok.proxysizer.io/native-sidecar-cpu-ratio"
)

// kwokMetricConfig is a kwok Metric serving the kubelet's /metrics/resource
// for every fake node at /metrics/nodes/NODE/metrics/resource (the node's
// metrics.k8s.io/resource-metrics-path annotation points metrics-server
// there). CPU counters integrate the usage kwok's ClusterResourceUsage
// gives at each scrape over the time since the previous one.
const kwokMetricConfig = `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Metric
metadata:
  name: kubelet-resource
spec:
  path: /metrics/nodes/{nodeName}/metrics/resource
  metrics:
  - name: scrape_error
    dimension: node
    help: 1 if there was an error while getting metrics from the node, 0 otherwise
    kind: gauge
    value: '0'
  # The node adds 50m and 512Mi of its own to its pods': metrics-server
  # drops a node whose counters are zero.
  - name: node_cpu_usage_seconds_total
    dimension: node
    help: Cumulative cpu time consumed by the node in core-seconds
    kind: counter
    value: 'node.CumulativeUsage("cpu") + 0.05 * node.SinceSecond()'
  - name: node_memory_working_set_bytes
    dimension: node
    help: Current working set of the node in bytes
    kind: gauge
    value: 'node.Usage("memory") + 536870912.0'
  - name: container_cpu_usage_seconds_total
    dimension: container
    help: Cumulative cpu time consumed by the container in core-seconds
    kind: counter
    labels:
    - name: container
      value: 'container.name'
    - name: namespace
      value: 'pod.metadata.namespace'
    - name: pod
      value: 'pod.metadata.name'
    value: 'pod.CumulativeUsage("cpu", container.name)'
  - name: container_memory_working_set_bytes
    dimension: container
    help: Current working set of the container in bytes
    kind: gauge
    labels:
    - name: container
      value: 'container.name'
    - name: namespace
      value: 'pod.metadata.namespace'
    - name: pod
      value: 'pod.metadata.name'
    value: 'pod.Usage("memory", container.name)'
  # A native sidecar, for pods that name one. Other pods give one series
  # with empty labels, which metrics-server drops (it names no pod).
  - name: container_cpu_usage_seconds_total
    dimension: pod
    help: Cumulative cpu time consumed by the container in core-seconds
    kind: counter
    labels:
    - name: container
      value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.metadata.annotations["` + NativeSidecarAnnotation + `"] : ""'
    - name: namespace
      value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.metadata.namespace : ""'
    - name: pod
      value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.metadata.name : ""'
    value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.CumulativeUsage("cpu", pod.metadata.annotations["` + NativeSidecarFollowsAnnotation + `"]) * double(pod.metadata.annotations["` + NativeSidecarRatioAnnotation + `"]) : 0.0'
  - name: container_memory_working_set_bytes
    dimension: pod
    help: Current working set of the container in bytes
    kind: gauge
    labels:
    - name: container
      value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.metadata.annotations["` + NativeSidecarAnnotation + `"] : ""'
    - name: namespace
      value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.metadata.namespace : ""'
    - name: pod
      value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.metadata.name : ""'
    value: '"` + NativeSidecarAnnotation + `" in pod.metadata.annotations ? pod.Usage("memory", pod.metadata.annotations["` + NativeSidecarFollowsAnnotation + `"]) : 0.0'
`

var (
	crdGVR                  = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	clusterResourceUsageGVR = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "clusterresourceusages"}
	apiServiceGVR           = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
)

// autoscalingPKI is the certificates of the aggregation layer: the front
// proxy's client certificate (kube-apiserver -> metrics-server, checked
// against the request-header CA) and metrics-server's serving certificate.
type autoscalingPKI struct {
	frontProxyCA, proxyCert, proxyKey string
	// clientCA is kube-apiserver's --client-ca-file: no client holds a
	// certificate of it, but metrics-server expects the CA in the
	// authentication ConfigMap kube-apiserver publishes.
	clientCA                string
	servingCert, servingKey string
	servingCA               []byte
}

func (h *Harness) makeAutoscalingPKI() (*autoscalingPKI, error) {
	dir := filepath.Join(h.Dir, "aggregation-pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	front, err := newCertAuthority("harness-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	p := &autoscalingPKI{}
	if p.frontProxyCA, err = front.writeCert(dir, "front-proxy-ca"); err != nil {
		return nil, err
	}
	if p.proxyCert, p.proxyKey, err = front.issue(dir, "front-proxy-client", certRequest{commonName: "front-proxy-client", client: true}); err != nil {
		return nil, err
	}
	serving, err := newCertAuthority("harness-serving-ca")
	if err != nil {
		return nil, err
	}
	p.servingCA = serving.certPEM
	if p.clientCA, err = serving.writeCert(dir, "client-ca"); err != nil {
		return nil, err
	}
	// kube-apiserver checks the name SERVICE.NAMESPACE.svc, whatever
	// address the service resolves to.
	p.servingCert, p.servingKey, err = serving.issue(dir, "metrics-server", certRequest{
		commonName: "metrics-server",
		dnsNames:   []string{"metrics-server.kube-system.svc", "localhost"},
		ips:        []net.IP{net.ParseIP("127.0.0.1")},
	})
	return p, err
}

// aggregationFlags are kube-apiserver's front-proxy flags.
func (p *autoscalingPKI) aggregationFlags() []string {
	return []string{
		"--client-ca-file=" + p.clientCA,
		"--requestheader-client-ca-file=" + p.frontProxyCA,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p.proxyCert,
		"--proxy-client-key-file=" + p.proxyKey,
	}
}

// installKwokCRDs registers kwok's ClusterResourceUsage (kwok watches it,
// --enable-crds) before kwok starts. The schema is left open: kwok
// validates nothing either.
func (h *Harness) installKwokCRDs(ctx context.Context) error {
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "clusterresourceusages.kwok.x-k8s.io"},
		"spec": map[string]any{
			"group": "kwok.x-k8s.io",
			"names": map[string]any{"kind": "ClusterResourceUsage", "listKind": "ClusterResourceUsageList", "plural": "clusterresourceusages", "singular": "clusterresourceusage"},
			"scope": "Cluster",
			"versions": []any{map[string]any{
				"name": "v1alpha1", "served": true, "storage": true,
				"schema":       map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
				"subresources": map[string]any{"status": map[string]any{}},
			}},
		},
	}}
	if _, err := h.Dynamic.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating kwok's ClusterResourceUsage CRD: %w", err)
	}
	return h.poll(ctx, "kwok's ClusterResourceUsage CRD served", func() error {
		_, err := h.Dynamic.Resource(clusterResourceUsageGVR).List(ctx, metav1.ListOptions{})
		return err
	})
}

// startMetricsServer runs metrics-server against kwok's kubelet endpoint,
// registers it as v1beta1.metrics.k8s.io, and waits until the API serves
// the fake node's metrics (its second scrape: CPU is a rate of two).
func (h *Harness) startMetricsServer(ctx context.Context, binDir string, a Autoscaling, p *autoscalingPKI) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	if err := h.run("metrics-server", filepath.Join(binDir, "metrics-server"),
		"--kubeconfig="+h.Kubeconfig,
		"--authentication-kubeconfig="+h.Kubeconfig, "--authorization-kubeconfig="+h.Kubeconfig,
		"--bind-address=127.0.0.1", "--secure-port="+strconv.Itoa(port),
		"--tls-cert-file="+p.servingCert, "--tls-private-key-file="+p.servingKey,
		// kwok's endpoint: the node's InternalIP and status port, over
		// TLS with a throwaway certificate.
		"--kubelet-preferred-address-types=InternalIP",
		"--kubelet-use-node-status-port",
		"--kubelet-insecure-tls",
		"--metric-resolution="+a.MetricResolution.String(),
		"--kubelet-request-timeout=5s",
		"--v=1",
	); err != nil {
		return err
	}
	if err := h.poll(ctx, "metrics-server /livez", func() error {
		return httpOK(ctx, fmt.Sprintf("https://127.0.0.1:%d/livez", port), h.token, true)
	}); err != nil {
		return err
	}
	if err := h.registerMetricsAPI(ctx, port, p.servingCA); err != nil {
		return err
	}
	h.Metrics, err = metricsclient.NewForConfig(h.Config)
	if err != nil {
		return err
	}
	return h.poll(ctx, "metrics.k8s.io serving the fake node", func() error {
		_, err := h.Metrics.MetricsV1beta1().NodeMetricses().Get(ctx, NodeName, metav1.GetOptions{})
		return err
	})
}

// registerMetricsAPI points the aggregation layer at metrics-server: an
// ExternalName Service (the aggregator dials its name and the APIService's
// port; a ClusterIP would not route here, and Endpoints may not hold
// loopback addresses) and the APIService, trusting the harness's serving CA.
func (h *Harness) registerMetricsAPI(ctx context.Context, port int, ca []byte) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "metrics-server"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}
	if _, err := h.Client.CoreV1().Services("kube-system").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating the metrics-server service: %w", err)
	}
	api := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": "v1beta1.metrics.k8s.io"},
		"spec": map[string]any{
			"group": "metrics.k8s.io", "version": "v1beta1",
			"groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"service":  map[string]any{"namespace": "kube-system", "name": "metrics-server", "port": int64(port)},
			"caBundle": base64.StdEncoding.EncodeToString(ca),
		},
	}}
	if _, err := h.Dynamic.Resource(apiServiceGVR).Create(ctx, api, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("registering v1beta1.metrics.k8s.io: %w", err)
	}
	return h.poll(ctx, "APIService v1beta1.metrics.k8s.io Available", func() error {
		u, err := h.Dynamic.Resource(apiServiceGVR).Get(ctx, "v1beta1.metrics.k8s.io", metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Available" {
				if m["status"] == "True" {
					return nil
				}
				return fmt.Errorf("not available: %v: %v", m["reason"], m["message"])
			}
		}
		return errors.New("no Available condition yet")
	})
}

// SetCPUUsage sets the CPU usage kwok reports for the containers of every
// pod in namespace ns, in millicores by container name (other containers:
// 1m), through one ClusterResourceUsage per namespace. Each container also
// reports 64Mi of memory (metrics-server drops a container without it).
// metrics-server sees a new value at its next scrape: kwok's counter adds
// the usage in force at a scrape over the whole time since the previous one.
func (h *Harness) SetCPUUsage(ctx context.Context, ns string, millicores map[string]int64) error {
	usages := []any{map[string]any{"usage": map[string]any{
		"cpu": map[string]any{"value": "1m"}, "memory": map[string]any{"value": "64Mi"},
	}}}
	for name, m := range millicores {
		usages = append(usages, map[string]any{
			"containers": []any{name},
			"usage": map[string]any{
				"cpu":    map[string]any{"value": strconv.FormatInt(m, 10) + "m"},
				"memory": map[string]any{"value": "64Mi"},
			},
		})
	}
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "ClusterResourceUsage",
		"metadata":   map[string]any{"name": "usage-" + ns},
		"spec": map[string]any{
			"selector": map[string]any{"matchNamespaces": []any{ns}},
			"usages":   usages,
		},
	}}
	_, err := h.Dynamic.Resource(clusterResourceUsageGVR).Apply(ctx, "usage-"+ns, obj, metav1.ApplyOptions{FieldManager: "kubeharness", Force: true})
	if err != nil {
		return fmt.Errorf("setting the CPU usage of namespace %s: %w", ns, err)
	}
	return nil
}

// ComponentLog is the path of a component's log (e.g.
// "kube-controller-manager"), or "" when the harness did not run it.
func (h *Harness) ComponentLog(name string) string {
	for _, p := range h.procs {
		if p.name == name {
			return p.log
		}
	}
	return ""
}
