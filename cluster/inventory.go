package cluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// SidecarVersions are the networking.istio.io versions tried for the
// Sidecar resource, newest first (v1 from Istio 1.22).
var SidecarVersions = []string{"v1", "v1beta1", "v1alpha3"}

// Scope counts what a proxy would hold: clusters (one per visible service
// port) and endpoints (ready endpoint addresses x ports of their slices).
type Scope struct {
	Services  int `json:"services"`
	Clusters  int `json:"clusters"`
	Endpoints int `json:"endpoints"`
}

// SidecarScope is one Sidecar resource and what it leaves visible.
type SidecarScope struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// WorkloadSelector is empty for the namespace's default Sidecar.
	WorkloadSelector map[string]string `json:"workload_selector,omitempty"`
	EgressHosts      []string          `json:"egress_hosts"`
	Scope            Scope             `json:"scope"`
}

// Inventory is what sidecars in a namespace would hold.
type Inventory struct {
	Namespace     string `json:"namespace"`
	ClusterDomain string `json:"cluster_domain"`
	// Unscoped is every service of the mesh: a proxy with no Sidecar resource.
	Unscoped Scope `json:"unscoped"`
	// SidecarAPI is the networking.istio.io version read, "" when the
	// Sidecar CRD is not installed.
	SidecarAPI string         `json:"sidecar_api"`
	Sidecars   []SidecarScope `json:"sidecars"`
	// Default is the Sidecar that applies to the namespace's workloads
	// without a workload-specific one: the namespace's, else the root
	// namespace's; nil when there is none.
	Default *SidecarScope `json:"default,omitempty"`
	Notes   []string      `json:"notes"`
}

// InventoryOptions tune Inventory.
type InventoryOptions struct {
	ClusterDomain string // default DefaultClusterDomain
	RootNamespace string // Istio's root namespace, default DefaultMeshNamespace
}

type svcInfo struct {
	ns, name, fqdn string
	ports          int
	endpoints      int
}

// ReadInventory counts the services, ports and endpoints of the mesh, and
// for each Sidecar resource of the namespace (and the root namespace's
// default) the part its egress hosts keep.
func ReadInventory(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, ns string, o InventoryOptions) (*Inventory, error) {
	o = o.withDefaults()
	services, err := ReadMeshServices(ctx, client, o.ClusterDomain)
	if err != nil {
		return nil, err
	}
	return InventoryWith(ctx, dyn, ns, services, o)
}

func (o InventoryOptions) withDefaults() InventoryOptions {
	if o.ClusterDomain == "" {
		o.ClusterDomain = DefaultClusterDomain
	}
	if o.RootNamespace == "" {
		o.RootNamespace = DefaultMeshNamespace
	}
	return o
}

// MeshServices are every service of the mesh with its ports and ready
// endpoints: listed once, they serve the inventory of every namespace of a
// fleet.
type MeshServices struct {
	list []svcInfo
}

// ReadMeshServices lists the services and endpoint slices of every
// namespace, page by page.
func ReadMeshServices(ctx context.Context, client kubernetes.Interface, clusterDomain string) (*MeshServices, error) {
	if clusterDomain == "" {
		clusterDomain = DefaultClusterDomain
	}
	list, err := listServices(ctx, client, clusterDomain)
	if err != nil {
		return nil, err
	}
	return &MeshServices{list: list}, nil
}

// All is what a proxy with no Sidecar resource holds: every service.
func (m *MeshServices) All() Scope { return count(m.list, func(svcInfo) bool { return true }) }

// ScopeOf is what a Sidecar with these egress hosts keeps for a workload of
// namespace ns (EgressHostMatches' syntax).
func (m *MeshServices) ScopeOf(ns string, hosts []string) Scope {
	return count(m.list, func(svc svcInfo) bool {
		return slices.ContainsFunc(hosts, func(h string) bool { return EgressHostMatches(h, ns, svc.ns, svc.fqdn) })
	})
}

// InventoryWith is ReadInventory over services already listed: it reads
// only the Sidecar resources of ns (and of the root namespace when ns has
// no default one).
func InventoryWith(ctx context.Context, dyn dynamic.Interface, ns string, services *MeshServices, o InventoryOptions) (*Inventory, error) {
	o = o.withDefaults()
	inv := &Inventory{Namespace: ns, ClusterDomain: o.ClusterDomain, Sidecars: []SidecarScope{}, Notes: []string{}}
	inv.Unscoped = services.All()

	version, items, err := listSidecars(ctx, dyn, ns)
	if err != nil {
		return nil, err
	}
	if version == "" {
		inv.Notes = append(inv.Notes, "the Sidecar CRD (networking.istio.io) is not installed: proxies hold every service of the mesh")
		return inv, nil
	}
	inv.SidecarAPI = "networking.istio.io/" + version
	for _, u := range items {
		inv.Sidecars = append(inv.Sidecars, sidecarScope(u, services.list))
	}
	for i := range inv.Sidecars {
		if len(inv.Sidecars[i].WorkloadSelector) == 0 {
			inv.Default = &inv.Sidecars[i]
			break
		}
	}
	if inv.Default == nil && ns != o.RootNamespace {
		_, root, err := listSidecars(ctx, dyn, o.RootNamespace)
		if err != nil && !apierrors.IsForbidden(err) {
			return nil, err
		}
		if err != nil {
			inv.Notes = append(inv.Notes, fmt.Sprintf("could not read Sidecars of the root namespace %s: %v", o.RootNamespace, err))
		}
		for _, u := range root {
			if s := sidecarScope(u, services.list); len(s.WorkloadSelector) == 0 {
				// A root-namespace Sidecar's "." means the workload's namespace.
				s = sidecarScopeIn(u, services.list, ns)
				inv.Default = &s
				inv.Notes = append(inv.Notes, fmt.Sprintf("the namespace has no default Sidecar: the root namespace's %s/%s applies", o.RootNamespace, s.Name))
				break
			}
		}
	}
	if inv.Default == nil {
		inv.Notes = append(inv.Notes, "no default Sidecar applies to the namespace: workloads without a workload-specific Sidecar hold every service of the mesh")
	}
	return inv, nil
}

// Holds is what the proxy of a workload with these pod labels holds: the
// namespace's Sidecar that selects it, else the default one, else every
// service of the mesh; source names which.
func (inv *Inventory) Holds(podLabels map[string]string) (s Scope, source string) {
	for _, side := range inv.Sidecars {
		if len(side.WorkloadSelector) > 0 && labels.SelectorFromSet(side.WorkloadSelector).Matches(labels.Set(podLabels)) {
			return side.Scope, fmt.Sprintf("Sidecar %s/%s", side.Namespace, side.Name)
		}
	}
	if inv.Default != nil {
		return inv.Default.Scope, fmt.Sprintf("Sidecar %s/%s", inv.Default.Namespace, inv.Default.Name)
	}
	return inv.Unscoped, "no Sidecar applies: every service of the mesh"
}

func count(services []svcInfo, keep func(svcInfo) bool) Scope {
	var s Scope
	for _, svc := range services {
		if keep(svc) {
			s.Services++
			s.Clusters += svc.ports
			s.Endpoints += svc.endpoints
		}
	}
	return s
}

func listServices(ctx context.Context, client kubernetes.Interface, domain string) ([]svcInfo, error) {
	var svcs []*corev1.Service
	err := listPages(ctx, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return client.CoreV1().Services("").List(ctx, o)
	}, func(obj runtime.Object) { svcs = append(svcs, obj.(*corev1.Service)) })
	if err != nil {
		return nil, fmt.Errorf("listing services in all namespaces: %w", err)
	}
	var epSlices []*discoveryv1.EndpointSlice
	err = listPages(ctx, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return client.DiscoveryV1().EndpointSlices("").List(ctx, o)
	}, func(obj runtime.Object) { epSlices = append(epSlices, obj.(*discoveryv1.EndpointSlice)) })
	if err != nil {
		return nil, fmt.Errorf("listing endpointslices in all namespaces: %w", err)
	}
	endpoints := map[string]int{} // ns/service -> ready addresses x ports
	for _, es := range epSlices {
		svc := es.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		ready := 0
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready == nil || *ep.Conditions.Ready {
				ready += len(ep.Addresses)
			}
		}
		ports := max(1, len(es.Ports))
		endpoints[es.Namespace+"/"+svc] += ready * ports
	}
	out := make([]svcInfo, 0, len(svcs))
	for _, s := range svcs {
		out = append(out, svcInfo{
			ns: s.Namespace, name: s.Name,
			fqdn:      fmt.Sprintf("%s.%s.svc.%s", s.Name, s.Namespace, domain),
			ports:     max(1, len(s.Spec.Ports)),
			endpoints: endpoints[s.Namespace+"/"+s.Name],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].fqdn < out[j].fqdn })
	return out, nil
}

// listSidecars lists the Sidecar resources of ns with the first served
// version; version is "" when the CRD is not installed.
func listSidecars(ctx context.Context, dyn dynamic.Interface, ns string) (string, []unstructured.Unstructured, error) {
	for _, v := range SidecarVersions {
		gvr := schema.GroupVersionResource{Group: "networking.istio.io", Version: v, Resource: "sidecars"}
		l, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("listing Sidecar resources (networking.istio.io/%s) in %s: %w", v, ns, err)
		}
		items := l.Items
		slices.SortFunc(items, func(a, b unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
		return v, items, nil
	}
	return "", nil, nil
}

func sidecarScope(u unstructured.Unstructured, services []svcInfo) SidecarScope {
	return sidecarScopeIn(u, services, u.GetNamespace())
}

// sidecarScopeIn evaluates a Sidecar's egress hosts for workloads of ns.
func sidecarScopeIn(u unstructured.Unstructured, services []svcInfo, ns string) SidecarScope {
	s := SidecarScope{Namespace: u.GetNamespace(), Name: u.GetName(), EgressHosts: []string{}}
	if sel, ok, _ := unstructured.NestedStringMap(u.Object, "spec", "workloadSelector", "labels"); ok {
		s.WorkloadSelector = sel
	}
	egress, _, _ := unstructured.NestedSlice(u.Object, "spec", "egress")
	for _, e := range egress {
		em, ok := e.(map[string]any)
		if !ok {
			continue
		}
		hosts, _, _ := unstructured.NestedStringSlice(em, "hosts")
		s.EgressHosts = append(s.EgressHosts, hosts...)
	}
	if len(egress) == 0 {
		// No egress section: Istio keeps every namespace's services.
		s.EgressHosts = []string{"*/*"}
	}
	s.Scope = count(services, func(svc svcInfo) bool {
		for _, h := range s.EgressHosts {
			if EgressHostMatches(h, ns, svc.ns, svc.fqdn) {
				return true
			}
		}
		return false
	})
	return s
}

// EgressHostMatches applies Istio's Sidecar egress host syntax
// "namespace/dnsName" to a service: namespace "*" is any, "." the
// workload's, "~" none; dnsName "*" any, "*.suffix" a suffix, else the
// exact FQDN. A host without "/" means "*/host".
func EgressHostMatches(host, workloadNS, svcNS, fqdn string) bool {
	nsPart, name, ok := strings.Cut(host, "/")
	if !ok {
		nsPart, name = "*", host
	}
	switch nsPart {
	case "~":
		return false
	case "*":
	case ".":
		if svcNS != workloadNS {
			return false
		}
	default:
		if svcNS != nsPart {
			return false
		}
	}
	switch {
	case name == "*":
		return true
	case strings.HasPrefix(name, "*."):
		return strings.HasSuffix(fqdn, name[1:])
	default:
		return fqdn == name
	}
}
