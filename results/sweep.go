package results

import "time"

// SchemaVersion is the sweep.json format this build writes; it reads every
// version up to it. Version 2 added each step's configured requests per
// inbound request (the hops check), the latency added from intended send
// times and the baseline's intended latency, the search steps' length and
// the arrival process; a version 1 file has none of them, and its load was
// evenly spaced (the only schedule then).
const SchemaVersion = 2

// Sweep statuses.
const (
	SweepRunning     = "running"
	SweepInterrupted = "interrupted"
	SweepDone        = "done"
	SweepFailed      = "failed"
)

// Step statuses: ok is a finished valid step.
const (
	StatusPending = "pending"
	StatusOK      = "ok"
	StatusInvalid = "invalid"
	StatusFailed  = "failed"
)

// Sweep is sweep.json.
type Sweep struct {
	SchemaVersion int         `json:"schema_version"`
	Tool          string      `json:"tool"`
	Backend       string      `json:"backend"` // local or kubernetes
	Proxy         Proxy       `json:"proxy"`
	Environment   Environment `json:"environment"`
	Options       Options     `json:"options"`
	Status        string      `json:"status"`
	// Owner is the process sweeping while the status is running.
	Owner     *Owner    `json:"owner,omitempty"`
	StartedAt time.Time `json:"started_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Baseline runs go straight to the app, without the proxy, to tell the
	// latency the proxy adds.
	Baseline []Run `json:"baseline"`
	// Searches hold each setting's max-throughput search (--find-max).
	Searches []Search `json:"searches"`
	Steps    []Step   `json:"steps"`
}

// Proxy says which proxy the figures describe.
type Proxy struct {
	Name    string `json:"name"` // envoy, haproxy, nginx, custom
	Version string `json:"version"`
	Command string `json:"command,omitempty"`
}

// Environment records where the sweep ran.
type Environment struct {
	Hostname          string    `json:"hostname,omitempty"`
	Cores             int       `json:"cores"`
	Kernel            string    `json:"kernel,omitempty"`
	CgroupVersion     string    `json:"cgroup_version"` // v1, v2, none
	CPULimitsEnforced bool      `json:"cpu_limits_enforced"`
	Placement         Placement `json:"placement"`
	Notes             []string  `json:"notes,omitempty"`
	// Cluster fields are the Kubernetes backend's.
	Cluster *Cluster `json:"cluster,omitempty"`
}

// Placement records which CPUs the proxy and the load generator used.
type Placement struct {
	ProxyCPUs     string `json:"proxy_cpus"`     // a cpuset list, or "" when not pinned
	GeneratorCPUs string `json:"generator_cpus"` // idem
	Separate      bool   `json:"separate"`
	Note          string `json:"note,omitempty"`
}

// Cluster describes a Kubernetes sweep's target.
type Cluster struct {
	ServerVersion string `json:"server_version"`
	Namespace     string `json:"namespace"`
	Deployment    string `json:"deployment"`
	MetricsSource string `json:"metrics_source"`
}

// Options are the sweep's grid and load options: a resumed sweep must be
// started with the same ones.
type Options struct {
	Concurrency        []int     `json:"concurrency"`
	CPULimitMillicores []int64   `json:"cpu_limit_millicores"`
	Rates              []float64 `json:"rates"`
	RatesAreFractions  bool      `json:"rates_are_fractions"`
	Repeats            int       `json:"repeats,omitempty"` // absent in sweeps recorded before --repeats
	FindMax            bool      `json:"find_max"`
	SLOP99Ms           float64   `json:"slo_p99_ms,omitempty"`
	OutboundPerRequest int       `json:"outbound_per_request"`
	DurationSeconds    float64   `json:"duration_s"`
	// SearchDurationSeconds is the length of the search's steps when it
	// differs from the grid's (0: the same).
	SearchDurationSeconds float64 `json:"search_duration_s,omitempty"`
	WarmupSeconds         float64 `json:"warmup_s"`
	Connections           int     `json:"connections"`
	Protocol              string  `json:"protocol"`
	PayloadBytes          int     `json:"payload_bytes"`
	// Arrival is the load's arrival process: uniform (evenly spaced),
	// poisson (independent clients) or burst:N; absent in sweeps recorded
	// before it was a choice, whose load was evenly spaced.
	Arrival string `json:"arrival,omitempty"`
}

// ArrivalUniform is the evenly spaced schedule, the only one before the
// arrival process was recorded.
const ArrivalUniform = "uniform"

// ArrivalProcess is the load's arrival process, uniform for sweeps recorded
// before it was a choice.
func (o Options) ArrivalProcess() string {
	if o.Arrival == "" {
		return ArrivalUniform
	}
	return o.Arrival
}

// Latency is a latency summary in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Avg  float64 `json:"avg"`
	Max  float64 `json:"max"`
}

// Run is a load run without proxy measurements: a baseline run.
type Run struct {
	RequestedRPS float64 `json:"requested_rps"`
	ActualRPS    float64 `json:"actual_rps"`
	LatencyMs    Latency `json:"latency_ms"`
	// IntendedLatencyMs is timed from each call's intended send time.
	IntendedLatencyMs *Latency `json:"intended_latency_ms,omitempty"`
	ErrorRatio        float64  `json:"error_ratio"`
	Valid             bool     `json:"valid"`
	Reasons           []string `json:"invalid_reasons,omitempty"`
	FortioFile        string   `json:"fortio_file,omitempty"`
}

// Search is one setting's max-throughput search.
type Search struct {
	Setting
	MaxRPS        float64 `json:"max_rps"`
	LowestFailRPS float64 `json:"lowest_fail_rps"`
	Converged     bool    `json:"converged"`
	StopReason    string  `json:"stop_reason"`
	Steps         []Step  `json:"steps"`
}

// Step is one measured rate at one setting. Field names marked in the README
// are a contract.
type Step struct {
	Index int `json:"index"`
	Setting
	RateFraction    float64 `json:"rate_fraction,omitempty"`
	Repeat          int     `json:"repeat,omitempty"` // 1-based, when rates are repeated
	RequestedRPS    float64 `json:"requested_rps"`
	ActualRPS       float64 `json:"actual_rps"`
	DurationSeconds float64 `json:"duration_s"`

	ProxyCPUSeconds              float64 `json:"proxy_cpu_seconds"`
	ProxyCPUCores                float64 `json:"proxy_cpu_cores"`
	ProxyCPUSecondsPer1kRequests float64 `json:"proxy_cpu_seconds_per_1k_requests"`
	ProxyRequests                int64   `json:"proxy_requests"`
	InboundRequests              int64   `json:"inbound_requests"`
	ProxyRequestsPerInbound      float64 `json:"proxy_requests_per_inbound"`
	// ConfiguredRequestsPerInbound is what the sweep's fan-out makes it
	// (1 + k), when it is known (the local lab); the hops check compares.
	ConfiguredRequestsPerInbound float64 `json:"configured_requests_per_inbound,omitempty"`
	// SidecarRPS is the proxy's own request rate: all requests it carried.
	SidecarRPS            float64 `json:"sidecar_rps"`
	ThrottledRatio        float64 `json:"throttled_ratio"`
	ThrottledSeconds      float64 `json:"throttled_seconds"`
	MemoryWorkingSetBytes int64   `json:"memory_working_set_bytes"`

	LatencyMs         Latency  `json:"latency_ms"`
	IntendedLatencyMs *Latency `json:"intended_latency_ms,omitempty"`
	// LatencyAddedMs is this step's latency minus the baseline's at the
	// nearest rate, both timed from the actual send (service time).
	LatencyAddedMs *Latency `json:"latency_added_ms,omitempty"`
	// IntendedLatencyAddedMs is the same from intended send times: the
	// figure free of coordinated omission.
	IntendedLatencyAddedMs *Latency `json:"intended_latency_added_ms,omitempty"`
	ErrorRatio             float64  `json:"error_ratio"`
	// GeneratorRealtime says the load generator's calls went out at
	// real-time priority (docs/load-engine.md: it keeps other processes
	// from bunching the arrivals; the proxy's CPU is its cgroup's either way).
	GeneratorRealtime bool `json:"generator_realtime,omitempty"`

	Status   string   `json:"status"`
	Reason   string   `json:"reason,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
	// Sources says where each measurement came from (cgroup, proxy stats).
	Sources    map[string]string `json:"sources,omitempty"`
	File       string            `json:"file,omitempty"`
	FortioFile string            `json:"fortio_file,omitempty"`
}

// Done reports whether the step needs no more work.
func (s Step) Done() bool { return s.Status != StatusPending }
