package sizing

import (
	"fmt"
	"math"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/model"
)

// HPA is the recalculated autoscaling target. The HPA's Resource metric
// averages over all containers: utilisation = sum of usage / sum of requests,
// so a sidecar moves the point where the app's own CPU triggers scaling.
type HPA struct {
	AppCPURequestMillicores     int64 `json:"app_cpu_request_millicores"`
	SidecarCPURequestMillicores int64 `json:"sidecar_cpu_request_millicores"`
	// SidecarCPURequestSource says where the sidecar's request comes from.
	SidecarCPURequestSource string `json:"sidecar_cpu_request_source"`
	OriginalTargetPercent   int    `json:"original_target_percent"`
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

	// aboveRequest is the note that the sidecar needs more than its
	// request at the app's target ("" when it does not).
	aboveRequest string
}

// SidecarAboveRequest is the warning, among the notes, that the sidecar
// uses more CPU than its request when the app is at its target; "" when
// it does not.
func (h HPA) SidecarAboveRequest() string { return h.aboveRequest }

// AppCPUAtTarget compares the app CPU at which each target is reached.
type AppCPUAtTarget struct {
	Original        float64 `json:"original_app_only"`
	UnchangedTarget float64 `json:"unchanged_target_with_sidecar"`
	RequestWeighted float64 `json:"request_weighted_target"`
	ManifestTarget  float64 `json:"manifest_target"`
}

// PodHPA is what the HPA recalculation needs, for a planned HPA and a live
// one alike: the pod's CPU requests, the HPA's target, and the sidecar's CPU
// when the app runs at that target.
type PodHPA struct {
	// AppCPURequestMillicores is the sum of the app containers' requests.
	AppCPURequestMillicores     int64
	SidecarCPURequestMillicores int64 // 0: none
	SidecarCPURequestSource     string
	// TargetPercent is the HPA's CPU utilisation target, chosen for the app
	// alone.
	TargetPercent int
	// AppContainer is the container a ContainerResource metric targets.
	AppContainer string
	// K8sVersion is the cluster's version; nil when unknown.
	K8sVersion *version.Version
	SidecarCPU SidecarCPUAtTarget
	// Names shows the inputs a remark refers to in the caller's words;
	// a remark asks for an input only where Names has a name for it
	// (the caller takes it), and otherwise states the fact.
	Names input.Names
}

// SidecarCPUAtTarget is the sidecar's CPU as a line in the app's CPU:
// BaseMillicores + PerAppMillicore x the app's millicores. A figure given
// directly (a measurement) is a flat line.
type SidecarCPUAtTarget struct {
	BaseMillicores  float64
	PerAppMillicore float64
	// Basis says where the line comes from.
	Basis string
	// Assumption, when set, is what the line assumes, for the notes.
	Assumption string
}

func (l SidecarCPUAtTarget) at(appMillicores float64) float64 {
	return l.BaseMillicores + l.PerAppMillicore*appMillicores
}

// appAt solves (app + sidecar(app)) / requests = percent/100 for app.
func (l SidecarCPUAtTarget) appAt(percent, requestsMillicores float64) float64 {
	return (percent/100*requestsMillicores - l.BaseMillicores) / (1 + l.PerAppMillicore)
}

// SidecarCPUFromCost derives the sidecar's CPU at the app's target from its
// cost profile and the load. With the app's CPU per 1000 inbound RPS known,
// both grow with the inbound rate (the sidecar carries hops x inbound);
// without it the sidecar is held at its CPU at the planned per-pod load. n
// words the basis: where the caller takes the app's CPU per 1000 RPS as an
// input, the basis names it.
func SidecarCPUFromCost(cost model.CPUCost, hops, plannedSidecarRPS, appCoresPerKRPS, appAbsoluteTargetMillicores float64, n input.Names) SidecarCPUAtTarget {
	if appCoresPerKRPS > 0 {
		// app millicores = appCoresPerKRPS x inbound RPS, so inbound RPS =
		// app / appCoresPerKRPS (both per 1000).
		inbound := appAbsoluteTargetMillicores / appCoresPerKRPS
		sidecarRPS := inbound * hops
		appCost := ask(n, FieldAppCPUPerKRPS, "%s %.3f", fmt.Sprintf("the app's %.3f cores per 1000 inbound RPS", appCoresPerKRPS), appCoresPerKRPS)
		// The sidecar's CPU as a line in the app's, tangent to the cost
		// curve where the app reaches its target: exact there, and the
		// curve itself for a linear cost.
		per := cost.MarginalCoresPerKRPS(sidecarRPS) * hops / appCoresPerKRPS
		return SidecarCPUAtTarget{
			BaseMillicores:  cost.CoresAt(sidecarRPS)*1000 - per*appAbsoluteTargetMillicores,
			PerAppMillicore: per,
			Basis: fmt.Sprintf("%s: the app reaches its target at %.0f inbound RPS per pod, %.0f through the sidecar",
				appCost, inbound, sidecarRPS),
		}
	}
	unknown := ask(n, FieldAppCPUPerKRPS, "no %s", "the app's CPU per 1000 RPS not known")
	assumption := ask(n, FieldAppCPUPerKRPS, "pass %s to tie the sidecar's CPU to the app's", "the app's CPU per 1000 RPS would tie the sidecar's CPU to the app's")
	return SidecarCPUAtTarget{
		BaseMillicores: cost.CoresAt(plannedSidecarRPS) * 1000,
		Basis:          fmt.Sprintf("the planned %.0f sidecar RPS per pod (%s): assumes the app reaches its target at the planned per-pod load", plannedSidecarRPS, unknown),
		Assumption:     "assumption: the app reaches its CPU target at the planned per-pod load; " + assumption,
	}
}

// SidecarCPUGiven is a figure for the sidecar's CPU at the app's target
// given directly, such as a measurement; basis says where it comes from.
func SidecarCPUGiven(millicores float64, basis string) SidecarCPUAtTarget {
	return SidecarCPUAtTarget{BaseMillicores: millicores, Basis: basis}
}

// SidecarCPUAssumedRequest takes the sidecar's CPU at the app's target to be
// its request, when nothing better is known; where the caller takes the
// sidecar's CPU usage as an input (n has a name for it), the basis asks
// for it.
func SidecarCPUAssumedRequest(requestMillicores int64, n input.Names) SidecarCPUAtTarget {
	basis := "assumed equal to the sidecar's CPU request" + ask(n, FieldSidecarCPUUsage, "; pass %s with a measured figure", "")
	return SidecarCPUAtTarget{BaseMillicores: float64(requestMillicores), Basis: basis}
}

// ask words a remark's remedy in one of two ways: where the caller takes
// input f (n has a name for it), the user is asked to give it (asks, with
// f for its first verb, then args); otherwise the remark says in domain
// words what would help, or what is missing.
func ask(n input.Names, f input.Field, asks, otherwise string, args ...any) string {
	if !n.Has(f) {
		return otherwise
	}
	return n.Sprintf(asks, append([]any{f}, args...)...)
}

// containerResourceDefaultOn is the first Kubernetes version with the
// ContainerResource metric on by default (beta in 1.27, GA in 1.30).
var containerResourceDefaultOn = version.MajorMinor(1, 27)

// RecalculateHPA is the HPA core: the request-weighted and usage-aware
// targets, the manifest target, the app CPU at which each is reached, and
// the choice between the Resource and ContainerResource metrics.
func RecalculateHPA(in PodHPA) (HPA, error) {
	if in.AppCPURequestMillicores <= 0 || in.TargetPercent < 1 || in.TargetPercent > 100 {
		return HPA{}, fmt.Errorf("hpa: app CPU request must be > 0 and target within 1..100, got %dm and %d%%", in.AppCPURequestMillicores, in.TargetPercent)
	}
	if in.SidecarCPURequestMillicores < 0 {
		return HPA{}, fmt.Errorf("hpa: sidecar CPU request must be >= 0, got %dm", in.SidecarCPURequestMillicores)
	}
	out := HPA{
		AppCPURequestMillicores:     in.AppCPURequestMillicores,
		SidecarCPURequestMillicores: in.SidecarCPURequestMillicores,
		SidecarCPURequestSource:     in.SidecarCPURequestSource,
		OriginalTargetPercent:       in.TargetPercent,
		SidecarCPUAtAppTargetBasis:  in.SidecarCPU.Basis,
		Notes:                       []string{},
	}
	app := float64(in.AppCPURequestMillicores)
	requests := app + float64(in.SidecarCPURequestMillicores)
	absTarget := app * float64(in.TargetPercent) / 100
	out.OriginalAbsoluteTargetMillicores = absTarget
	requestWeighted := absTarget / requests * 100
	out.RequestWeightedTargetPercent = round1(requestWeighted)

	load := in.SidecarCPU
	if load.Assumption != "" {
		out.Notes = append(out.Notes, load.Assumption)
	}
	sidecarAtTarget := load.at(absTarget)
	out.SidecarCPUAtAppTargetMillicores = round1(sidecarAtTarget)
	usageAware := (absTarget + sidecarAtTarget) / requests * 100
	out.UsageAwareTargetPercent = round1(usageAware)

	out.ManifestTargetPercent = int32(max(1, math.Floor(usageAware+1e-9)))
	out.ManifestTargetReason = fmt.Sprintf("floor of the usage-aware %.1f%%: the HPA truncates its measured utilisation to an integer, so with target %d it reads exactly the target when the app is at its original %.0fm, as the app-only HPA did; rounding up would let the app run up to one point of the pod's %.0fm requests past it. The 10%% tolerance then holds as before: no scaling while the reading stays within %d +/- 10%%",
		usageAware, out.ManifestTargetPercent, absTarget, requests, out.ManifestTargetPercent)
	if sidecarAtTarget > float64(in.SidecarCPURequestMillicores) {
		out.aboveRequest = fmt.Sprintf(
			"warning: at the app's target the sidecar uses more CPU than its request (%.0fm against %dm): the scheduler under-reserves the pod and the target rises to %.1f%%; raise the sidecar's request",
			sidecarAtTarget, in.SidecarCPURequestMillicores, usageAware)
		out.Notes = append(out.Notes, out.aboveRequest)
	}

	out.AppCPUAtTarget = AppCPUAtTarget{
		Original:        round1(absTarget),
		UnchangedTarget: round1(load.appAt(float64(in.TargetPercent), requests)),
		RequestWeighted: round1(load.appAt(requestWeighted, requests)),
		ManifestTarget:  round1(load.appAt(float64(out.ManifestTargetPercent), requests)),
	}
	chooseMetric(in, &out)
	return out, nil
}

// recommendHPA is the HPA of a plan: the sidecar's request is the
// recommended one unless the input gives one, and its CPU at the app's
// target comes from the plan's cost and load.
func recommendHPA(in Input, p Plan, cost model.CPUCost) (HPA, error) {
	h := in.HPA
	pod := PodHPA{
		AppCPURequestMillicores:     h.AppCPURequestMillicores,
		SidecarCPURequestMillicores: p.Sidecar.CPURequestMillicores,
		SidecarCPURequestSource:     "recommended request",
		TargetPercent:               h.TargetPercent,
		AppContainer:                h.AppContainer,
		K8sVersion:                  h.K8sVersion,
		Names:                       in.Names,
	}
	if h.SidecarCPURequestMillicores > 0 {
		pod.SidecarCPURequestMillicores = h.SidecarCPURequestMillicores
		pod.SidecarCPURequestSource = in.Names.Of(FieldSidecarCPURequest)
	}
	absTarget := float64(h.AppCPURequestMillicores) * float64(h.TargetPercent) / 100
	pod.SidecarCPU = SidecarCPUFromCost(cost, p.Hops.Total, p.SidecarRPSPerPod, h.AppCoresPerKRPS, absTarget, in.Names)
	return RecalculateHPA(pod)
}

func chooseMetric(in PodHPA, out *HPA) {
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
	case in.K8sVersion == nil:
		out.Metric = resource
		unknown := ask(in.Names, FieldK8sVersion, "no %s given", "the Kubernetes version is not known")
		out.MetricReason = fmt.Sprintf("Resource metric at %d%%: %s; from Kubernetes 1.27 a ContainerResource metric on container %q keeps the original %d%% unchanged",
			out.ManifestTargetPercent, unknown, in.AppContainer, in.TargetPercent)
	case in.K8sVersion.AtLeast(containerResourceDefaultOn):
		out.RecommendContainerResource = true
		out.Metric = autoscalingv2.MetricSpec{
			Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name:      corev1.ResourceCPU,
				Container: in.AppContainer,
				Target:    utilization(int32(in.TargetPercent)),
			},
		}
		out.MetricReason = fmt.Sprintf("ContainerResource on container %q at the original %d%%: Kubernetes %s has it on by default (beta 1.27, GA 1.30), and it ignores the sidecar entirely",
			in.AppContainer, in.TargetPercent, in.K8sVersion)
	default:
		out.Metric = resource
		out.MetricReason = fmt.Sprintf("Resource metric at %d%%: Kubernetes %s has ContainerResource only behind the HPAContainerMetrics feature gate (alpha from 1.20, on by default from 1.27)",
			out.ManifestTargetPercent, in.K8sVersion)
	}
}

func utilization(percent int32) autoscalingv2.MetricTarget {
	return autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &percent}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
