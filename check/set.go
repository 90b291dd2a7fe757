package check

import (
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	networking "istio.io/api/networking/v1alpha3"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/version"
)

// Ref names an object: its kind, namespace and name.
type Ref struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Origin is where an object was read: a file and the line its document
// starts on, the Helm template it was rendered from ("# Source:"), or a
// cluster.
type Origin struct {
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Template string `json:"template,omitempty"`
	Cluster  bool   `json:"cluster,omitempty"`
}

// IstioObject is a networking.istio.io resource: its metadata and its spec
// parsed into Istio's own API type. Object keeps the resource as read, so a
// fix can be written as the whole resource.
type IstioObject[T proto.Message] struct {
	Namespace string
	Name      string
	Spec      T
	Object    *unstructured.Unstructured
}

// Environment is what the checks know about the platform's versions.
type Environment struct {
	// K8sVersion is the cluster's Kubernetes version (nil: unknown).
	K8sVersion *version.Version
	K8sSource  string
	// IstioVersion is the control plane's version (nil: unknown).
	IstioVersion *version.Version
	IstioSource  string
}

// ConfigScope is what one workload's proxy holds against what its traffic
// needs, in clusters (one per service port), for PS402.
type ConfigScope struct {
	Holds       int    `json:"holds_clusters"`
	HoldsSource string `json:"holds_source"`
	Needs       int    `json:"needs_clusters"`
	NeedsSource string `json:"needs_source"`
	// NeededHosts are the egress hosts a workload Sidecar would keep
	// ("namespace/fqdn" or "namespace/*").
	NeededHosts []string `json:"needed_hosts"`
}

// Set is every object the checks look at. The manifest reader and the live
// loader both fill it; the checks never read anything else.
type Set struct {
	Deployments      []*appsv1.Deployment
	StatefulSets     []*appsv1.StatefulSet
	Services         []*corev1.Service
	HPAs             []*autoscalingv2.HorizontalPodAutoscaler
	Namespaces       []*corev1.Namespace
	Pods             []*corev1.Pod // live only: running pods show the injected sidecar
	VirtualServices  []IstioObject[*networking.VirtualService]
	DestinationRules []IstioObject[*networking.DestinationRule]
	Sidecars         []IstioObject[*networking.Sidecar]

	// Mesh is Istio's mesh configuration; nil means Istio's defaults.
	Mesh *Mesh
	Env  Environment
	// Scopes holds PS402's inputs per workload (the live inventory); nil
	// offline, where PS402 is not evaluated.
	Scopes map[Ref]ConfigScope

	// ClusterDomain completes short host names (default cluster.local).
	ClusterDomain string
	// Inputs describes what was read, for the report.
	Inputs []string
	// Skipped counts documents of kinds no check reads.
	Skipped int

	origins map[Ref]Origin
}

// Origin says where an object came from.
func (s *Set) Origin(r Ref) (Origin, bool) {
	o, ok := s.origins[r]
	return o, ok
}

func (s *Set) setOrigin(r Ref, o Origin) {
	if s.origins == nil {
		s.origins = map[Ref]Origin{}
	}
	s.origins[r] = o
}

func (s *Set) clusterDomain() string {
	if s.ClusterDomain == "" {
		return "cluster.local"
	}
	return s.ClusterDomain
}

// AddIstio parses a networking.istio.io resource (VirtualService,
// DestinationRule or Sidecar) into the set. Unknown spec fields are
// ignored, as istiod does for fields of a newer API.
func (s *Set) AddIstio(u *unstructured.Unstructured, o Origin) error {
	spec, _, _ := unstructured.NestedFieldNoCopy(u.Object, "spec")
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if spec == nil {
		raw = []byte("{}")
	}
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	ref := Ref{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
	switch u.GetKind() {
	case "VirtualService":
		m := &networking.VirtualService{}
		if err := opts.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("%s: spec is not a VirtualService: %w", ref, err)
		}
		s.VirtualServices = append(s.VirtualServices, IstioObject[*networking.VirtualService]{u.GetNamespace(), u.GetName(), m, u})
	case "DestinationRule":
		m := &networking.DestinationRule{}
		if err := opts.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("%s: spec is not a DestinationRule: %w", ref, err)
		}
		s.DestinationRules = append(s.DestinationRules, IstioObject[*networking.DestinationRule]{u.GetNamespace(), u.GetName(), m, u})
	case "Sidecar":
		m := &networking.Sidecar{}
		if err := opts.Unmarshal(raw, m); err != nil {
			return fmt.Errorf("%s: spec is not a Sidecar: %w", ref, err)
		}
		s.Sidecars = append(s.Sidecars, IstioObject[*networking.Sidecar]{u.GetNamespace(), u.GetName(), m, u})
	default:
		s.Skipped++
		return nil
	}
	s.setOrigin(ref, o)
	return nil
}

// istioKinds are the networking.istio.io kinds the checks read.
var istioKinds = map[string]bool{"VirtualService": true, "DestinationRule": true, "Sidecar": true}
