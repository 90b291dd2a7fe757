package sizing

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/internal/textfmt"
)

// FieldSidecarCPUUsage is a live HPA's input beside the sidecar's request
// (FieldSidecarCPURequest): the sidecar's measured CPU when the app runs at
// its target.
const FieldSidecarCPUUsage input.Field = "sidecar CPU usage"

// ContainerRole is what a container is to the HPA recalculation.
type ContainerRole string

const (
	RoleApp           ContainerRole = "app"
	RoleSidecar       ContainerRole = "sidecar"        // the mesh's sidecar as a regular container
	RoleNativeSidecar ContainerRole = "native-sidecar" // an init container with restartPolicy Always
)

// PodContainer is one container of an HPA's pods and its CPU request (a
// limit alone counts: Kubernetes defaults the request to it).
type PodContainer struct {
	Name              string        `json:"name"`
	Role              ContainerRole `json:"role"`
	RequestMillicores int64         `json:"request_millicores"`
	HasRequest        bool          `json:"has_request"`
	// Source says where the mesh sidecar's request comes from.
	Source string `json:"source,omitempty"`
	// Proxy marks the mesh's sidecar, whose CPU the recalculation separates
	// from the app's.
	Proxy bool `json:"-"`
}

// ContainerTarget is a container and its share of the HPA's target.
type ContainerTarget struct {
	PodContainer
	// AbsoluteTargetMillicores is request x target: the CPU at which this
	// container reads the HPA's target when every container runs at the
	// same utilisation.
	AbsoluteTargetMillicores float64 `json:"absolute_target_millicores"`
}

// ContainerTargets is each container's absolute target at target percent.
func ContainerTargets(cs []PodContainer, target int) []ContainerTarget {
	out := make([]ContainerTarget, 0, len(cs))
	for _, c := range cs {
		out = append(out, ContainerTarget{PodContainer: c, AbsoluteTargetMillicores: float64(c.RequestMillicores) * float64(target) / 100})
	}
	return out
}

// LiveHPAInput is an existing HPA's pod as read from a cluster, rather than
// planned from a load figure.
type LiveHPAInput struct {
	// Workload names the HPA's target in messages, e.g. "deployment shop/web".
	Workload   string
	Containers []PodContainer
	// TargetPercent is the HPA's CPU utilisation target, taken as the one
	// chosen for the app alone.
	TargetPercent int
	// TargetContainer is the container a ContainerResource metric already
	// targets; "" when the HPA uses the Resource metric.
	TargetContainer string
	// AppContainer is the container a corrected HPA targets.
	AppContainer string
	// SidecarFound says the cluster showed a sidecar (a container marked
	// Proxy).
	SidecarFound bool
	// SidecarCPURequestMillicores, when > 0, is the sidecar's request given
	// by the caller, over whatever the cluster shows.
	SidecarCPURequestMillicores int64
	// SidecarCPUAtTargetMillicores, when > 0, is the sidecar's measured CPU
	// when the app runs at its target; otherwise its request is assumed.
	SidecarCPUAtTargetMillicores float64
	// K8sVersion is the server's version (nil: unknown).
	K8sVersion *version.Version
	// Names shows the inputs the remarks refer to in the caller's words; a
	// remark asks for an input (the sidecar's request, its usage) only
	// where Names has a name for it.
	Names input.Names
}

// LiveHPA is what a live HPA's CPU target means for its pods now, and plan's
// arithmetic on it (nil Recalculation when the HPA needs none).
type LiveHPA struct {
	Containers                   []ContainerTarget
	PodRequestsMillicores        int64
	SidecarCPUAtTargetMillicores float64
	SidecarCPUAtTargetBasis      string
	// AppCPUAtTargetNowMillicores is where the app's own CPU sits when the
	// HPA reads its target now: target x pod requests - the sidecar's CPU.
	AppCPUAtTargetNowMillicores float64
	Recalculation               *HPA
	Assumptions                 []string
	Warnings                    []string
}

// RecalculateLiveHPA sums the pod's requests, separates the sidecar's, says
// where the app scales now, and applies the HPA core with the sidecar's CPU
// at the app's target given (measured) or assumed to be its request.
func RecalculateLiveHPA(in LiveHPAInput) (LiveHPA, error) {
	if in.SidecarCPURequestMillicores < 0 || in.SidecarCPUAtTargetMillicores < 0 {
		return LiveHPA{}, fmt.Errorf("hpa: sidecar CPU request and usage must be >= 0")
	}
	n := in.Names
	out := LiveHPA{Assumptions: []string{}, Warnings: []string{}, Containers: ContainerTargets(in.Containers, in.TargetPercent)}
	if in.TargetContainer != "" {
		out.Warnings = append(out.Warnings, fmt.Sprintf(
			"the HPA already targets container %q alone: the sidecar does not move its target, nothing to correct", in.TargetContainer))
		return out, nil
	}
	var app int64
	sidecar := podSidecarRequest{source: "none found"}
	for _, c := range in.Containers {
		if !c.HasRequest {
			out.Warnings = append(out.Warnings, fmt.Sprintf(
				"container %q has no CPU request: the Resource metric fails (\"missing request for cpu\") and the HPA shows <unknown>", c.Name))
		}
		if c.Proxy {
			sidecar = podSidecarRequest{c.RequestMillicores, c.Source}
			continue
		}
		app += c.RequestMillicores
	}
	if in.SidecarCPURequestMillicores > 0 {
		sidecar = podSidecarRequest{in.SidecarCPURequestMillicores, n.Of(FieldSidecarCPURequest)}
		if !in.SidecarFound {
			given := PodContainer{Name: "istio-proxy", Role: RoleSidecar, RequestMillicores: sidecar.millicores, HasRequest: true, Source: sidecar.source, Proxy: true}
			out.Containers = append(out.Containers, ContainerTargets([]PodContainer{given}, in.TargetPercent)...)
		}
	} else if !in.SidecarFound {
		out.Assumptions = append(out.Assumptions, "no sidecar found (no sidecar.istio.io resource annotations, no istio-proxy container in the template or a running pod): the pod's requests are the app's; "+
			ask(n, FieldSidecarCPURequest, "pass %s if a sidecar is injected", "give the sidecar's CPU request if a sidecar is injected"))
	}
	if app <= 0 {
		return LiveHPA{}, fmt.Errorf("the app containers of %s have no CPU request: the HPA's Resource metric cannot work", in.Workload)
	}
	out.PodRequestsMillicores = app + sidecar.millicores
	usage := SidecarCPUAssumedRequest(sidecar.millicores, n)
	if in.SidecarCPUAtTargetMillicores > 0 {
		usage = SidecarCPUGiven(in.SidecarCPUAtTargetMillicores, n.Of(FieldSidecarCPUUsage))
	} else if sidecar.millicores > 0 {
		out.Assumptions = append(out.Assumptions, "the sidecar's CPU at the app's target is taken as its request: "+ask(n, FieldSidecarCPUUsage,
			"pass %s (e.g. from `%s` or container_cpu_usage_seconds_total{container=\"istio-proxy\"}) for the usage-aware target",
			"a measured figure (from a sweep or container_cpu_usage_seconds_total{container=\"istio-proxy\"}) gives the usage-aware target", FieldSweep))
	}
	target := float64(in.TargetPercent)
	out.SidecarCPUAtTargetMillicores, out.SidecarCPUAtTargetBasis = usage.BaseMillicores, usage.Basis
	out.AppCPUAtTargetNowMillicores = target/100*float64(out.PodRequestsMillicores) - usage.BaseMillicores
	out.Assumptions = append(out.Assumptions, fmt.Sprintf(
		"the HPA's %d%% was chosen for the app alone: its original absolute target is %sm, %d%% of the app's %s CPU request",
		in.TargetPercent, textfmt.Figure(float64(app)*target/100), in.TargetPercent, quantity.Millicores(app)))

	h, err := RecalculateHPA(PodHPA{
		AppCPURequestMillicores: app, SidecarCPURequestMillicores: sidecar.millicores, SidecarCPURequestSource: sidecar.source,
		TargetPercent: in.TargetPercent, AppContainer: in.AppContainer, K8sVersion: in.K8sVersion, SidecarCPU: usage, Names: n,
	})
	if err != nil {
		return LiveHPA{}, err
	}
	out.Recalculation = &h
	return out, nil
}

type podSidecarRequest struct {
	millicores int64
	source     string
}

// CleanObject renders an API object as YAML without the empty status and
// creationTimestamp the typed structs always carry.
func CleanObject(obj runtime.Object) ([]byte, error) { return cleanObject(obj) }
