package profiles

import (
	"errors"
	"fmt"
	"math"

	"github.com/proxysizer/proxysizer/model"
)

// SchemaVersion is the profile format this build writes; it reads every
// version up to it. Version 2 added the cost curve (an exponent below 1 for
// a concave curve), the curve's uncertainty, the model each measured
// setting chose with the other model beside it, whether a capacity is only
// a lower bound, and the stand-in marker. A version 1 profile is a line
// everywhere.
const SchemaVersion = 2

// Kinds of profile.
const (
	KindReference = "reference" // published figures
	KindMeasured  = "measured"  // fitted from a proxysizer sweep
)

// Profile is a proxy's cost: CPU per request rate, memory per configuration
// size and worker count, and latency added.
type Profile struct {
	SchemaVersion int    `json:"schema_version"`
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	// Component is what the figures describe: sidecar, waypoint, ztunnel, or
	// a local proxy standing in for a sidecar.
	Component string `json:"component"`
	Proxy     string `json:"proxy"`
	// StandIn names the proxy measured in Envoy's place (haproxy, nginx):
	// the CPU and capacity describe it; memory is Envoy's model.
	StandIn    string           `json:"stand_in,omitempty"`
	Provenance Provenance       `json:"provenance"`
	CPU        CPUProfile       `json:"cpu"`
	Memory     model.MemoryCost `json:"memory"`
	Latency    LatencyAdded     `json:"latency_added_ms"`
}

// Provenance records where a profile's figures come from.
type Provenance struct {
	Source        string   `json:"source"`
	IstioVersions string   `json:"istio_versions,omitempty"`
	Setup         string   `json:"setup"`
	Workers       int      `json:"workers,omitempty"` // 0: not stated by the source
	MeasuredAt    string   `json:"measured_at,omitempty"`
	Notes         []string `json:"notes,omitempty"`
}

// CPUProfile is the CPU cost, overall and per concurrency where measured.
type CPUProfile struct {
	model.CPUCost
	// MaxRPSPerCore is the rate one worker sustains; 0 means unknown, and the
	// capacity is derived from the CPU cost (1000 / cores_per_krps).
	MaxRPSPerCore float64           `json:"max_rps_per_core,omitempty"`
	ByConcurrency []ConcurrencyCost `json:"by_concurrency,omitempty"`
}

// ConcurrencyCost is the cost measured at one concurrency and CPU limit:
// the curve its leave-one-rate-out error chose, with the other model beside
// it.
type ConcurrencyCost struct {
	Concurrency        int   `json:"concurrency"`
	CPULimitMillicores int64 `json:"cpu_limit_millicores"` // 0: no limit
	model.CPUCost
	// HeldOutError is the chosen curve's largest leave-one-rate-out error
	// (absent: too few rates to judge), and ModelReason why it was chosen.
	HeldOutError *float64 `json:"held_out_max_error,omitempty"`
	ModelReason  string   `json:"model_reason,omitempty"`
	// Alternative is the model not chosen.
	Alternative *CurveOption `json:"alternative,omitempty"`
	MaxRPS      float64      `json:"max_rps,omitempty"`
	// MaxRPSIsLowerBound: no search measured the maximum; MaxRPS is the
	// most a step carried.
	MaxRPSIsLowerBound bool    `json:"max_rps_is_lower_bound,omitempty"`
	ThrottlingFromRPS  float64 `json:"throttling_from_rps,omitempty"`
	R2                 float64 `json:"r2,omitempty"`
}

// CurveOption is a cost model fitted but not chosen.
type CurveOption struct {
	Model        string   `json:"model"`
	IdleCores    float64  `json:"idle_cores"`
	CoresPerKRPS float64  `json:"cores_per_krps"`
	Exponent     float64  `json:"exponent,omitempty"`
	HeldOutError *float64 `json:"held_out_max_error,omitempty"`
}

// LatencyAdded is the latency the proxy adds, in milliseconds, where published.
type LatencyAdded struct {
	P50  float64 `json:"p50,omitempty"`
	P90  float64 `json:"p90,omitempty"`
	P99  float64 `json:"p99,omitempty"`
	Note string  `json:"note,omitempty"`
}

// Capacity is how much one worker carries and why that figure.
type Capacity struct {
	RPSPerWorker float64
	Basis        string
}

// CostAt is the CPU cost at a concurrency and CPU limit (0: none): the
// entry measured at exactly that setting, else the one measured at that
// concurrency without a limit (the proxy's own cost), else any entry at that
// concurrency, else the profile's overall cost.
func (p Profile) CostAt(concurrency int, limitMillicores int64) (model.CPUCost, string) {
	var found *ConcurrencyCost
	rank := func(c *ConcurrencyCost) int {
		switch c.CPULimitMillicores {
		case limitMillicores:
			return 3
		case 0:
			return 2
		}
		return 1
	}
	for i := range p.CPU.ByConcurrency {
		c := &p.CPU.ByConcurrency[i]
		if c.Concurrency == concurrency && (found == nil || rank(c) > rank(found)) {
			found = c
		}
	}
	if found == nil {
		return p.CPU.CPUCost, fmt.Sprintf("profile %s overall cost", p.Name)
	}
	limit := "no limit"
	if found.CPULimitMillicores > 0 {
		limit = fmt.Sprintf("limit %dm", found.CPULimitMillicores)
	}
	return found.CPUCost, fmt.Sprintf("profile %s measured at concurrency %d, %s (%s curve)", p.Name, concurrency, limit, found.Model())
}

// WorkerCapacity is the rate one worker sustains: measured maxima divided by
// their concurrency where known, the profile's max_rps_per_core, or else one
// core's worth of the CPU cost.
func (p Profile) WorkerCapacity() Capacity {
	best, lowerBound := 0.0, false
	for _, c := range p.CPU.ByConcurrency {
		if c.MaxRPS > 0 && c.Concurrency > 0 && c.MaxRPS/float64(c.Concurrency) > best {
			best, lowerBound = c.MaxRPS/float64(c.Concurrency), c.MaxRPSIsLowerBound
		}
	}
	switch {
	case best > 0 && lowerBound:
		return Capacity{best, "measured RPS per worker, a lower bound (no search measured the maximum)"}
	case best > 0:
		return Capacity{best, "measured maximum RPS per worker"}
	case p.CPU.MaxRPSPerCore > 0:
		return Capacity{p.CPU.MaxRPSPerCore, "profile's max_rps_per_core"}
	case p.CPU.CPUCost.Model() == model.ModelLine:
		return Capacity{p.CPU.CPUCost.RPSAt(1),
			fmt.Sprintf("one core at %.2f cores per 1000 RPS (no measured maximum)", p.CPU.CoresPerKRPS)}
	default:
		return Capacity{p.CPU.CPUCost.RPSAt(1),
			fmt.Sprintf("one core on the curve %s (no measured maximum)", p.CPU.CPUCost.Formula())}
	}
}

// hasCurves reports the fields version 1 did not have.
func (p Profile) hasCurves() bool {
	if p.StandIn != "" || p.CPU.Exponent != 0 || p.CPU.Uncertainty != nil {
		return true
	}
	for _, c := range p.CPU.ByConcurrency {
		if c.Exponent != 0 || c.Uncertainty != nil || c.Alternative != nil || c.HeldOutError != nil || c.MaxRPSIsLowerBound {
			return true
		}
	}
	return false
}

// Validate reports the first problem that would make sizing meaningless.
func (p Profile) Validate() error {
	var errs []error
	if p.SchemaVersion < 1 || p.SchemaVersion > SchemaVersion {
		errs = append(errs, fmt.Errorf("schema_version %d is not supported (this build reads 1 to %d)", p.SchemaVersion, SchemaVersion))
	}
	if p.SchemaVersion == 1 && p.hasCurves() {
		errs = append(errs, errors.New("a cost curve (exponent, uncertainty, alternative, stand_in) needs schema_version 2"))
	}
	if p.Name == "" {
		errs = append(errs, errors.New("name is empty"))
	}
	if p.Kind != KindReference && p.Kind != KindMeasured {
		errs = append(errs, fmt.Errorf("kind must be %q or %q, got %q", KindReference, KindMeasured, p.Kind))
	}
	if err := p.CPU.CPUCost.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("cpu: %w", err))
	}
	if p.CPU.MaxRPSPerCore < 0 || math.IsNaN(p.CPU.MaxRPSPerCore) {
		errs = append(errs, fmt.Errorf("cpu.max_rps_per_core must be >= 0, got %v", p.CPU.MaxRPSPerCore))
	}
	for _, c := range p.CPU.ByConcurrency {
		if c.Concurrency < 1 {
			errs = append(errs, fmt.Errorf("cpu.by_concurrency: concurrency must be >= 1, got %d", c.Concurrency))
		}
		if err := c.CPUCost.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("cpu.by_concurrency[concurrency=%d]: %w", c.Concurrency, err))
		}
	}
	if err := p.Memory.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("memory: %w", err))
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}
