package loadgen

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Max-throughput search.
//
// FindMax looks for the highest requested rate at which a run still meets an
// SLO, the way Nighthawk's adaptive load controller does: double the rate
// from StartQPS until a step fails (or halve it until one passes), then
// bisect between the highest passing and the lowest failing rate until they
// are within Precision of each other. It is split like Nighthawk's, into a
// step controller that only decides the next rate (stepController), a check
// that only scores a step (SLO.judge), and a Runner that only measures, so
// that the search is tested against a fake and reused by the sweep driver
// against a real proxy.

// Runner measures one step at the given rate. Run with fixed Options but QPS
// is the usual one; see RunnerFor.
type Runner func(ctx context.Context, qps float64) (*Result, error)

// RunnerFor returns a Runner that makes a Run with o at each step's rate.
// onStep, when set, is called before each run, e.g. to label progress.
func RunnerFor(o Options, onStep func(qps float64)) Runner {
	return func(ctx context.Context, qps float64) (*Result, error) {
		if onStep != nil {
			onStep(qps)
		}
		step := o
		step.QPS = qps
		step.Labels = strings.TrimSpace(fmt.Sprintf("%s qps=%g", o.Labels, qps))
		return Run(ctx, step)
	}
}

// LatencyBasis says which latency an SLO applies to.
type LatencyBasis string

const (
	// IntendedLatency measures from each call's scheduled send time, so
	// queueing behind a slow call counts (coordinated omission corrected).
	IntendedLatency LatencyBasis = "intended"
	// ServiceLatency is fortio's figure, from each call's actual send.
	ServiceLatency LatencyBasis = "service"
)

// SLO is what a step must meet, on top of the run's own validity gates
// (achieved/requested, error ratio, schedule kept: Options.Limits).
type SLO struct {
	P99   time.Duration // 0: no latency objective
	Basis LatencyBasis  // default IntendedLatency
}

// judge scores one step: it passes when the run is valid and its p99 is
// within the objective.
func (slo SLO) judge(s Summary) (pass bool, reasons []string) {
	reasons = append(reasons, s.InvalidReasons...)
	if slo.P99 > 0 {
		p99, basis := s.LatencyMs.P99, ServiceLatency
		if slo.Basis != ServiceLatency && s.IntendedLatencyMs != nil {
			p99, basis = s.IntendedLatencyMs.P99, IntendedLatency
		}
		limit := float64(slo.P99) / float64(time.Millisecond)
		if p99 > limit {
			reasons = append(reasons, fmt.Sprintf("%s p99 %.3fms > SLO %.3fms", basis, p99, limit))
		}
	}
	return len(reasons) == 0, reasons
}

// SearchOptions bound the search. Zero fields take the defaults shown.
type SearchOptions struct {
	SLO       SLO
	StartQPS  float64       // first step; default 100
	MaxQPS    float64       // never step above; default 1,000,000
	MinQPS    float64       // give up when even this fails; default 1
	Precision float64       // stop when (fail-pass)/pass <= Precision; default 0.02
	MaxSteps  int           // default 25
	MaxTime   time.Duration // no step starts that would end after it; default 15m
	// FailRetries re-measures a failing rate up to this many times before
	// taking the failure; one pass is enough. It guards the bisection, which
	// a single noisy step would send the wrong way, at the cost of a step per
	// failure. Default 0.
	FailRetries int
	// OnStep, when set, is called after each step.
	OnStep func(Step)
}

// DefaultFailRetries is how many times a command line re-measures a
// failing rate unless told otherwise (SearchOptions.FailRetries 0 itself
// means none).
const DefaultFailRetries = 1

// The ranges of a search's options.
const (
	MaxSearchQPS   = 1e9
	MaxSearchSteps = 1000
	MaxSearchTime  = 24 * time.Hour
)

// Search defaults.
const (
	DefaultStartQPS  = 100
	DefaultMaxQPS    = 1e6
	DefaultMinQPS    = 1
	DefaultPrecision = 0.02
	DefaultMaxSteps  = 25
	DefaultMaxTime   = 15 * time.Minute
)

func (o SearchOptions) withDefaults() SearchOptions {
	if o.StartQPS == 0 {
		o.StartQPS = DefaultStartQPS
	}
	if o.MaxQPS == 0 {
		o.MaxQPS = DefaultMaxQPS
	}
	if o.MinQPS == 0 {
		o.MinQPS = DefaultMinQPS
	}
	if o.Precision == 0 {
		o.Precision = DefaultPrecision
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = DefaultMaxSteps
	}
	if o.MaxTime == 0 {
		o.MaxTime = DefaultMaxTime
	}
	if o.SLO.Basis == "" {
		o.SLO.Basis = IntendedLatency
	}
	return o
}

// Validate reports the first invalid field as a *FieldError.
func (o SearchOptions) Validate() error {
	o = o.withDefaults()
	switch {
	case o.SLO.P99 < 0:
		return fieldErr(FieldSLOP99, "expected a positive duration, got %v", o.SLO.P99)
	case o.SLO.Basis != IntendedLatency && o.SLO.Basis != ServiceLatency:
		return fieldErr(FieldSLOBasis, "expected intended or service, got %q", o.SLO.Basis)
	case o.StartQPS < 0 || o.StartQPS > MaxSearchQPS || math.IsNaN(o.StartQPS):
		return fieldErr(FieldStartQPS, "expected a positive rate of at most %g, got %g", float64(MaxSearchQPS), o.StartQPS)
	case o.MinQPS < 0 || o.MinQPS > MaxSearchQPS || math.IsNaN(o.MinQPS):
		return fieldErr(FieldMinQPS, "expected a positive rate of at most %g, got %g", float64(MaxSearchQPS), o.MinQPS)
	case o.MaxQPS < o.StartQPS || o.MaxQPS > MaxSearchQPS || math.IsNaN(o.MaxQPS):
		return fieldErr(FieldMaxQPS, "expected at least the start rate (%g) and at most %g, got %g", o.StartQPS, float64(MaxSearchQPS), o.MaxQPS)
	case !(o.Precision > 0 && o.Precision < 1):
		return fieldErr(FieldPrecision, "expected a ratio between 0 and 1, got %g", o.Precision)
	case o.MaxSteps < 1 || o.MaxSteps > MaxSearchSteps:
		return fieldErr(FieldMaxSteps, "expected 1..%d, got %d", MaxSearchSteps, o.MaxSteps)
	case o.MaxTime < 0 || o.MaxTime > MaxSearchTime:
		return fieldErr(FieldMaxTime, "expected a positive duration of at most %v, got %v", MaxSearchTime, o.MaxTime)
	case o.FailRetries < 0 || o.FailRetries > 5:
		return fieldErr(FieldFailRetries, "expected 0 to 5, got %d", o.FailRetries)
	}
	return nil
}

// Step is one measured rate of a search. Its JSON is the run's Summary plus
// the step number and verdict.
type Step struct {
	N           int      `json:"step"`
	Attempt     int      `json:"attempt"` // 1, or more when a failing rate was re-measured
	Pass        bool     `json:"pass"`
	FailReasons []string `json:"fail_reasons"`
	Summary
	Elapsed time.Duration `json:"-"`
	Result  *Result       `json:"-"` // fortio's result, for saving
}

// Why a search stopped.
const (
	StopConverged = "converged" // passing and failing rates within Precision
	StopCapped    = "max-qps"   // MaxQPS itself passed
	StopFloor     = "min-qps"   // nothing down to MinQPS passed
	StopSteps     = "max-steps" // step budget spent
	StopTime      = "max-time"  // time budget spent
	StopCancelled = "cancelled" // ctx done
	StopError     = "error"     // the runner failed
)

// SearchResult is the outcome of FindMax: every step, in order, and the
// highest passing rate.
type SearchResult struct {
	// HighestPassQPS is the highest requested rate that passed; 0 if none
	// did. (Its JSON name predates the rule that a generator's rate is QPS.)
	HighestPassQPS float64 `json:"max_rps"`
	// Best is the step that set HighestPassQPS (nil if none passed).
	Best *Step `json:"-"`
	// LowestFailQPS is the lowest rate that failed (0 if none did): the true
	// maximum lies between HighestPassQPS and it.
	LowestFailQPS float64  `json:"lowest_fail_qps"`
	Converged     bool     `json:"converged"`
	StopReason    string   `json:"stop_reason"`
	Steps         []Step   `json:"steps"`
	Warnings      []string `json:"search_warnings"`
}

// FindMax runs steps chosen by the step controller until the search
// converges or hits a cap. It returns the steps made so far with any error
// (a runner failure or ctx's).
func FindMax(ctx context.Context, o SearchOptions, run Runner) (*SearchResult, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	o = o.withDefaults()
	ctrl := newStepController(o)
	res := &SearchResult{Steps: []Step{}, Warnings: []string{}}
	started := time.Now()
	var longest time.Duration
	retry, attempt := false, 1
	for {
		qps, reason := ctrl.next()
		if retry {
			qps, reason = res.Steps[len(res.Steps)-1].RequestedQPS, ""
		}
		if reason == "" && len(res.Steps) >= o.MaxSteps {
			reason = StopSteps
		}
		if reason == "" && time.Since(started)+longest > o.MaxTime {
			reason = StopTime
		}
		if reason != "" {
			res.StopReason = reason
			break
		}
		stepStart := time.Now()
		r, err := run(ctx, qps)
		if ctx.Err() != nil {
			res.StopReason = StopCancelled
			res.finish(ctrl)
			return res, ctx.Err()
		}
		if err != nil {
			res.StopReason = StopError
			res.finish(ctrl)
			return res, fmt.Errorf("step %d at %g qps: %w", len(res.Steps)+1, qps, err)
		}
		step := Step{N: len(res.Steps) + 1, Attempt: attempt, Summary: r.Summary, Elapsed: time.Since(stepStart), Result: r}
		step.Pass, step.FailReasons = o.SLO.judge(r.Summary)
		if step.FailReasons == nil {
			step.FailReasons = []string{}
		}
		longest = max(longest, step.Elapsed)
		retry = !step.Pass && attempt <= o.FailRetries
		if retry {
			attempt++
		} else {
			ctrl.record(qps, step.Pass)
			attempt = 1
		}
		res.Steps = append(res.Steps, step)
		if o.OnStep != nil {
			o.OnStep(step)
		}
	}
	res.finish(ctrl)
	return res, nil
}

// finish fills the outcome from the controller's bounds and the steps.
func (res *SearchResult) finish(ctrl *stepController) {
	res.HighestPassQPS = ctrl.pass
	res.LowestFailQPS = ctrl.fail
	res.Converged = res.StopReason == StopConverged
	for i := range res.Steps {
		s := &res.Steps[i]
		if s.Pass && s.RequestedQPS == ctrl.pass {
			res.Best = s
		}
	}
	// A knee is only the target's if the generator had CPU to spare there.
	for _, s := range res.Steps {
		if !s.Pass && s.RequestedQPS == ctrl.fail && len(s.Warnings) > 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf(
				"the first failing rate (%g qps) ran with a generator warning: %s; the maximum may be the generator's",
				s.RequestedQPS, s.Warnings[0]))
		}
	}
}

// stepController decides the next rate from the passes and fails so far. It
// is pure: no clock, no I/O.
type stepController struct {
	o    SearchOptions
	pass float64 // highest passing rate; 0: none yet
	fail float64 // lowest failing rate; 0: none yet
}

func newStepController(o SearchOptions) *stepController { return &stepController{o: o} }

// next returns the rate to measure, or why the search is over.
func (c *stepController) next() (qps float64, stop string) {
	switch {
	case c.pass == 0 && c.fail == 0:
		return c.o.StartQPS, ""
	case c.fail == 0: // exponential phase: double until a step fails
		if c.pass >= c.o.MaxQPS {
			return 0, StopCapped
		}
		return math.Min(2*c.pass, c.o.MaxQPS), ""
	case c.pass == 0: // even the start failed: halve until a step passes
		if c.fail/2 < c.o.MinQPS {
			return 0, StopFloor
		}
		return c.fail / 2, ""
	default: // binary phase
		if c.fail-c.pass <= c.o.Precision*c.pass {
			return 0, StopConverged
		}
		return (c.pass + c.fail) / 2, ""
	}
}

// record takes a step's verdict. A noisy verdict that contradicts an earlier
// one (a pass above a fail) narrows the bracket from the side it lands on, so
// the bracket never inverts.
func (c *stepController) record(qps float64, pass bool) {
	switch {
	case pass && qps > c.pass && (c.fail == 0 || qps < c.fail):
		c.pass = qps
	case !pass && (c.fail == 0 || qps < c.fail) && qps > c.pass:
		c.fail = qps
	}
}
