package sizing

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
)

// The inputs of a plan, as problems and reasons name them; a caller shows
// them in its own words through Request.Names.
const (
	// The load at library level.
	FieldRPSPerPod input.Field = "inbound RPS per pod"
	FieldTotalRPS  input.Field = "total inbound RPS"
	FieldReplicas  input.Field = "replicas"

	// The requests each inbound call causes through the sidecar.
	FieldRequestsPerCall    input.Field = "requests per call"
	FieldOutboundPerRequest input.Field = "outbound calls per request"
	FieldAuthzCalls         input.Field = "authz calls per request"
	FieldRetryRatio         input.Field = "retry ratio"

	// The cost, the configuration and the sidecar's resources.
	FieldProfile          input.Field = "profile"
	FieldClusters         input.Field = "clusters"
	FieldEndpoints        input.Field = "endpoints"
	FieldConcurrency      input.Field = "concurrency"
	FieldHeadroom         input.Field = "headroom"
	FieldCPULimit         input.Field = "CPU limit"
	FieldMemoryLimitRatio input.Field = "memory limit ratio"

	// The HPA and the manifests.
	FieldAppCPURequest     input.Field = "app CPU request"
	FieldHPATarget         input.Field = "HPA target"
	FieldSidecarCPURequest input.Field = "sidecar CPU request"
	FieldAppCPUPerKRPS     input.Field = "app CPU per 1000 RPS"
	FieldK8sVersion        input.Field = "Kubernetes version"
	FieldDeployment        input.Field = "deployment"
	FieldAppContainer      input.Field = "app container"
	FieldMinReplicas       input.Field = "min replicas"
	FieldMaxReplicas       input.Field = "max replicas"
	// FieldSweep is not an input but where a measured profile comes from:
	// a reference profile's assumption sends the user there.
	FieldSweep input.Field = "sweep"
)

// The ranges of a plan's inputs (the README's "What bad input gets" lists
// them). Each is far above any real pod, and low enough that no figure the
// plan computes from them overflows; Recommend still checks its outputs
// (checkOutputs), since a profile's figures multiply them.
const (
	MaxRPSPerPod          = 1e6 // inbound RPS per pod
	MaxTotalRPS           = 1e9
	MaxReplicas           = 1_000_000 // also min and max replicas: an HPA's int32, well above Kubernetes' 150,000 pods per cluster
	MaxRequestsPerCall    = 1000
	MaxOutboundPerRequest = MaxRequestsPerCall - 1
	MaxAuthzCalls         = 1000
	MaxClusters           = 1_000_000
	MaxEndpoints          = 10_000_000
	MaxConcurrency        = profiles.MaxWorkers
	MaxHeadroom           = 10 // 1000% above the peak
	MaxMemoryLimitRatio   = 100
	MaxAppCPUPerKRPS      = profiles.MaxCores
)

// hpaOnly are the fields that only the HPA recalculation reads.
var hpaOnly = []input.Field{FieldSidecarCPURequest, FieldAppCPUPerKRPS, FieldK8sVersion, FieldAppContainer, FieldMinReplicas, FieldMaxReplicas}

// Request is a plan as a person asks for it: figures as given, CPU
// quantities, the CPU-limit policy (auto, none or a quantity) and the
// Kubernetes version as text, and which fields were given at all (a given
// value can equal its default). Input checks it and builds the Input.
type Request struct {
	RPSPerPod, TotalRPS float64
	Replicas            int
	// RequestsPerCall (N) and OutboundPerRequest (k) are two ways to say
	// the fan-out: N = 1 + k.
	RequestsPerCall, OutboundPerRequest float64
	AuthzCalls, RetryRatio              float64
	Profile                             profiles.Profile
	Clusters, Endpoints                 int
	Concurrency                         int
	Headroom, MemoryLimitRatio          float64
	CPULimit                            string

	AppCPURequest, SidecarCPURequest string
	HPATarget                        int
	AppCPUPerKRPS                    float64
	K8sVersion                       string
	Deployment, AppContainer         string
	// MaxReplicas 0 takes twice the replicas, at least 10.
	MinReplicas, MaxReplicas int

	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest holds every default of a plan; a caller overrides what the
// user gave.
func DefaultRequest() Request {
	return Request{RequestsPerCall: 1, Clusters: DefaultClusters, Endpoints: DefaultEndpoints,
		Headroom: DefaultHeadroom, MemoryLimitRatio: DefaultMemoryLimitRatio, CPULimit: "auto",
		Deployment: "app", MinReplicas: 1}
}

// Input checks the request and builds the sizing input. Each problem is an
// *input.Error naming its field.
func (r Request) Input() (Input, error) {
	in := Input{Profile: r.Profile, Names: r.Names}
	for _, step := range []func(*Input) error{r.load, r.fanout, r.knobs, r.hpa} {
		if err := step(&in); err != nil {
			return Input{}, err
		}
	}
	return in, nil
}

func (r Request) load(in *Input) error {
	n, given := r.Names, r.Given
	switch {
	case given[FieldRPSPerPod] && (given[FieldTotalRPS] || given[FieldReplicas]):
		return n.Errorf(FieldRPSPerPod, "give either %s or %s with %s, not both", FieldRPSPerPod, FieldTotalRPS, FieldReplicas)
	case given[FieldRPSPerPod]:
		if !within(r.RPSPerPod, MaxRPSPerPod) {
			return n.Errorf(FieldRPSPerPod, "expected a finite number > 0 and at most %g, got %v", float64(MaxRPSPerPod), r.RPSPerPod)
		}
		in.AppRPSPerPod = r.RPSPerPod
	case given[FieldTotalRPS]:
		if !within(r.TotalRPS, MaxTotalRPS) {
			return n.Errorf(FieldTotalRPS, "expected a finite number > 0 and at most %g, got %v", float64(MaxTotalRPS), r.TotalRPS)
		}
		if !given[FieldReplicas] {
			return n.Errorf(FieldReplicas, "required with %s: the number of pods sharing it", FieldTotalRPS)
		}
		if r.Replicas < 1 || r.Replicas > MaxReplicas {
			return n.Errorf(FieldReplicas, "expected an integer within 1..%d, got %d", MaxReplicas, r.Replicas)
		}
		in.TotalRPS, in.Replicas = r.TotalRPS, r.Replicas
		in.AppRPSPerPod = model.PerPod(r.TotalRPS, r.Replicas)
		if in.AppRPSPerPod > MaxRPSPerPod {
			return n.Errorf(FieldTotalRPS, "%v over %d replicas is %v inbound RPS per pod, above the %g a pod can be sized for: give more %s", r.TotalRPS, r.Replicas, in.AppRPSPerPod, float64(MaxRPSPerPod), FieldReplicas)
		}
	case given[FieldReplicas]:
		return n.Errorf(FieldTotalRPS, "required with %s: the total inbound RPS", FieldReplicas)
	default:
		return n.Errorf(FieldTotalRPS, "the load is required: give %s with %s, or %s", FieldTotalRPS, FieldReplicas, FieldRPSPerPod)
	}
	return nil
}

func (r Request) fanout(in *Input) error {
	n := r.Names
	switch {
	case r.Given[FieldRequestsPerCall] && r.Given[FieldOutboundPerRequest]:
		return n.Errorf(FieldOutboundPerRequest, "give either %s N or %s k (N = 1 + k), not both", FieldRequestsPerCall, FieldOutboundPerRequest)
	case !model.Finite(r.RequestsPerCall) || r.RequestsPerCall < 1 || r.RequestsPerCall > MaxRequestsPerCall:
		return n.Errorf(FieldRequestsPerCall, "expected a number within 1..%d (the inbound request itself counts), got %v", MaxRequestsPerCall, r.RequestsPerCall)
	case !model.NonNegative(r.OutboundPerRequest) || r.OutboundPerRequest > MaxOutboundPerRequest:
		return n.Errorf(FieldOutboundPerRequest, "expected a number within 0..%d, got %v", MaxOutboundPerRequest, r.OutboundPerRequest)
	case !model.NonNegative(r.AuthzCalls) || r.AuthzCalls > MaxAuthzCalls:
		return n.Errorf(FieldAuthzCalls, "expected a number within 0..%d, got %v", MaxAuthzCalls, r.AuthzCalls)
	case !model.NonNegative(r.RetryRatio) || r.RetryRatio > 1:
		return n.Errorf(FieldRetryRatio, "expected a share of outbound requests between 0 and 1, got %v", r.RetryRatio)
	}
	in.Fanout = model.FanoutFromRequestsPerCall(r.RequestsPerCall)
	if r.Given[FieldOutboundPerRequest] {
		in.Fanout = model.Fanout{Outbound: r.OutboundPerRequest}
	}
	in.Fanout.Authz, in.Fanout.RetryRatio = r.AuthzCalls, r.RetryRatio
	return nil
}

func (r Request) knobs(in *Input) error {
	n := r.Names
	switch {
	case r.Clusters < 0 || r.Clusters > MaxClusters:
		return n.Errorf(FieldClusters, "expected an integer within 0..%d, got %d", MaxClusters, r.Clusters)
	case r.Endpoints < 0 || r.Endpoints > MaxEndpoints:
		return n.Errorf(FieldEndpoints, "expected an integer within 0..%d, got %d", MaxEndpoints, r.Endpoints)
	case r.Given[FieldConcurrency] && r.Concurrency < 1:
		return n.Errorf(FieldConcurrency, "expected an integer within 1..%d (Istio's 0 means one worker per node core, which cannot be sized), got %d", MaxConcurrency, r.Concurrency)
	case r.Concurrency > MaxConcurrency:
		return n.Errorf(FieldConcurrency, "expected an integer within 1..%d, got %d", MaxConcurrency, r.Concurrency)
	case !model.NonNegative(r.Headroom) || r.Headroom > MaxHeadroom:
		return n.Errorf(FieldHeadroom, "expected a fraction between 0 and %d (0.15 = 15%%), got %v", MaxHeadroom, r.Headroom)
	case !model.Finite(r.MemoryLimitRatio) || r.MemoryLimitRatio < 1 || r.MemoryLimitRatio > MaxMemoryLimitRatio:
		return n.Errorf(FieldMemoryLimitRatio, "expected a number within 1..%d (the limit cannot be below the request), got %v", MaxMemoryLimitRatio, r.MemoryLimitRatio)
	}
	in.Config = model.Config{Clusters: r.Clusters, Endpoints: r.Endpoints}
	in.ConfigDefault = !r.Given[FieldClusters] && !r.Given[FieldEndpoints]
	in.Concurrency, in.Headroom, in.MemoryLimitRatio = r.Concurrency, r.Headroom, r.MemoryLimitRatio
	var err error
	in.CPULimit, err = r.cpuLimit()
	return err
}

func (r Request) cpuLimit() (CPULimit, error) {
	switch r.CPULimit {
	case "auto":
		return CPULimit{Mode: CPULimitAuto}, nil
	case "none":
		return CPULimit{Mode: CPULimitNone}, nil
	}
	m, err := quantity.ParseMillicores(r.CPULimit)
	if err != nil {
		return CPULimit{}, r.Names.Errorf(FieldCPULimit, "expected auto, none, or a CPU quantity within %s such as 2 or 1500m, got %q", quantity.CPURange, r.CPULimit)
	}
	return CPULimit{Mode: CPULimitFixed, Millicores: m}, nil
}

func (r Request) hpa(in *Input) error {
	n, given := r.Names, r.Given
	if !given[FieldAppCPURequest] && !given[FieldHPATarget] {
		for _, only := range hpaOnly {
			if given[only] {
				return n.Errorf(only, "only used for the HPA: give it with %s and %s", FieldAppCPURequest, FieldHPATarget)
			}
		}
		return nil
	}
	if !given[FieldAppCPURequest] {
		return n.Errorf(FieldAppCPURequest, "required with %s: the app container's CPU request, e.g. 1 or 500m", FieldHPATarget)
	}
	if !given[FieldHPATarget] {
		return n.Errorf(FieldHPATarget, "required with %s: the app's original CPU utilisation target, percent", FieldAppCPURequest)
	}
	h := &HPAInput{TargetPercent: r.HPATarget, Deployment: r.Deployment, AppContainer: r.AppContainer, AppCoresPerKRPS: r.AppCPUPerKRPS}
	var err error
	if h.AppCPURequestMillicores, err = quantity.ParseMillicores(r.AppCPURequest); err != nil {
		return n.Errorf(FieldAppCPURequest, "expected a CPU quantity within %s such as 1, 500m or 1.5, got %q", quantity.CPURange, r.AppCPURequest)
	}
	if r.HPATarget < 1 || r.HPATarget > 100 {
		return n.Errorf(FieldHPATarget, "expected a percentage within 1..100, got %d", r.HPATarget)
	}
	if given[FieldSidecarCPURequest] {
		if h.SidecarCPURequestMillicores, err = quantity.ParseMillicores(r.SidecarCPURequest); err != nil {
			return n.Errorf(FieldSidecarCPURequest, "expected a CPU quantity within %s such as 100m, got %q", quantity.CPURange, r.SidecarCPURequest)
		}
	}
	if given[FieldAppCPUPerKRPS] && !within(r.AppCPUPerKRPS, MaxAppCPUPerKRPS) {
		return n.Errorf(FieldAppCPUPerKRPS, "expected a finite number of cores > 0 and at most %d, got %v", MaxAppCPUPerKRPS, r.AppCPUPerKRPS)
	}
	if given[FieldK8sVersion] {
		v, err := version.ParseGeneric(strings.TrimPrefix(r.K8sVersion, "v"))
		if err != nil || v.Major() != 1 {
			return n.Errorf(FieldK8sVersion, "expected a Kubernetes version such as 1.29 or v1.30.2, got %q", r.K8sVersion)
		}
		h.K8sVersion = v
	}
	if err := r.replicaBounds(h, in.Replicas); err != nil {
		return err
	}
	if len(validation.IsDNS1123Subdomain(h.Deployment)) > 0 {
		return n.Errorf(FieldDeployment, "expected a Kubernetes object name (lower-case letters, digits, '-', '.'), got %q", h.Deployment)
	}
	if h.AppContainer == "" {
		h.AppContainer = h.Deployment
	}
	in.HPA = h
	return nil
}

func (r Request) replicaBounds(h *HPAInput, replicas int) error {
	if r.MinReplicas < 1 || r.MinReplicas > MaxReplicas {
		return r.Names.Errorf(FieldMinReplicas, "expected an integer within 1..%d, got %d", MaxReplicas, r.MinReplicas)
	}
	if r.MaxReplicas < 0 || r.MaxReplicas > MaxReplicas || r.Given[FieldMaxReplicas] && r.MaxReplicas == 0 {
		return r.Names.Errorf(FieldMaxReplicas, "expected an integer within 1..%d, got %d", MaxReplicas, r.MaxReplicas)
	}
	maxReplicas := r.MaxReplicas
	if maxReplicas == 0 {
		maxReplicas = min(MaxReplicas, max(10, 2*replicas, r.MinReplicas))
	}
	if maxReplicas < r.MinReplicas {
		return r.Names.Errorf(FieldMaxReplicas, "expected an integer >= %s (%d), got %d", FieldMinReplicas, r.MinReplicas, maxReplicas)
	}
	h.MinReplicas, h.MaxReplicas = int32(r.MinReplicas), int32(maxReplicas)
	return nil
}

// within: a finite x > 0 and at most limit.
func within(x, limit float64) bool { return model.Positive(x) && x <= limit }
