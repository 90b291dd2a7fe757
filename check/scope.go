package check

import (
	"fmt"
	"slices"
	"strings"

	networking "istio.io/api/networking/v1alpha3"

	"github.com/proxysizer/proxysizer/profiles"
)

// Thresholds for PS402: a proxy holding at least twice the clusters its
// traffic needs, and at least this many more.
const scopeExcessMinClusters = 20

// hasDefaultSidecar says whether a namespace has a Sidecar without a
// workload selector.
func (e *evaluation) hasDefaultSidecar(ns string) bool {
	return slices.ContainsFunc(e.set.Sidecars, func(sc IstioObject[*networking.Sidecar]) bool {
		return sc.Namespace == ns && len(sc.Spec.GetWorkloadSelector().GetLabels()) == 0
	})
}

func checkDefaultSidecar(e *evaluation) {
	root := e.mesh.RootNamespace()
	if e.hasDefaultSidecar(root) {
		return
	}
	var namespaces []string
	for _, w := range e.workloads {
		if w.injected && !slices.Contains(namespaces, w.ref.Namespace) {
			namespaces = append(namespaces, w.ref.Namespace)
		}
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		if e.hasDefaultSidecar(ns) {
			continue
		}
		sc := &networking.Sidecar{Egress: []*networking.IstioEgressListener{{Hosts: []string{"./*", root + "/*"}}}}
		ref := Ref{Kind: "Namespace", Name: ns}
		e.report(ref, ref.String(),
			fmt.Sprintf("namespace %s has injected workloads but no Sidecar without a workloadSelector, and the root namespace %s has none either: its proxies hold every service of the mesh", ns, root),
			Fix{Summary: fmt.Sprintf("scope the namespace's proxies to its own services and %s; add workload Sidecars (or hosts here) for the services they call elsewhere", root),
				Kind: fixManifest, Patch: newIstioManifest("networking.istio.io/v1", "Sidecar", ns, "default", sc)})
	}
}

func checkConfigScope(e *evaluation) {
	if e.set.Scopes == nil {
		e.notEvaluated("needs a cluster's inventory: run against a live cluster")
		return
	}
	perCluster := 0.0
	if p, err := profiles.Load(profiles.DefaultName); err == nil {
		perCluster = p.Memory.PerClusterBytes
	}
	for _, w := range e.workloads {
		sc, ok := e.set.Scopes[w.ref]
		if !ok || !w.injected {
			continue
		}
		excess := sc.Holds - sc.Needs
		if excess < scopeExcessMinClusters || sc.Holds < 2*sc.Needs {
			continue
		}
		selector := map[string]string{}
		for _, k := range []string{"app", "app.kubernetes.io/name"} {
			if v := w.tpl.Labels[k]; v != "" {
				selector[k] = v
				break
			}
		}
		if len(selector) == 0 {
			selector = w.tpl.Labels
		}
		side := &networking.Sidecar{
			WorkloadSelector: &networking.WorkloadSelector{Labels: selector},
			Egress:           []*networking.IstioEgressListener{{Hosts: sc.NeededHosts}},
		}
		memory := ""
		if perCluster > 0 {
			memory = fmt.Sprintf("; at %.0f KiB per cluster (the %s profile) that is about %.1f MiB in every replica", perCluster/1024, profiles.DefaultName, float64(excess)*perCluster/(1<<20))
		}
		e.report(w.ref, w.group(),
			fmt.Sprintf("the proxy holds %d clusters (%s) where its traffic needs %d (%s)%s", sc.Holds, sc.HoldsSource, sc.Needs, sc.NeedsSource, memory),
			Fix{Summary: "scope this workload's proxy to what it calls: egress hosts " + strings.Join(sc.NeededHosts, ", "),
				Kind: fixManifest, Patch: newIstioManifest("networking.istio.io/v1", "Sidecar", w.ref.Namespace, w.ref.Name, side)})
	}
}
