package sizing

import (
	"fmt"
	"math"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
)

// Plan is a recommendation. JSON field names marked "contract" in the README
// are stable.
type Plan struct {
	Profile ProfileRef `json:"profile"`

	TotalRPS         float64            `json:"total_rps,omitempty"`
	Replicas         int                `json:"replicas,omitempty"`
	AppRPSPerPod     float64            `json:"app_rps_per_pod"`
	SidecarRPSPerPod float64            `json:"sidecar_rps_per_pod"`
	RequestsPerCall  float64            `json:"requests_per_call"`
	Hops             model.HopBreakdown `json:"hops_per_inbound_request"`
	Headroom         float64            `json:"headroom"`
	PeakSidecarRPS   float64            `json:"peak_sidecar_rps_per_pod"`

	Concurrency       int     `json:"concurrency"`
	ConcurrencyReason string  `json:"concurrency_reason"`
	WorkerCapacityRPS float64 `json:"worker_capacity_rps"`

	Sidecar Sidecar               `json:"sidecar"`
	Config  ConfigSize            `json:"config"`
	Latency profiles.LatencyAdded `json:"latency_added_ms"`
	HPA     *HPA                  `json:"hpa,omitempty"`

	Assumptions []string `json:"assumptions"`
	Warnings    []string `json:"warnings"`

	names input.Names // how reasons name the inputs: Input.Names
}

// ProfileRef names the profile a plan used and what it describes.
type ProfileRef struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Component string `json:"component"`
	Proxy     string `json:"proxy"`
	Source    string `json:"source"`
}

// Sidecar is the recommended container resources, each with its reason.
type Sidecar struct {
	CPURequestMillicores  int64   `json:"cpu_request_millicores"`
	CPULimitMillicores    int64   `json:"cpu_limit_millicores"`
	MemoryRequestBytes    int64   `json:"memory_request_bytes"`
	MemoryLimitBytes      int64   `json:"memory_limit_bytes"`
	ExpectedCPUMillicores float64 `json:"expected_cpu_millicores"`
	PeakCPUMillicores     float64 `json:"peak_cpu_millicores"`
	// PeakCPUInterval is the 95% prediction interval at the peak, for a
	// measured profile's curve (published figures carry none); the request
	// is its upper end.
	PeakCPUInterval *model.Interval       `json:"peak_cpu_interval,omitempty"`
	CPUCost         model.CPUCost         `json:"cpu_cost"`
	CPUCostBasis    string                `json:"cpu_cost_basis"`
	Memory          model.MemoryBreakdown `json:"expected_memory"`
	Reasons         Reasons               `json:"reasons"`
}

// Reasons says why each sidecar figure was chosen.
type Reasons struct {
	CPURequest    string `json:"cpu_request"`
	CPULimit      string `json:"cpu_limit"`
	MemoryRequest string `json:"memory_request"`
	MemoryLimit   string `json:"memory_limit"`
}

// ConfigSize is the configuration the memory model assumed.
type ConfigSize struct {
	Clusters  int  `json:"clusters"`
	Endpoints int  `json:"endpoints"`
	Defaulted bool `json:"defaulted"`
}

const mi = 1 << 20

// Recommend sizes the sidecar (and the HPA when asked) for in.
func Recommend(in Input) (Plan, error) {
	if err := in.Fanout.Validate(); err != nil {
		return Plan{}, err
	}
	hops := in.Fanout.Breakdown()
	p := Plan{
		Profile:  ProfileRef{in.Profile.Name, in.Profile.Kind, in.Profile.Component, in.Profile.Proxy, in.Profile.Provenance.Source},
		TotalRPS: in.TotalRPS, Replicas: in.Replicas,
		AppRPSPerPod:     in.AppRPSPerPod,
		SidecarRPSPerPod: in.AppRPSPerPod * hops.Total,
		RequestsPerCall:  1 + in.Fanout.Outbound,
		Hops:             hops,
		Headroom:         in.Headroom,
		Config:           ConfigSize{in.Config.Clusters, in.Config.Endpoints, in.ConfigDefault},
		Latency:          in.Profile.Latency,
		Assumptions:      []string{},
		Warnings:         []string{},
		names:            in.Names,
	}
	p.PeakSidecarRPS = p.SidecarRPSPerPod * (1 + in.Headroom)

	p.chooseConcurrency(in)
	if err := p.checkConcurrency(in); err != nil {
		return Plan{}, err
	}
	cost, basis := in.Profile.CostAt(p.Concurrency, costLimit(in.CPULimit, p.Concurrency))
	p.sizeCPU(in, cost, basis)
	p.sizeMemory(in)
	p.noteProfile(in)
	if in.HPA != nil {
		hpa, err := recommendHPA(in, p, cost)
		if err != nil {
			return Plan{}, err
		}
		p.HPA = &hpa
	}
	if err := p.checkOutputs(in); err != nil {
		return Plan{}, err
	}
	return p, nil
}

// costLimit is the CPU limit whose measured cost applies: the fixed one,
// none, or for auto the one core per worker that auto sets.
func costLimit(l CPULimit, concurrency int) int64 {
	switch l.Mode {
	case CPULimitFixed:
		return l.Millicores
	case CPULimitNone:
		return 0
	}
	return int64(concurrency) * 1000
}

// chooseConcurrency picks enough workers to carry the peak at the profile's
// per-worker capacity, capped at ceil(CPU limit): workers beyond the quota's
// cores contend for it and get throttled together.
func (p *Plan) chooseConcurrency(in Input) {
	capacity := in.Profile.WorkerCapacity()
	p.WorkerCapacityRPS = capacity.RPSPerWorker
	limitCores := 0
	if in.CPULimit.Mode == CPULimitFixed {
		limitCores = int(math.Ceil(float64(in.CPULimit.Millicores) / 1000))
	}
	if in.Concurrency > 0 {
		p.Concurrency = in.Concurrency
		p.ConcurrencyReason = in.Names.Sprintf("fixed by %s %d", FieldConcurrency, in.Concurrency)
		if limitCores > 0 && in.Concurrency > limitCores {
			p.warn("concurrency %d is above ceil(CPU limit) = %d: the workers share %s of quota and are throttled together under load; use at most %d workers or raise the limit",
				in.Concurrency, limitCores, quantity.Millicores(in.CPULimit.Millicores), limitCores)
		}
		return
	}
	needed := model.WorkersFor(p.PeakSidecarRPS, capacity.RPSPerWorker)
	p.Concurrency = needed
	p.ConcurrencyReason = fmt.Sprintf("%d worker(s) carry the peak %.0f sidecar RPS at %.0f RPS per worker (%s); set it explicitly: without it Istio 1.18+ derives it from the CPU limit, or from the node's cores when there is no limit",
		needed, p.PeakSidecarRPS, capacity.RPSPerWorker, capacity.Basis)
	if limitCores > 0 && needed > limitCores {
		p.Concurrency = limitCores
		p.ConcurrencyReason = fmt.Sprintf("capped at ceil(CPU limit) = %d: the peak needs %d workers at %.0f RPS per worker", limitCores, needed, capacity.RPSPerWorker)
		p.warn("the CPU limit %s carries about %.0f sidecar RPS, below the peak %.0f: raise the limit or spread the load over more replicas",
			quantity.Millicores(in.CPULimit.Millicores), float64(limitCores)*capacity.RPSPerWorker, p.PeakSidecarRPS)
	}
}

func (p *Plan) sizeCPU(in Input, cost model.CPUCost, basis string) {
	s := &p.Sidecar
	s.CPUCost, s.CPUCostBasis = cost, basis
	s.ExpectedCPUMillicores = cost.CoresAt(p.SidecarRPSPerPod) * 1000
	s.PeakCPUMillicores = cost.CoresAt(p.PeakSidecarRPS) * 1000
	req := RequestAt(cost, p.PeakSidecarRPS)
	s.CPURequestMillicores = req.CPURequestMillicores
	peak := fmt.Sprintf("%.0f sidecar RPS (%.0f per pod + %.0f%% headroom)", p.PeakSidecarRPS, p.SidecarRPSPerPod, in.Headroom*100)
	if cost.Model() == model.ModelLine {
		s.Reasons.CPURequest = fmt.Sprintf("CPU at the peak: %.3f idle + %.3f cores per 1000 RPS x %s = %.0fm",
			cost.IdleCores, cost.CoresPerKRPS, peak, s.PeakCPUMillicores)
	} else {
		s.Reasons.CPURequest = fmt.Sprintf("CPU at the peak on the concave curve %s at %s = %.0fm", cost.Formula(), peak, s.PeakCPUMillicores)
	}
	if req.HasInterval {
		in := req.Interval
		s.PeakCPUInterval = &in
		s.Reasons.CPURequest += fmt.Sprintf(" (point estimate); the request is the upper end of its 95%% prediction interval, %s", Millicores(in))
	}
	if s.CPURequestMillicores == minCPURequestMillicores && req.Interval.High*1000 < minCPURequestMillicores {
		s.Reasons.CPURequest += fmt.Sprintf(", raised to the %dm floor", minCPURequestMillicores)
	}

	switch in.CPULimit.Mode {
	case CPULimitNone:
		s.CPULimitMillicores = 0
		s.Reasons.CPULimit = in.Names.Sprintf("no limit (%s none): no CFS throttling; the proxy may use idle node CPU; concurrency is set explicitly because Istio would otherwise start one worker per node core", FieldCPULimit)
		p.warn("no CPU limit: unless concurrency is set, Istio 1.18+ reads ISTIO_CPU_LIMIT from the downward API, which is then the node's allocatable CPU, and starts one worker per node core; the manifests set concurrency %d", p.Concurrency)
	case CPULimitFixed:
		s.CPULimitMillicores = in.CPULimit.Millicores
		s.Reasons.CPULimit = in.Names.Sprintf("fixed by %s %s", FieldCPULimit, quantity.Millicores(in.CPULimit.Millicores))
		if s.CPULimitMillicores < s.CPURequestMillicores {
			p.warn("the CPU limit %s is below the recommended request %s: Kubernetes rejects a request above the limit",
				quantity.Millicores(s.CPULimitMillicores), quantity.Millicores(s.CPURequestMillicores))
		}
	default:
		perWorker := int64(p.Concurrency) * 1000
		s.CPULimitMillicores = max(perWorker, roundUp(s.CPURequestMillicores, 100))
		s.Reasons.CPULimit = fmt.Sprintf("one core per worker (%d x 1000m): a worker is one thread, so a lower quota throttles workers that are all busy in a burst, and Istio derives the same concurrency, ceil(limit) = %d, if the annotation is ever dropped",
			p.Concurrency, p.Concurrency)
	}
	p.warnWideInterval(req)
}

// warnWideInterval says, for a CPU request whose interval is wider than
// ±20% of it, what would narrow it; named by the setting, as the measured
// choice names it.
func (p *Plan) warnWideInterval(req CPURequest) {
	if text := req.NarrowingText(p.Sidecar.CPUCost); text != "" {
		setting := results.Setting{Concurrency: p.Concurrency, CPULimitMillicores: p.Sidecar.CPULimitMillicores}
		p.warn("%s: %s", setting, text)
	}
}

func (p *Plan) sizeMemory(in Input) {
	s := &p.Sidecar
	s.Memory = in.Profile.Memory.Estimate(in.Config, p.Concurrency)
	s.MemoryRequestBytes = roundUp(ceilInt(s.Memory.Total*(1+in.Headroom)), mi)
	s.MemoryLimitBytes = roundUp(ceilInt(float64(s.MemoryRequestBytes)*in.MemoryLimitRatio), mi)
	s.Reasons.MemoryRequest = fmt.Sprintf("working set %.1f MiB (base %.1f + %d clusters %.1f + %d endpoints %.1f + %d extra worker(s) %.1f) + %.0f%% headroom, rounded up to a MiB; memory follows configuration size and workers, not the request rate",
		s.Memory.Total/mi, s.Memory.Base/mi, in.Config.Clusters, s.Memory.Clusters/mi, in.Config.Endpoints, s.Memory.Endpoints/mi,
		max(0, p.Concurrency-1), s.Memory.Workers/mi, in.Headroom*100)
	s.Reasons.MemoryLimit = fmt.Sprintf("%.1fx the request: an OOM kill of the sidecar cuts the pod off the network, and Envoy briefly holds old and new configuration during xDS updates", in.MemoryLimitRatio)
	if in.ConfigDefault {
		p.assume("configuration size not given: %d clusters and %d endpoints assumed (a namespace-scoped Sidecar resource); count yours with `istioctl proxy-config cluster POD | wc -l` and `istioctl proxy-config endpoint POD | wc -l`", in.Config.Clusters, in.Config.Endpoints)
	}
	if in.Config.Clusters > 1000 {
		p.warn("%d clusters: an unscoped proxy holds every service of the mesh; a Sidecar resource with egress hosts limits the configuration and cuts proxy memory and istiod pushes", in.Config.Clusters)
	}
}

func (p *Plan) noteProfile(in Input) {
	prof := in.Profile
	if prof.Kind == profiles.KindReference {
		p.assume("costs are %s's published figures (%s), not measurements of this workload: run `%s` and size with `%s` from its fit",
			prof.Name, prof.Provenance.Setup, FieldSweep, FieldProfile)
	}
	if prof.StandIn != "" {
		p.assume("profile %s was measured on %s standing in for Envoy: its CPU and capacity describe %s, not an Istio sidecar; its memory terms are Envoy's model", prof.Name, prof.StandIn, prof.StandIn)
	}
	if prof.Component != "sidecar" {
		p.warn("profile %s describes a %s, not a sidecar: the figures are for comparison", prof.Name, prof.Component)
	}
	if in.Fanout.RetryRatio == 0 {
		p.assume("no retries counted: Istio's default policy retries twice (connect-failure, refused-stream, unavailable, cancelled, retriable-status-codes), so a failing upstream can triple the outbound requests; pass %s to count them", FieldRetryRatio)
	}
	p.assume("the manifests set all four resource annotations: once any of proxyCPU, proxyCPULimit, proxyMemory, proxyMemoryLimit is set, Istio gives the proxy only the annotated resources and merges nothing from the mesh defaults")
}

// minCPURequestMillicores keeps a request from rounding to nothing: the proxy
// always spends some CPU on xDS and stats.
const minCPURequestMillicores = 10

func (p *Plan) warn(format string, args ...any) {
	p.Warnings = append(p.Warnings, p.names.Sprintf(format, args...))
}

func (p *Plan) assume(format string, args ...any) {
	p.Assumptions = append(p.Assumptions, p.names.Sprintf(format, args...))
}

func ceilInt(x float64) int64 { return int64(math.Ceil(x - 1e-9)) }

func roundUp(x, step int64) int64 { return (x + step - 1) / step * step }
