package check

import (
	"fmt"
	"math"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/sizing"
)

// concurrencyFromLimit is the first Istio whose unset concurrency follows
// the CPU limit (before it sidecars defaulted to 2 workers).
var concurrencyFromLimit = version.MajorMinor(1, 18)

// fullAnnotations are the four resource annotations, the set ones kept and
// the missing ones filled from the mesh defaults, as a pod-template patch.
func (w *workload) fullAnnotations(mesh *Mesh) (map[string]string, []string) {
	defaults := baselineResources(cluster.IstioDefaultResources(""))
	if mesh.ProxyResources != nil {
		defaults = *mesh.ProxyResources
	}
	from := map[string]struct {
		list corev1.ResourceList
		name corev1.ResourceName
	}{
		sizing.AnnotationProxyCPU: {defaults.Requests, corev1.ResourceCPU}, sizing.AnnotationProxyCPULimit: {defaults.Limits, corev1.ResourceCPU},
		sizing.AnnotationProxyMemory: {defaults.Requests, corev1.ResourceMemory}, sizing.AnnotationProxyMemoryLimit: {defaults.Limits, corev1.ResourceMemory},
	}
	out := map[string]string{}
	var filled []string
	for _, k := range resourceAnnotations {
		if v, ok := w.annotations()[k]; ok {
			out[k] = v
			continue
		}
		if q, ok := from[k].list[from[k].name]; ok {
			out[k] = q.String()
			filled = append(filled, k+"="+q.String())
		}
	}
	return out, filled
}

func checkPartialAnnotations(e *evaluation) {
	for _, w := range e.workloads {
		if !w.injected {
			continue
		}
		var set, missing []string
		for _, k := range resourceAnnotations {
			if _, ok := w.annotations()[k]; ok {
				set = append(set, k)
			} else {
				missing = append(missing, k)
			}
		}
		if len(set) == 0 || len(missing) == 0 {
			continue
		}
		// plan --cpu-limit none writes three annotations and an explicit
		// concurrency on purpose: no CPU limit, workers fixed.
		if slices.Equal(missing, []string{sizing.AnnotationProxyCPULimit}) && w.proxy.GetConcurrency().GetValue() > 0 {
			continue
		}
		a := w.annotations()
		var effects []string
		for _, k := range missing {
			switch k {
			case sizing.AnnotationProxyCPU:
				if l, ok := a[sizing.AnnotationProxyCPULimit]; ok {
					effects = append(effects, "the CPU request defaults to the limit "+l)
				} else {
					effects = append(effects, "no CPU request (an HPA's CPU metric then fails)")
				}
			case sizing.AnnotationProxyCPULimit:
				effects = append(effects, "no CPU limit (an unset concurrency then means one Envoy worker per node core)")
			case sizing.AnnotationProxyMemory:
				if l, ok := a[sizing.AnnotationProxyMemoryLimit]; ok {
					effects = append(effects, "the memory request defaults to the limit "+l)
				} else {
					effects = append(effects, "no memory request")
				}
			case sizing.AnnotationProxyMemoryLimit:
				effects = append(effects, "no memory limit")
			}
		}
		ann, filled := w.fullAnnotations(e.mesh)
		e.report(w.ref, w.group(),
			fmt.Sprintf("only %s of the four sidecar resource annotations set: Istio then merges nothing from the mesh defaults, so the proxy gets %s", strings.Join(set, ", "), strings.Join(effects, ", ")),
			Fix{Summary: "set all four annotations; the missing ones here carry the mesh defaults (" + strings.Join(filled, ", ") + "): size them with proxysizer plan or sweep",
				Kind: fixStrategic, Target: w.patchTarget(), Patch: podTemplatePatch(ann, nil, nil)})
	}
}

// hpaContainer is one container the HPA's metric divides by.
type hpaContainer struct {
	name      string
	resources corev1.ResourceRequirements
	sidecar   bool
}

// hpaContainers are the containers a Resource metric sums: the app's,
// native sidecars (counted from Kubernetes 1.29) and the injected proxy.
func (w *workload) hpaContainers(k8s *version.Version) []hpaContainer {
	var out []hpaContainer
	countInit := k8s == nil || k8s.AtLeast(nativeK8sBeta)
	for _, c := range w.tpl.Spec.InitContainers {
		if c.Name != proxyName && isRestartable(c) && countInit {
			out = append(out, hpaContainer{name: c.Name, resources: c.Resources})
		}
	}
	for _, c := range w.tpl.Spec.Containers {
		if c.Name != proxyName {
			out = append(out, hpaContainer{name: c.Name, resources: c.Resources})
		}
	}
	if w.injected && (!w.native || countInit) {
		out = append(out, hpaContainer{name: proxyName, resources: w.sidecar, sidecar: true})
	}
	return out
}

func checkRequestsUnderHPA(e *evaluation) {
	for _, w := range e.workloads {
		for _, h := range w.hpas {
			for _, m := range h.Spec.Metrics {
				name, only := utilizationResource(m)
				if name == "" {
					continue
				}
				for _, c := range w.hpaContainers(e.set.Env.K8sVersion) {
					if only != "" && c.name != only {
						continue
					}
					if _, ok := request(c.resources, name); ok {
						continue
					}
					e.report(w.ref, w.group(),
						fmt.Sprintf("HPA %s scales on %s utilisation but container %q has no %s request: the metric fails (\"missing request for %s\") and the HPA shows <unknown>", h.Name, name, c.name, name, name),
						w.requestFix(e.mesh, c, name))
				}
			}
		}
	}
}

// utilizationResource is the resource a metric reads as a utilisation, and
// the one container it is limited to ("" for the whole pod).
func utilizationResource(m autoscalingv2.MetricSpec) (corev1.ResourceName, string) {
	switch {
	case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Target.Type == autoscalingv2.UtilizationMetricType:
		return m.Resource.Name, ""
	case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil && m.ContainerResource.Target.Type == autoscalingv2.UtilizationMetricType:
		return m.ContainerResource.Name, m.ContainerResource.Container
	}
	return "", ""
}

func (w *workload) requestFix(mesh *Mesh, c hpaContainer, name corev1.ResourceName) Fix {
	if c.sidecar {
		ann, filled := w.fullAnnotations(mesh)
		return Fix{Summary: "give the sidecar every resource through all four annotations (" + strings.Join(filled, ", ") + " from the mesh defaults)",
			Kind: fixStrategic, Target: w.patchTarget(), Patch: podTemplatePatch(ann, nil, nil)}
	}
	placeholder := map[corev1.ResourceName]string{corev1.ResourceCPU: "100m", corev1.ResourceMemory: "128Mi"}[name]
	list := "containers"
	for _, ic := range w.tpl.Spec.InitContainers {
		if ic.Name == c.name {
			list = "initContainers"
		}
	}
	return Fix{Summary: fmt.Sprintf("give container %q a %s request (%s is a placeholder: use its measured usage)", c.name, name, placeholder),
		Kind: fixStrategic, Target: w.patchTarget(),
		Patch: podTemplatePatch(nil, nil, map[string]any{list: []any{map[string]any{"name": c.name, "resources": map[string]any{"requests": map[string]any{string(name): placeholder}}}}})}
}

// concurrency is the effective ProxyConfig concurrency; set is false when
// unset (Istio then derives it).
func (w *workload) concurrency() (int32, bool) {
	c := w.proxy.GetConcurrency()
	if c == nil {
		return 0, false
	}
	return c.GetValue(), true
}

func (w *workload) cpuLimit() (resource.Quantity, bool) {
	q, ok := w.sidecar.Limits[corev1.ResourceCPU]
	return q, ok
}

func checkConcurrencyNoLimit(e *evaluation) {
	for _, w := range e.workloads {
		if !w.injected {
			continue
		}
		conc, set := w.concurrency()
		limit, hasLimit := w.cpuLimit()
		var msg string
		switch {
		case set && conc == 0:
			msg = "concurrency is 0: Envoy starts one worker per CPU of the node"
			if hasLimit {
				msg += ", though its CPU limit is " + limit.String()
			}
		case !set && !hasLimit:
			if v := e.set.Env.IstioVersion; v != nil && !v.AtLeast(concurrencyFromLimit) {
				continue // before 1.18 an unset concurrency meant 2 workers
			}
			msg = "concurrency is unset and the sidecar has no CPU limit (" + w.sidecarWhy + "): Istio derives the workers from the limit, so without one the proxy starts one worker per CPU of the node it lands on"
		default:
			continue
		}
		want := int64(2)
		if req, ok := request(w.sidecar, corev1.ResourceCPU); ok {
			want = max(want, int64(math.Ceil(float64(req.MilliValue())/1000)))
		}
		e.report(w.ref, w.group(), msg,
			Fix{Summary: fmt.Sprintf("fix the worker count: concurrency %d (size it with proxysizer plan or sweep; a CPU limit of as many cores also bounds it)", want),
				Kind: fixStrategic, Target: w.patchTarget(),
				Patch: podTemplatePatch(w.withProxyConfig(map[string]any{"concurrency": want}), nil, nil)})
	}
}

func checkConcurrencyAboveLimit(e *evaluation) {
	for _, w := range e.workloads {
		if !w.injected {
			continue
		}
		conc, set := w.concurrency()
		limit, hasLimit := w.cpuLimit()
		if !set || conc <= 0 || !hasLimit || limit.MilliValue() <= 0 {
			continue
		}
		cores := int32(math.Ceil(float64(limit.MilliValue()) / 1000))
		if conc <= cores {
			continue
		}
		e.report(w.ref, w.group(),
			fmt.Sprintf("concurrency %d is above the sidecar's CPU limit %s rounded up (%d): %d busy workers exhaust a %s quota early in each 100 ms period and stall until the next", conc, limit.String(), cores, conc, limit.String()),
			Fix{Summary: fmt.Sprintf("one worker per core of the limit: concurrency %d (or raise %s to %d)", cores, sizing.AnnotationProxyCPULimit, conc),
				Kind: fixStrategic, Target: w.patchTarget(),
				Patch: podTemplatePatch(w.withProxyConfig(map[string]any{"concurrency": cores}), nil, nil)})
	}
}

func checkHPATarget(e *evaluation) {
	for _, w := range e.workloads {
		if !w.injected {
			continue
		}
		for _, h := range w.hpas {
			e.checkOneHPA(w, h)
		}
	}
}

func (e *evaluation) checkOneHPA(w *workload, h *autoscalingv2.HorizontalPodAutoscaler) {
	idx := utilizationMetric(h, corev1.ResourceCPU)
	if idx < 0 {
		return
	}
	current := int(*h.Spec.Metrics[idx].Resource.Target.AverageUtilization)
	in := hpaRecalculation{k8s: e.set.Env.K8sVersion}
	for _, c := range w.hpaContainers(e.set.Env.K8sVersion) {
		q, ok := request(c.resources, corev1.ResourceCPU)
		if !ok {
			return // PS202 reports it: no utilisation to adjust
		}
		if c.sidecar {
			in.sidecarRequestMillicores, in.sidecarSource = q.MilliValue(), w.sidecarWhy
			continue
		}
		in.appRequestMillicores += q.MilliValue()
		if in.appContainer == "" {
			in.appContainer = c.name
		}
	}
	if in.sidecarRequestMillicores == 0 || in.appRequestMillicores == 0 {
		return
	}
	target, annotated, err := appOnlyTarget(h, current)
	if err != nil {
		e.assumption("HPA %s/%s: %v; its own %d%% is taken as the app-only target", h.Namespace, h.Name, err, current)
		target = current
	}
	in.appOnlyTarget = target
	rec, err := recalculate(in)
	if err != nil {
		e.assumption("HPA %s/%s: %v", h.Namespace, h.Name, err)
		return
	}
	if annotated && int32(current) == rec.ManifestTargetPercent {
		return // adjusted already: the annotation says from which app-only target
	}
	e.assumption("PS205 takes the sidecar's CPU at the app's target as its request; a measured figure (proxysizer sweep, container_cpu_usage_seconds_total{container=\"istio-proxy\"}) refines the target: proxysizer hpa --sidecar-cpu-usage")
	msg := fmt.Sprintf("HPA %s scales on pod CPU at %d%% of app %s + sidecar %s: the app then scales at %sm instead of the %sm it was tuned for (%d%% of its own request)",
		h.Name, current, millis(in.appRequestMillicores), millis(in.sidecarRequestMillicores), fmtMilli(rec.AppCPUAtTarget.UnchangedTarget), fmtMilli(rec.OriginalAbsoluteTargetMillicores), target)
	if annotated {
		msg = fmt.Sprintf("HPA %s is at %d%%, but its app-only target %d%% (%s) with a sidecar %s needs %d%%", h.Name, current, target, AnnotationAppOnlyTarget, millis(in.sidecarRequestMillicores), rec.ManifestTargetPercent)
	} else {
		msg += fmt.Sprintf("; %d%% is taken as the app-only target (if it was already adjusted, record the app-only one in the %s annotation)", current, AnnotationAppOnlyTarget)
	}
	corrected := h.DeepCopy()
	corrected.TypeMeta = metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"}
	corrected.ObjectMeta = metav1.ObjectMeta{Name: h.Name, Namespace: h.Namespace, Labels: h.Labels, Annotations: map[string]string{}}
	for k, v := range h.Annotations {
		if k != "kubectl.kubernetes.io/last-applied-configuration" {
			corrected.Annotations[k] = v
		}
	}
	corrected.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	corrected.Spec.Metrics[idx] = rec.Metric
	summary := rec.MetricReason
	if !rec.RecommendContainerResource {
		corrected.Annotations[AnnotationAppOnlyTarget] = fmt.Sprint(target)
		summary = fmt.Sprintf("%s; %s records the app-only %d%% so the next run knows the target is adjusted", rec.MetricReason, AnnotationAppOnlyTarget, target)
	}
	patch, err := sizing.CleanObject(corrected)
	if err != nil {
		patch = []byte(fmt.Sprintf("# cannot render the HPA: %v\n", err))
	}
	ref := Ref{Kind: "HorizontalPodAutoscaler", Namespace: h.Namespace, Name: h.Name}
	e.report(ref, w.group(), msg, Fix{Summary: summary, Kind: fixManifest, Patch: string(patch)})
}

func millis(m int64) string { return resource.NewMilliQuantity(m, resource.DecimalSI).String() }

func fmtMilli(x float64) string { return fmt.Sprintf("%.0f", x) }
