package check

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/sizing"
)

// AnnotationAppOnlyTarget records, on an HPA, the CPU utilisation target
// chosen for the app alone. PS205's fix writes it, so that a target that was
// already adjusted for the sidecar is recognised as such on the next run.
const AnnotationAppOnlyTarget = "proxysizer.io/app-only-cpu-target"

// hpaRecalculation is PS205's input: the HPA's pods as the Resource metric
// sees them.
type hpaRecalculation struct {
	appRequestMillicores     int64
	sidecarRequestMillicores int64
	sidecarSource            string
	appOnlyTarget            int
	appContainer             string
	k8s                      *version.Version
}

// recalculate applies plan's HPA rules to the figures, with the sidecar's
// CPU at the app's target taken as its request (no telemetry): the one
// place this package calls sizing's HPA core.
func recalculate(in hpaRecalculation) (sizing.HPA, error) {
	return sizing.RecalculateHPA(sizing.PodHPA{
		AppCPURequestMillicores:     in.appRequestMillicores,
		SidecarCPURequestMillicores: in.sidecarRequestMillicores,
		SidecarCPURequestSource:     in.sidecarSource,
		TargetPercent:               in.appOnlyTarget,
		AppContainer:                in.appContainer,
		K8sVersion:                  in.k8s,
		SidecarCPU:                  sizing.SidecarCPUAssumedRequest(in.sidecarRequestMillicores, nil),
	})
}

// utilizationMetric finds the HPA's Resource metric for a resource with a
// Utilization target; -1 when there is none.
func utilizationMetric(h *autoscalingv2.HorizontalPodAutoscaler, name corev1.ResourceName) int {
	for i, m := range h.Spec.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == name &&
			m.Resource.Target.Type == autoscalingv2.UtilizationMetricType && m.Resource.Target.AverageUtilization != nil {
			return i
		}
	}
	return -1
}

// appOnlyTarget is the target chosen for the app alone: the annotation
// when set, else the HPA's own target.
func appOnlyTarget(h *autoscalingv2.HorizontalPodAutoscaler, current int) (int, bool, error) {
	v, ok := h.Annotations[AnnotationAppOnlyTarget]
	if !ok {
		return current, false, nil
	}
	var t int
	if _, err := fmt.Sscanf(v, "%d", &t); err != nil || t < 1 || t > 100 {
		return 0, true, fmt.Errorf("annotation %s=%q is not a percentage 1..100", AnnotationAppOnlyTarget, v)
	}
	return t, true, nil
}
