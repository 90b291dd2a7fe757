package check

// The live source: everything the checks read, listed from a cluster with
// client-go. It is the one file to switch when the cluster package holds
// these reads (clients, workloads, pods, HPAs, mesh config, inventory).

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/cluster"
)

// LiveScope says what to read from a cluster.
type LiveScope struct {
	// Namespaces to check; empty with AllNamespaces: every namespace.
	Namespaces    []string
	AllNamespaces bool
	// IstioNamespace holds istiod and the istio ConfigMaps (default istio-system).
	IstioNamespace string
	// Mesh, when set, replaces the mesh configuration read from the cluster.
	Mesh *Mesh
	// Telemetry narrows what each workload's traffic needs (PS402); nil:
	// none. A Prometheus answers it in one query for the whole run
	// (prom.Destinations, the capacity plan's destinations).
	Telemetry Telemetry
}

// telemetryCoverage is a Telemetry that tells a workload it holds no
// figures for (not scraped, or no outbound request in its window) from one
// that called nothing: the first keeps the no-telemetry default, so that a
// gap in the telemetry never reads as a workload that needs no service.
type telemetryCoverage interface {
	Covers(namespace, workload string) bool
}

// istioAPIVersions are the networking.istio.io versions tried, newest first.
var istioAPIVersions = cluster.SidecarVersions

// LoadCluster reads the set for the scope from a cluster.
func LoadCluster(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, scope LiveScope) (*Set, error) {
	if scope.IstioNamespace == "" {
		scope.IstioNamespace = defaultRootNamespace
	}
	s := &Set{Inputs: []string{}}
	info, err := client.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the server version (discovery): %w", err)
	}
	if v, err := version.ParseGeneric(info.GitVersion); err == nil {
		s.Env.K8sVersion, s.Env.K8sSource = v, "the API server"
	}
	if err := loadMesh(ctx, client, s, scope); err != nil {
		return nil, err
	}
	namespaces, err := liveNamespaces(ctx, client, s, scope)
	if err != nil {
		return nil, err
	}
	root := s.Mesh.RootNamespace()
	for _, ns := range namespaces {
		if err := loadNamespace(ctx, client, dyn, s, ns); err != nil {
			return nil, err
		}
		s.Inputs = append(s.Inputs, "namespace "+ns)
	}
	if !slices.Contains(namespaces, root) {
		if err := loadIstio(ctx, dyn, s, root, "Sidecar"); err != nil {
			return nil, err
		}
	}
	if err := loadScopes(ctx, client, dyn, s, scope); err != nil {
		return nil, err
	}
	return s, nil
}

func liveNamespaces(ctx context.Context, client kubernetes.Interface, s *Set, scope LiveScope) ([]string, error) {
	if scope.AllNamespaces {
		l, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("listing namespaces: %w", err)
		}
		var out []string
		for i := range l.Items {
			n := &l.Items[i]
			s.Namespaces = append(s.Namespaces, n)
			s.setOrigin(Ref{Kind: "Namespace", Name: n.Name}, Origin{Cluster: true})
			out = append(out, n.Name)
		}
		return out, nil
	}
	for _, ns := range scope.Namespaces {
		n, err := client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading namespace %s: %w", ns, err)
		}
		s.Namespaces = append(s.Namespaces, n)
		s.setOrigin(Ref{Kind: "Namespace", Name: n.Name}, Origin{Cluster: true})
	}
	return scope.Namespaces, nil
}

// loadMesh reads Istio's mesh configuration (the istio ConfigMap), the
// injector's values (istio-sidecar-injector) and istiod's version and
// ENABLE_NATIVE_SIDECARS, each when present.
func loadMesh(ctx context.Context, client kubernetes.Interface, s *Set, scope LiveScope) error {
	if scope.Mesh != nil {
		s.Mesh = scope.Mesh
	} else {
		s.Mesh = DefaultMesh()
		var read []string
		for _, name := range []string{"istio", "istio-sidecar-injector"} {
			cm, err := client.CoreV1().ConfigMaps(scope.IstioNamespace).Get(ctx, name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("reading ConfigMap %s/%s: %w", scope.IstioNamespace, name, err)
			}
			top := map[string]any{"kind": "ConfigMap", "data": map[string]any{}}
			for k, v := range cm.Data {
				if k == "mesh" || k == "values" {
					top["data"].(map[string]any)[k] = v
				}
			}
			if len(top["data"].(map[string]any)) == 0 {
				continue
			}
			if err := s.Mesh.apply(top); err != nil {
				return fmt.Errorf("ConfigMap %s/%s: %w", scope.IstioNamespace, name, err)
			}
			read = append(read, "ConfigMap "+scope.IstioNamespace+"/"+name)
		}
		if len(read) > 0 {
			s.Mesh.Source = strings.Join(read, " and ") + " (the cluster)"
		} else {
			s.Mesh.Source = "Istio's defaults (no istio ConfigMap in " + scope.IstioNamespace + ")"
		}
	}
	istiod, err := client.AppsV1().Deployments(scope.IstioNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=istiod"})
	if err != nil && !apierrors.IsForbidden(err) {
		return fmt.Errorf("listing istiod in %s: %w", scope.IstioNamespace, err)
	}
	if err == nil {
		for _, d := range istiod.Items {
			readIstiod(s, d)
			break
		}
	}
	if s.Env.IstioVersion == nil && s.Mesh.IstioVersion != nil {
		s.Env.IstioVersion, s.Env.IstioSource = s.Mesh.IstioVersion, "the mesh configuration's tag"
	}
	return nil
}

// readIstiod takes Istio's version from istiod's image tag, and its
// ENABLE_NATIVE_SIDECARS.
func readIstiod(s *Set, d appsv1.Deployment) {
	for _, c := range d.Spec.Template.Spec.Containers {
		if _, tag, ok := strings.Cut(c.Image[strings.LastIndex(c.Image, "/")+1:], ":"); ok {
			if v, err := version.ParseGeneric(strings.TrimPrefix(tag, "v")); err == nil {
				s.Env.IstioVersion, s.Env.IstioSource = v, "istiod's image "+c.Image
			}
		}
		for _, e := range c.Env {
			if e.Name == "ENABLE_NATIVE_SIDECARS" && s.Mesh.NativeSidecars == "" {
				s.Mesh.NativeSidecars = e.Value
			}
		}
	}
}

func loadNamespace(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, s *Set, ns string) error {
	live := Origin{Cluster: true}
	deps, err := client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing deployments in %s: %w", ns, err)
	}
	sts, err := client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing statefulsets in %s: %w", ns, err)
	}
	svcs, err := client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing services in %s: %w", ns, err)
	}
	hpas, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing HPAs in %s: %w", ns, err)
	}
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing pods in %s: %w", ns, err)
	}
	for i := range deps.Items {
		if err := s.AddObject(&deps.Items[i], live, ns); err != nil {
			return err
		}
	}
	for i := range sts.Items {
		if err := s.AddObject(&sts.Items[i], live, ns); err != nil {
			return err
		}
	}
	for i := range svcs.Items {
		if err := s.AddObject(&svcs.Items[i], live, ns); err != nil {
			return err
		}
	}
	for i := range hpas.Items {
		if err := s.AddObject(&hpas.Items[i], live, ns); err != nil {
			return err
		}
	}
	for i := range pods.Items {
		if p := &pods.Items[i]; p.Status.Phase == corev1.PodRunning || p.Status.Phase == corev1.PodPending {
			if err := s.AddObject(p, live, ns); err != nil {
				return err
			}
		}
	}
	for _, kind := range []string{"VirtualService", "DestinationRule", "Sidecar"} {
		if err := loadIstio(ctx, dyn, s, ns, kind); err != nil {
			return err
		}
	}
	return nil
}

// loadIstio lists one Istio kind in a namespace, with the newest version
// the cluster serves; a missing CRD means none.
func loadIstio(ctx context.Context, dyn dynamic.Interface, s *Set, ns, kind string) error {
	resource := strings.ToLower(kind) + "s"
	for _, v := range istioAPIVersions {
		gvr := schema.GroupVersionResource{Group: "networking.istio.io", Version: v, Resource: resource}
		l, err := dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("listing %s (networking.istio.io/%s) in %s: %w", resource, v, ns, err)
		}
		for i := range l.Items {
			if err := s.AddIstio(&l.Items[i], Origin{Cluster: true}); err != nil {
				return err
			}
		}
		return nil
	}
	return nil
}

// loadScopes fills PS402's inputs: the clusters each injected workload's
// proxy holds (the inventory: the Sidecar that selects it, the namespace's
// or root namespace's default, else the whole mesh) against what its
// traffic needs (telemetry's destinations, else what a namespace default
// Sidecar keeps: its own namespace and the root namespace).
func loadScopes(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, s *Set, scope LiveScope) error {
	all, err := client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing services in all namespaces: %w", err)
	}
	root := s.Mesh.RootNamespace()
	count := func(ns string, hosts []string) int {
		n := 0
		for _, svc := range all.Items {
			name := svc.Name + "." + svc.Namespace + ".svc." + s.clusterDomain()
			if slices.ContainsFunc(hosts, func(h string) bool { return cluster.EgressHostMatches(h, ns, svc.Namespace, name) }) {
				n += max(1, len(svc.Spec.Ports))
			}
		}
		return n
	}
	s.Scopes = map[Ref]ConfigScope{}
	inventories := map[string]*cluster.Inventory{}
	add := func(kind string, meta metav1.ObjectMeta, tpl corev1.PodTemplateSpec) error {
		ns := meta.Namespace
		inv, ok := inventories[ns]
		if !ok {
			inv, err = cluster.ReadInventory(ctx, client, dyn, ns, cluster.InventoryOptions{ClusterDomain: s.clusterDomain(), RootNamespace: root})
			if err != nil {
				return err
			}
			inventories[ns] = inv
		}
		sc := ConfigScope{Holds: inv.Unscoped.Clusters, HoldsSource: "no Sidecar applies: every service of the mesh"}
		if inv.Default != nil {
			sc.Holds, sc.HoldsSource = inv.Default.Scope.Clusters, fmt.Sprintf("Sidecar %s/%s", inv.Default.Namespace, inv.Default.Name)
		}
		for _, side := range inv.Sidecars {
			if len(side.WorkloadSelector) > 0 && labels.SelectorFromSet(side.WorkloadSelector).Matches(labels.Set(tpl.Labels)) {
				sc.Holds, sc.HoldsSource = side.Scope.Clusters, fmt.Sprintf("Sidecar %s/%s", side.Namespace, side.Name)
				break
			}
		}
		sc.NeededHosts = []string{"./*", root + "/*"}
		sc.NeedsSource = "no telemetry: what a namespace default Sidecar keeps, its own namespace and " + root
		covered := scope.Telemetry != nil
		if c, ok := scope.Telemetry.(telemetryCoverage); ok && covered && !c.Covers(ns, meta.Name) {
			covered = false
			sc.NeedsSource = "no telemetry for this workload in the window (no outbound request recorded): what a namespace default Sidecar keeps, its own namespace and " + root
		}
		if covered {
			hosts, err := scope.Telemetry.OutboundHosts(ns, meta.Name)
			if err != nil {
				return fmt.Errorf("reading the traffic of %s %s/%s: %w", kind, ns, meta.Name, err)
			}
			sc.NeededHosts = []string{root + "/*"}
			for _, h := range hosts {
				hostNS := ns
				if parts := strings.Split(h, "."); len(parts) > 1 {
					hostNS = parts[1]
				}
				sc.NeededHosts = append(sc.NeededHosts, hostNS+"/"+h)
			}
			sc.NeedsSource = fmt.Sprintf("telemetry: %d destination service(s) called, and %s", len(hosts), root)
		}
		sc.Needs = count(ns, sc.NeededHosts)
		s.Scopes[Ref{Kind: kind, Namespace: ns, Name: meta.Name}] = sc
		return nil
	}
	for _, d := range s.Deployments {
		if err := add("Deployment", d.ObjectMeta, d.Spec.Template); err != nil {
			return err
		}
	}
	for _, st := range s.StatefulSets {
		if err := add("StatefulSet", st.ObjectMeta, st.Spec.Template); err != nil {
			return err
		}
	}
	return nil
}
