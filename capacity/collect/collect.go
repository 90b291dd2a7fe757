// Package collect checks a capacity plan as a person asks for it (Request,
// with DefaultRequest's defaults) and reads what it needs, in a number of
// requests that does not grow with the fleet: from the cluster, one paged listing
// per kind and namespace (Deployments, StatefulSets, HPAs, pods, services,
// endpoint slices, Sidecars) and Istio's two ConfigMaps; from Prometheus,
// the fixed set of fleet queries (prom.FleetQueries). It matches pods,
// HPAs, Sidecars and telemetry to each workload in memory, and hands
// capacity.Analyze a capacity.Fleet. It only reads.
package collect

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/capacity"
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/sizing"
)

// Scope says what to read.
type Scope struct {
	// Namespaces to plan; empty: every namespace.
	Namespaces []string
	// IstioNamespace holds Istio's ConfigMaps (default istio-system), and is
	// the root namespace a scoped Sidecar keeps.
	IstioNamespace string
	ClusterDomain  string
	// Telemetry is the window and peak rule (its Namespaces are set from
	// Namespaces).
	Telemetry prom.FleetQuery
}

// Sources are the clients to read from.
type Sources struct {
	Kube       kubernetes.Interface
	Dynamic    dynamic.Interface
	Prometheus *prom.Client
}

// Fleet reads the cluster and Prometheus for the scope.
func Fleet(ctx context.Context, src Sources, s Scope) (*capacity.Fleet, error) {
	if s.IstioNamespace == "" {
		s.IstioNamespace = cluster.DefaultMeshNamespace
	}
	if s.ClusterDomain == "" {
		s.ClusterDomain = cluster.DefaultClusterDomain
	}
	f := &capacity.Fleet{Namespaces: slices.Clone(s.Namespaces), Notes: []string{}}
	sv, err := cluster.ReadServerVersion(src.Kube)
	if err != nil {
		return nil, err
	}
	f.K8sVersion, f.K8sGitVersion = sv.Version, sv.GitVersion
	mesh, err := readMesh(ctx, src.Kube, s.IstioNamespace, f)
	if err != nil {
		return nil, err
	}
	k, err := readKube(ctx, src, s)
	if err != nil {
		return nil, err
	}
	q := s.Telemetry
	q.Namespaces = s.Namespaces
	before := src.Prometheus.QueriesSent()
	tel, err := src.Prometheus.Fleet(ctx, q)
	if err != nil {
		return nil, err
	}
	f.Telemetry = capacity.TelemetryRun{At: q.At, Window: q.Window, RateWindow: q.RateWindow, Quantile: q.Quantile,
		Queries: tel.Queries, QueriesSent: src.Prometheus.QueriesSent() - before, Elapsed: tel.Elapsed, Series: tel.Series}
	if iv, err := src.Prometheus.ScrapeInterval(ctx); err != nil {
		f.Telemetry.ScrapeInterval = prom.ScrapeInterval{From: err.Error()}
	} else {
		f.Telemetry.ScrapeInterval = iv
		if iv.Found && q.RateWindow < 2*iv.Interval {
			f.Notes = append(f.Notes, fmt.Sprintf("the rate window %s holds fewer than two samples at the scrape interval %s: rate() returns nothing; use a rate window of at least 4 x %s", q.RateWindow, iv.Interval, iv.Interval))
		}
	}
	names := map[prom.WorkloadKey][]cluster.WorkloadKind{}
	for _, w := range k.workloads {
		key := prom.WorkloadKey{Namespace: w.Namespace, Name: w.Name}
		names[key] = append(names[key], w.Kind)
	}
	for _, w := range k.workloads {
		cw := k.describe(w, mesh, tel.Of(prom.WorkloadKey{Namespace: w.Namespace, Name: w.Name}), s)
		if kinds := names[cw.Key()]; len(kinds) > 1 {
			cw.TelemetryNote = fmt.Sprintf("a Deployment and a StatefulSet are both named %s: Istio's telemetry names workloads by namespace and name only, so both carry the same figures", w.Name)
		}
		f.Workloads = append(f.Workloads, cw)
	}
	f.Notes = append(f.Notes, k.notes...)
	f.MeshSource = mesh.source
	return f, nil
}

// mesh is what Istio's ConfigMaps say of every sidecar.
type mesh struct {
	defaults cluster.ProxyConfig
	// resources are the injector's global.proxy.resources (Istio's own
	// defaults when the ConfigMap does not say).
	resources cluster.SidecarResources
	source    string
}

func readMesh(ctx context.Context, client kubernetes.Interface, ns string, f *capacity.Fleet) (mesh, error) {
	m := mesh{resources: cluster.IstioDefaultResources("global.proxy.resources not read")}
	mc, err := cluster.ReadMeshConfig(ctx, client, cluster.MeshConfigOptions{Namespace: ns})
	switch {
	case apierrors.IsForbidden(err):
		f.Notes = append(f.Notes, fmt.Sprintf("Istio's mesh configuration (configmap %s/istio) is not readable: its defaultConfig (concurrency) is not applied", ns))
	case err != nil:
		return m, err
	case mc.Found:
		m.defaults = mc.DefaultConfig
		m.source = mc.Source
	default:
		m.source = "Istio's defaults (no configmap " + ns + "/istio)"
	}
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, "istio-sidecar-injector", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		m.resources = cluster.IstioDefaultResources("no configmap " + ns + "/istio-sidecar-injector")
	case apierrors.IsForbidden(err):
		m.resources = cluster.IstioDefaultResources("configmap " + ns + "/istio-sidecar-injector not readable")
	case err != nil:
		return m, fmt.Errorf("reading configmap %s/istio-sidecar-injector: %w", ns, err)
	default:
		r, ok, err := injectorResources(cm.Data["values"], "configmap "+ns+"/istio-sidecar-injector global.proxy.resources")
		if err != nil {
			f.Notes = append(f.Notes, err.Error())
		}
		if ok {
			m.resources = r
		} else {
			m.resources = cluster.IstioDefaultResources("configmap " + ns + "/istio-sidecar-injector sets no global.proxy.resources")
		}
	}
	return m, nil
}

// injectorResources reads global.proxy.resources from the injector's
// values (JSON).
func injectorResources(values, source string) (cluster.SidecarResources, bool, error) {
	if values == "" {
		return cluster.SidecarResources{}, false, nil
	}
	var v struct {
		Global struct {
			Proxy struct {
				Resources *corev1.ResourceRequirements `json:"resources"`
			} `json:"proxy"`
		} `json:"global"`
	}
	if err := json.Unmarshal([]byte(values), &v); err != nil {
		return cluster.SidecarResources{}, false, fmt.Errorf("%s: the values are not JSON: %v", source, err)
	}
	r := v.Global.Proxy.Resources
	if r == nil {
		return cluster.SidecarResources{}, false, nil
	}
	get := func(l corev1.ResourceList, n corev1.ResourceName) *resource.Quantity {
		if q, ok := l[n]; ok {
			return &q
		}
		return nil
	}
	return cluster.SidecarResources{CPURequest: get(r.Requests, corev1.ResourceCPU), CPULimit: get(r.Limits, corev1.ResourceCPU),
		MemoryRequest: get(r.Requests, corev1.ResourceMemory), MemoryLimit: get(r.Limits, corev1.ResourceMemory), Source: source}, true, nil
}

// kube is everything listed from the cluster.
type kube struct {
	workloads   []cluster.Workload
	hpas        map[string]*autoscalingv2.HorizontalPodAutoscaler // kind/ns/name of the target
	pods        map[string][]corev1.Pod                           // by namespace
	services    *cluster.MeshServices
	inventories map[string]*cluster.Inventory
	root        string
	notes       []string
}

func readKube(ctx context.Context, src Sources, s Scope) (*kube, error) {
	k := &kube{hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, pods: map[string][]corev1.Pod{},
		inventories: map[string]*cluster.Inventory{}, root: s.IstioNamespace}
	lists := s.Namespaces
	if len(lists) == 0 {
		lists = []string{""}
	}
	for _, ns := range lists {
		ws, err := cluster.ListWorkloadsOf(ctx, src.Kube, ns, cluster.KindDeployment, cluster.KindStatefulSet)
		if err != nil {
			return nil, err
		}
		k.workloads = append(k.workloads, ws...)
		hpas, err := cluster.ListHPAs(ctx, src.Kube, ns)
		if err != nil {
			return nil, err
		}
		for i := range hpas {
			h := &hpas[i]
			ref := h.Spec.ScaleTargetRef
			k.hpas[ref.Kind+"/"+h.Namespace+"/"+ref.Name] = h
		}
		pods, err := cluster.ListAllPods(ctx, src.Kube, ns)
		if err != nil {
			return nil, err
		}
		for _, p := range pods {
			k.pods[p.Namespace] = append(k.pods[p.Namespace], p)
		}
	}
	slices.SortStableFunc(k.workloads, func(a, b cluster.Workload) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(string(a.Kind), string(b.Kind))
	})
	services, err := cluster.ReadMeshServices(ctx, src.Kube, s.ClusterDomain)
	if err != nil {
		return nil, err
	}
	k.services = services
	o := cluster.InventoryOptions{ClusterDomain: s.ClusterDomain, RootNamespace: s.IstioNamespace}
	for _, w := range k.workloads {
		if _, ok := k.inventories[w.Namespace]; ok {
			continue
		}
		inv, err := cluster.InventoryWith(ctx, src.Dynamic, w.Namespace, services, o)
		if err != nil {
			return nil, err
		}
		k.inventories[w.Namespace] = inv
	}
	return k, nil
}

// describe builds one workload of the plan from what was listed.
func (k *kube) describe(w cluster.Workload, m mesh, tel *prom.WorkloadTelemetry, s Scope) capacity.Workload {
	pods, err := cluster.PodsOf(w, k.pods[w.Namespace])
	cw := capacity.Workload{Kind: w.Kind, Namespace: w.Namespace, Name: w.Name, Replicas: w.Replicas,
		PodLabels: w.Template.Labels, Annotations: w.Template.Annotations, Telemetry: *tel}
	if err != nil {
		k.notes = append(k.notes, err.Error())
	}
	if w.Selector != nil {
		cw.SelectorLabels = w.Selector.MatchLabels
	}
	for i := range pods {
		if cluster.PodReady(&pods[i]) {
			cw.LivePods++
		}
	}
	sc, found := k.sidecar(w, pods, m, tel, &cw)
	cw.Containers = cluster.PodContainers(w.Template.Spec, sc, found)
	for _, c := range cw.Containers {
		if !c.Proxy && c.Role == sizing.RoleApp {
			cw.AppContainer = c.Name
			break
		}
	}
	if h, ok := k.hpas[string(w.Kind)+"/"+w.Namespace+"/"+w.Name]; ok {
		cw.HPA = hpaState(h)
	}
	if inv := k.inventories[w.Namespace]; inv != nil {
		cw.Config.Known = true
		cw.Config.Holds, cw.Config.HoldsSource = inv.Holds(w.Template.Labels)
		if called := prom.Called(tel.Outbound); len(called) > 0 || tel.InboundRequests.Found {
			cw.Config.ScopedHosts = ScopedHosts(called, k.root, s.ClusterDomain)
			cw.Config.Scoped = k.services.ScopeOf(w.Namespace, cw.Config.ScopedHosts)
			cw.Config.ScopedKnown = true
		}
	}
	return cw
}

// ScopedHosts are the egress hosts of a Sidecar keeping the services
// called (FQDNs; a host outside the cluster domain is kept in any
// namespace) and the root namespace.
func ScopedHosts(called []string, root, domain string) []string {
	hosts := []string{root + "/*"}
	for _, h := range called {
		ns := "*"
		if parts := strings.Split(h, "."); strings.HasSuffix(h, ".svc."+domain) && len(parts) > 2 {
			ns = parts[1]
		}
		hosts = append(hosts, ns+"/"+h)
	}
	return hosts
}

// sidecar finds the workload's sidecar in memory, in FindSidecar's order
// (the template's annotations, an istio-proxy container in the template,
// one in a running pod), then in the telemetry: a sidecar that Prometheus
// saw but the cluster does not show runs with the mesh's defaults.
func (k *kube) sidecar(w cluster.Workload, pods []corev1.Pod, m mesh, tel *prom.WorkloadTelemetry, cw *capacity.Workload) (cluster.Sidecar, bool) {
	st := &cw.Sidecar
	for _, key := range []string{sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit, sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit} {
		if _, ok := w.Template.Annotations[key]; ok {
			st.ResourceAnnotations = append(st.ResourceAnnotations, key)
		}
	}
	sc, found := cluster.Sidecar{}, false
	if r, ok, err := cluster.ResourcesFromAnnotations(w.Template.Annotations); err != nil {
		k.notes = append(k.notes, fmt.Sprintf("%s: %v: its sidecar's resources are taken as unset", w, err))
		sc, found = cluster.Sidecar{Kind: cluster.SidecarAnnotations, Resources: cluster.SidecarResources{Source: "pod-template annotations (unparsable)"}}, true
	} else if ok {
		sc, found = cluster.Sidecar{Kind: cluster.SidecarAnnotations, Resources: r}, true
		if shown, ok := cluster.SidecarInPodSpec(w.Template.Spec, "the pod template"); ok {
			sc.Kind, sc.Image = shown.Kind, shown.Image
		}
	} else if shown, ok := cluster.SidecarInPodSpec(w.Template.Spec, "the pod template"); ok {
		sc, found = shown, true
	} else {
		for _, p := range pods {
			if shown, ok := cluster.SidecarInPodSpec(p.Spec, "pod "+p.Name); ok {
				sc, found = shown, true
				break
			}
		}
	}
	st.Kind = string(sc.Kind)
	if !found && (tel.ProxyCPUPeak.Found || tel.ProxyMemoryMax.Found || tel.InboundRequests.Found) {
		sc, found = cluster.Sidecar{Kind: cluster.SidecarContainer, Resources: m.resources}, true
		st.Kind = "telemetry"
	}
	st.Found, st.Resources = found, sc.Resources
	if found {
		k.concurrency(w, m, st)
	}
	return sc, found
}

// concurrency is the sidecar's worker count as Istio resolves it: the
// pod's proxy.istio.io/config over the mesh's defaultConfig, else (Istio
// 1.18+) ceil(CPU limit), else one worker per node core.
func (k *kube) concurrency(w cluster.Workload, m mesh, st *capacity.SidecarState) {
	pc := cluster.ProxyConfig{}
	source := "the mesh's defaultConfig"
	if doc, ok := w.Template.Annotations[sizing.AnnotationProxyConfig]; ok {
		parsed, err := cluster.ParseProxyConfig(doc)
		if err != nil {
			k.notes = append(k.notes, fmt.Sprintf("%s: annotation %s: %v", w, sizing.AnnotationProxyConfig, err))
		} else {
			pc = parsed
			if parsed.Concurrency != nil {
				source = "annotation " + sizing.AnnotationProxyConfig
			}
		}
	}
	eff := pc.Over(m.defaults)
	switch {
	case eff.Concurrency != nil && *eff.Concurrency > 0:
		st.Concurrency, st.ConcurrencyKnown, st.ConcurrencySource = int(*eff.Concurrency), true, source
	case eff.Concurrency != nil:
		st.ConcurrencySource = "0 in " + source + ": one worker per node core"
	case st.Resources.CPULimit != nil && st.Resources.CPULimit.MilliValue() > 0:
		st.Concurrency = int(math.Ceil(float64(st.Resources.CPULimit.MilliValue()) / 1000))
		st.ConcurrencyKnown = true
		st.ConcurrencySource = "unset: ceil(CPU limit) (Istio 1.18+)"
	default:
		st.ConcurrencySource = "unset and no CPU limit: one worker per node core"
	}
}

// hpaState reads an HPA's CPU target.
func hpaState(h *autoscalingv2.HorizontalPodAutoscaler) *capacity.HPAState {
	s := &capacity.HPAState{Object: h, Name: h.Name, Max: h.Spec.MaxReplicas, Min: 1, Metric: capacity.HPAOther, CPUMetric: -1}
	if h.Spec.MinReplicas != nil {
		s.Min = *h.Spec.MinReplicas
	}
	for i, m := range h.Spec.Metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil:
			s.Metric, s.CPUMetric, s.TargetPercent = capacity.HPAResource, i, int(*m.Resource.Target.AverageUtilization)
			return s
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil && m.ContainerResource.Name == corev1.ResourceCPU:
			s.Metric, s.TargetContainer = capacity.HPAContainerResource, m.ContainerResource.Container
			if u := m.ContainerResource.Target.AverageUtilization; u != nil {
				s.TargetPercent = int(*u)
			}
		}
	}
	return s
}

// Result is a run's fleet as read and its plan.
type Result struct {
	Fleet  *capacity.Fleet
	Report *capacity.Report
}

// Plan reads the fleet and plans it.
func Plan(ctx context.Context, src Sources, s Scope, o capacity.Options) (*Result, error) {
	f, err := Fleet(ctx, src, s)
	if err != nil {
		return nil, err
	}
	r, err := capacity.Analyze(f, o)
	if err != nil {
		return nil, err
	}
	return &Result{Fleet: f, Report: r}, nil
}
