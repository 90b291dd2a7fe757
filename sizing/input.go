package sizing

import (
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
)

// DefaultHeadroom is the fraction added above the expected peak: the VPA
// recommender's 15% safety margin, the field's most used default.
const DefaultHeadroom = 0.15

// DefaultMemoryLimitRatio sets the memory limit to twice the request: a
// sidecar OOM kill cuts the pod off the network, and Envoy briefly holds old
// and new configuration while an xDS update drains listeners.
const DefaultMemoryLimitRatio = 2.0

// Default configuration size when the user does not give one: a workload whose
// proxy is scoped by a Sidecar resource to a namespace of moderate size.
const (
	DefaultClusters  = 50
	DefaultEndpoints = 150
)

// CPULimitMode says how the sidecar CPU limit is chosen.
type CPULimitMode int

const (
	// CPULimitAuto sets the limit to one core per worker.
	CPULimitAuto CPULimitMode = iota
	// CPULimitNone recommends no CPU limit.
	CPULimitNone
	// CPULimitFixed uses the limit the user gave.
	CPULimitFixed
)

// CPULimit is the CPU-limit policy.
type CPULimit struct {
	Mode       CPULimitMode
	Millicores int64 // with CPULimitFixed
}

// Input is everything a recommendation depends on.
type Input struct {
	// AppRPSPerPod is the expected peak inbound rate per pod at library level.
	AppRPSPerPod float64
	// TotalRPS and Replicas are what AppRPSPerPod came from, when given.
	TotalRPS float64
	Replicas int

	Fanout  model.Fanout
	Profile profiles.Profile

	Config        model.Config
	ConfigDefault bool // Config holds the documented defaults, not the user's figures

	// Concurrency fixes the worker count; 0 lets sizing choose.
	Concurrency      int
	Headroom         float64
	CPULimit         CPULimit
	MemoryLimitRatio float64

	// HPA is nil when no HPA recalculation was asked for.
	HPA *HPAInput

	// Names shows the inputs that reasons and assumptions refer to in the
	// caller's words (the CLI: its flags); nil keeps the Field names.
	Names input.Names
}

// HPAInput describes the app container and its HorizontalPodAutoscaler.
type HPAInput struct {
	AppCPURequestMillicores int64
	TargetPercent           int
	// SidecarCPURequestMillicores overrides the recommended request (0: use it).
	SidecarCPURequestMillicores int64
	// AppCoresPerKRPS is the app container's CPU per 1000 inbound RPS (0: unknown).
	AppCoresPerKRPS float64
	// K8sVersion is the cluster's version; nil when unknown.
	K8sVersion *version.Version

	Deployment   string
	AppContainer string
	MinReplicas  int32
	MaxReplicas  int32
}
