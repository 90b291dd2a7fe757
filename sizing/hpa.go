package sizing

import (
	"fmt"
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/model"
)

// HPA is the recalculated autoscaling target. The HPA's Resource metric
// averages over all containers: utilisation = sum of usage / sum of requests,
// so a sidecar moves the point where the app's own CPU triggers scaling.
type HPA struct {
	AppCPURequestMillicores     int64  `json:"app_cpu_request_millicores"`
	SidecarCPURequestMillicores int64  `json:"sidecar_cpu_request_millicores"`
	SidecarCPURequestSource     string `json:"sidecar_cpu_request_source"`
	OriginalTargetPercent       int    `json:"original_target_percent"`
	// OriginalAbsoluteTargetMillicores is the app CPU at which the app-only
	// HPA reached its target: request x target.
	OriginalAbsoluteTargetMillicores float64 `json:"original_absolute_target_millicores"`

	// RequestWeightedTargetPercent is the seed's formula: original absolute
	// target / sum of the containers' CPU requests.
	RequestWeightedTargetPercent float64 `json:"request_weighted_target_percent"`
	// SidecarCPUAtAppTargetMillicores is the sidecar's CPU at the per-pod load
	// where the app reaches its original absolute target.
	SidecarCPUAtAppTargetMillicores float64 `json:"sidecar_cpu_at_app_target_millicores"`
	SidecarCPUAtAppTargetBasis      string  `json:"sidecar_cpu_at_app_target_basis"`
	// UsageAwareTargetPercent also counts the sidecar's own CPU: the pod's
	// averaged utilisation when the app is at its original absolute target.
	UsageAwareTargetPercent float64 `json:"usage_aware_target_percent"`

	ManifestTargetPercent int32  `json:"manifest_target_percent"`
	ManifestTargetReason  string `json:"manifest_target_reason"`

	// AppCPUAtTarget is where the app's own CPU sits when the HPA reads its
	// target, for each choice: the comparison that shows why the target moves.
	AppCPUAtTarget AppCPUAtTarget `json:"app_cpu_at_target_millicores"`

	RecommendContainerResource bool                     `json:"recommend_container_resource"`
	MetricReason               string                   `json:"metric_reason"`
	Metric                     autoscalingv2.MetricSpec `json:"metric"`
	Notes                      []string                 `json:"notes"`
}

// AppCPUAtTarget compares the app CPU at which each target is reached.
type AppCPUAtTarget struct {
	Original        float64 `json:"original_app_only"`
	UnchangedTarget float64 `json:"unchanged_target_with_sidecar"`
	RequestWeighted float64 `json:"request_weighted_target"`
	ManifestTarget  float64 `json:"manifest_target"`
}

// containerResourceDefaultOn is the first Kubernetes version with the
// ContainerResource metric on by default (beta in 1.27, GA in 1.30).
var containerResourceDefaultOn = version.MajorMinor(1, 27)

// sidecarLoad is the sidecar's CPU as a line in the app's CPU:
// sidecar = base + slope x app. With the app's cost per 1000 RPS known both
// grow with the inbound rate; without it the sidecar is held at its CPU at the
// planned per-pod load (slope 0).
type sidecarLoad struct{ base, slope float64 }

func (l sidecarLoad) at(appMillicores float64) float64 { return l.base + l.slope*appMillicores }

// appAt solves (app + sidecar(app)) / requests = percent/100 for app.
func (l sidecarLoad) appAt(percent, requestsMillicores float64) float64 {
	return (percent/100*requestsMillicores - l.base) / (1 + l.slope)
}

func recommendHPA(in Input, p Plan, cost model.CPUCost) (HPA, error) {
	h := in.HPA
	if h.AppCPURequestMillicores <= 0 || h.TargetPercent < 1 || h.TargetPercent > 100 {
		return HPA{}, fmt.Errorf("hpa: app CPU request must be > 0 and target within 1..100, got %dm and %d%%", h.AppCPURequestMillicores, h.TargetPercent)
	}
	out := HPA{
		AppCPURequestMillicores:     h.AppCPURequestMillicores,
		SidecarCPURequestMillicores: p.Sidecar.CPURequestMillicores,
		SidecarCPURequestSource:     "recommended request",
		OriginalTargetPercent:       h.TargetPercent,
		Notes:                       []string{},
	}
	if h.SidecarCPURequestMillicores > 0 {
		out.SidecarCPURequestMillicores = h.SidecarCPURequestMillicores
		out.SidecarCPURequestSource = "--sidecar-cpu-request"
	}
	app := float64(h.AppCPURequestMillicores)
	requests := app + float64(out.SidecarCPURequestMillicores)
	absTarget := app * float64(h.TargetPercent) / 100
	out.OriginalAbsoluteTargetMillicores = absTarget
	requestWeighted := absTarget / requests * 100
	out.RequestWeightedTargetPercent = round1(requestWeighted)

	load := sidecarLoadFor(in, p, cost, &out)
	out.SidecarCPUAtAppTargetMillicores = round1(load.at(absTarget))
	usageAware := (absTarget + load.at(absTarget)) / requests * 100
	out.UsageAwareTargetPercent = round1(usageAware)

	out.ManifestTargetPercent = int32(max(1, math.Floor(usageAware+1e-9)))
	out.ManifestTargetReason = fmt.Sprintf("floor of the usage-aware %.1f%%: the HPA truncates its measured utilisation to an integer, so with target %d it reads exactly the target when the app is at its original %.0fm, as the app-only HPA did; rounding up would let the app run up to one point of the pod's %.0fm requests past it. The 10%% tolerance then holds as before: no scaling while the reading stays within %d +/- 10%%",
		usageAware, out.ManifestTargetPercent, absTarget, requests, out.ManifestTargetPercent)
	if sidecarAtTarget := load.at(absTarget); sidecarAtTarget > float64(out.SidecarCPURequestMillicores) {
		appendWarning(&out, "at the app's target the sidecar uses more CPU than its request (%.0fm against %dm): the scheduler under-reserves the pod and the target rises to %.1f%%; raise the sidecar's request",
			sidecarAtTarget, out.SidecarCPURequestMillicores, usageAware)
	}

	out.AppCPUAtTarget = AppCPUAtTarget{
		Original:        round1(absTarget),
		UnchangedTarget: round1(load.appAt(float64(h.TargetPercent), requests)),
		RequestWeighted: round1(load.appAt(requestWeighted, requests)),
		ManifestTarget:  round1(load.appAt(float64(out.ManifestTargetPercent), requests)),
	}
	chooseMetric(h, &out)
	return out, nil
}

func sidecarLoadFor(in Input, p Plan, cost model.CPUCost, out *HPA) sidecarLoad {
	h := in.HPA
	if h.AppCoresPerKRPS > 0 {
		// app millicores = AppCoresPerKRPS x inbound RPS, so inbound RPS = app / AppCoresPerKRPS
		// (both per 1000), and the sidecar carries hops x inbound.
		slope := cost.CoresPerKRPS * p.Hops.Total / h.AppCoresPerKRPS
		inboundAtTarget := float64(h.AppCPURequestMillicores) * float64(h.TargetPercent) / 100 / h.AppCoresPerKRPS
		out.SidecarCPUAtAppTargetBasis = fmt.Sprintf("--app-cpu-per-krps %.3f: the app reaches its target at %.0f inbound RPS per pod, %.0f through the sidecar",
			h.AppCoresPerKRPS, inboundAtTarget, inboundAtTarget*p.Hops.Total)
		return sidecarLoad{base: cost.IdleCores * 1000, slope: slope}
	}
	at := cost.CoresAt(p.SidecarRPSPerPod) * 1000
	out.SidecarCPUAtAppTargetBasis = fmt.Sprintf("the planned %.0f sidecar RPS per pod (no --app-cpu-per-krps): assumes the app reaches its target at the planned per-pod load", p.SidecarRPSPerPod)
	out.Notes = append(out.Notes, "assumption: the app reaches its CPU target at the planned per-pod load; pass --app-cpu-per-krps to tie the sidecar's CPU to the app's")
	return sidecarLoad{base: at}
}

func chooseMetric(h *HPAInput, out *HPA) {
	resource := autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: utilization(out.ManifestTargetPercent),
		},
	}
	out.Notes = append(out.Notes,
		"every container of the pod needs a CPU request (the sidecar included, and native sidecars from Kubernetes 1.29): one without makes the Resource metric fail with \"missing request for cpu\" and the HPA show <unknown>")
	switch {
	case h.K8sVersion == nil:
		out.Metric = resource
		out.MetricReason = fmt.Sprintf("Resource metric at %d%%: no --k8s-version given; from Kubernetes 1.27 a ContainerResource metric on container %q keeps the original %d%% unchanged", out.ManifestTargetPercent, h.AppContainer, h.TargetPercent)
	case h.K8sVersion.AtLeast(containerResourceDefaultOn):
		out.RecommendContainerResource = true
		out.Metric = autoscalingv2.MetricSpec{
			Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name:      corev1.ResourceCPU,
				Container: h.AppContainer,
				Target:    utilization(int32(h.TargetPercent)),
			},
		}
		out.MetricReason = fmt.Sprintf("ContainerResource on container %q at the original %d%%: Kubernetes %s has it on by default (beta 1.27, GA 1.30), and it ignores the sidecar entirely", h.AppContainer, h.TargetPercent, h.K8sVersion)
	default:
		out.Metric = resource
		out.MetricReason = fmt.Sprintf("Resource metric at %d%%: Kubernetes %s has ContainerResource only behind the HPAContainerMetrics feature gate (alpha from 1.20, on by default from 1.27)", out.ManifestTargetPercent, h.K8sVersion)
	}
}

func utilization(percent int32) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &percent}
}

func appendWarning(h *HPA, format string, args ...any) {
	h.Notes = append(h.Notes, "warning: "+fmt.Sprintf(format, args...))
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
