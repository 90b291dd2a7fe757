package sizing

import (
	"math"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

// scattered gives cost a step-to-step scatter of sd cores with a curve
// known exactly (no covariance), so that its 95% interval at any rate is
// point ± t(dof) x sd: the tests can work the figures out by hand.
func scattered(cost model.CPUCost, sd float64, dof int) model.CPUCost {
	cost.Uncertainty = &model.CostUncertainty{ResidualSD: sd, Points: dof + 2, DoF: dof, Rates: (dof + 2) / 3}
	return cost
}

func setting(c int, limit int64, cost model.CPUCost, capacity float64) MeasuredSetting {
	return MeasuredSetting{Setting: results.Setting{Concurrency: c, CPULimitMillicores: limit}, Cost: cost, CapacityRPS: capacity, CapacityBasis: "max-throughput search (converged)", P99AtCapacityMs: 3}
}

func TestChooseMeasured(t *testing.T) {
	// t(0.975, 28) = 2.0484: an sd of 5m gives ±10.2m.
	sd := 0.005
	settings := []MeasuredSetting{
		// c1 500m: cheap but carries only 1500.
		setting(1, 500, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.09}, sd, 28), 1500),
		// c1 1000m: carries 3000 at 0.10/krps: 250m at the peak.
		setting(1, 1000, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.10}, sd, 28), 3000),
		// c2 none: carries 5000 at 0.12/krps: 308m.
		setting(2, 0, scattered(model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.12}, sd, 28), 5000),
		// c2 2000m: carries 2600 but its p99 breaks a 5 ms SLO.
		setting(2, 2000, scattered(model.CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.08}, sd, 28), 2600),
		// c1 300m: cheapest of all, but throttled from 2000 sidecar RPS.
		setting(1, 300, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.07}, sd, 28), 2500),
	}
	settings[3].P99AtCapacityMs = 9
	settings[4].ThrottledFromRPS = 2000
	// Target 2000, headroom 0.2: peak 2400.
	rec := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 2000, Headroom: 0.2, SLOP99Ms: 5})
	if rec.PeakSidecarRPS != 2400 {
		t.Fatalf("peak = %v", rec.PeakSidecarRPS)
	}
	half := model.TQuantile95(28) * sd * 1000
	// c1 1000m: 0.01 + 0.10 x 2.4 = 250m, request ceil(250 + 10.2) = 261m;
	// c2 none: 0.02 + 0.288 = 308m, 319m. The intervals do not overlap.
	if rec.Best == nil || rec.Best.Concurrency != 1 || rec.Best.CPULimitMillicores != 1000 || rec.Best.CPURequestMillicores != int64(math.Ceil(250+half)) {
		t.Fatalf("best = %+v", rec.Best)
	}
	if math.Abs(rec.Best.PointMillicores-250) > 1e-9 {
		t.Errorf("point estimate %v, want 250m", rec.Best.PointMillicores)
	}
	if rec.RunnerUp == nil || rec.RunnerUp.Concurrency != 2 || rec.RunnerUp.CPULimitMillicores != 0 || rec.RunnerUp.CPURequestMillicores != int64(math.Ceil(308+half)) {
		t.Errorf("runner-up = %+v", rec.RunnerUp)
	}
	if len(rec.Indistinguishable) != 0 {
		t.Errorf("settings 58m apart with ±10m intervals called indistinguishable: %v", rec.Indistinguishable)
	}
	joined := strings.Join(rec.Rejected, "\n")
	for _, want := range []string{"concurrency 1, CPU limit 500m: carried at most 1500", "above the 5.00 ms SLO", "concurrency 1, CPU limit 300m: its CPU limit throttled the proxy from 2000"} {
		if !strings.Contains(joined, want) {
			t.Errorf("rejections lack %q:\n%s", want, joined)
		}
	}
	if !strings.Contains(rec.Best.Reason, "95% prediction interval 239m-261m: request 261m") {
		t.Errorf("reason %q", rec.Best.Reason)
	}
}

// The request is never below the point estimate: it is the upper end of
// the interval, and a point estimate where there is no interval.
func TestRequestIsAtLeastThePointEstimate(t *testing.T) {
	costs := []model.CPUCost{
		scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.1}, 0.004, 10),
		scattered(model.CPUCost{IdleCores: 0, CoresPerKRPS: 0.2, Exponent: 0.5}, 0.02, 3),
		{IdleCores: 0.02, CoresPerKRPS: 0.05},
		scattered(model.CPUCost{CoresPerKRPS: 0.001}, 0, 5), // below the 10m floor
	}
	for _, c := range costs {
		for _, rps := range []float64{100, 1000, 2500, 9000} {
			r := RequestAt(c, rps)
			// 1e-6 m: the float arithmetic's fuzz, which the rounding ignores.
			if float64(r.CPURequestMillicores) < r.PointMillicores-1e-6 || float64(r.CPURequestMillicores) < r.Interval.High*1000-1e-6 {
				t.Errorf("%s at %v RPS: request %dm below the point %.1fm or the interval's top %.1fm", c.Formula(), rps, r.CPURequestMillicores, r.PointMillicores, r.Interval.High*1000)
			}
		}
	}
}

// Two settings whose intervals overlap cannot be told apart: both are
// reported, and the tie rule (fewer workers, then the lower limit) picks,
// not the lower point estimate.
func TestOverlappingIntervalsAreIndistinguishable(t *testing.T) {
	wide := func(idle float64) model.CPUCost {
		return scattered(model.CPUCost{IdleCores: idle, CoresPerKRPS: 0.05}, 0.03, 4) // ±83m
	}
	settings := []MeasuredSetting{
		setting(2, 2000, wide(0.01), 4000), // 110m at 2000: the lowest request
		setting(1, 1000, wide(0.03), 4000), // 130m
		setting(1, 0, wide(0.02), 4000),    // 120m, no limit
	}
	rec := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 2000})
	if rec.Best == nil || rec.Best.Concurrency != 1 || rec.Best.CPULimitMillicores != 1000 {
		t.Fatalf("best = %+v; the tie rule picks one worker, then the lower limit", rec.Best)
	}
	if len(rec.Indistinguishable) != 3 || !strings.HasPrefix(rec.Indistinguishable[0], "concurrency 1, CPU limit 1:") {
		t.Errorf("indistinguishable = %q", rec.Indistinguishable)
	}
	if rec.RunnerUp == nil || rec.RunnerUp.Concurrency != 1 || rec.RunnerUp.CPULimitMillicores != 0 {
		t.Errorf("runner-up = %+v, want the other one-worker setting", rec.RunnerUp)
	}
	warned := false
	for _, w := range rec.Warnings {
		if strings.Contains(w, "3 settings are indistinguishable at the peak") && strings.Contains(w, TieRule) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warning names the indistinguishable settings and the rule: %q", rec.Warnings)
	}
	if !strings.Contains(strings.Join(rec.Rejected, "\n"), "concurrency 2, CPU limit 2: indistinguishable from the chosen") {
		t.Errorf("rejections %q", rec.Rejected)
	}
	// Narrow the intervals and the lowest request wins outright.
	for i := range settings {
		settings[i].Cost.Uncertainty.ResidualSD = 0.001
	}
	rec = ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 2000})
	if rec.Best.Concurrency != 2 || len(rec.Indistinguishable) != 0 {
		t.Errorf("with ±3m intervals: best %s, indistinguishable %q", rec.Best.Setting, rec.Indistinguishable)
	}
}

// No chosen concurrency exceeds ceil(CPU limit) unless that is allowed.
func TestConcurrencyAboveTheLimitIsNotChosen(t *testing.T) {
	cost := scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}, 0.002, 20)
	cheap := scattered(model.CPUCost{IdleCores: 0.005, CoresPerKRPS: 0.03}, 0.002, 20)
	settings := []MeasuredSetting{
		setting(2, 500, cheap, 4000),  // 2 workers under half a core: the cheapest
		setting(2, 1000, cheap, 4000), // 2 workers under one core
		setting(3, 2500, cheap, 4000), // 3 = ceil(2.5): allowed
		setting(1, 1000, cost, 4000),
	}
	rec := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 1000})
	if rec.Best == nil || !ConcurrencyFitsLimit(rec.Best.Concurrency, rec.Best.CPULimitMillicores) || rec.Best.Concurrency != 3 {
		t.Fatalf("best = %+v, want 3 workers at 2500m, the cheapest that fits ceil(limit)", rec.Best)
	}
	if rec.RunnerUp != nil && !ConcurrencyFitsLimit(rec.RunnerUp.Concurrency, rec.RunnerUp.CPULimitMillicores) {
		t.Errorf("runner-up %s runs more workers than ceil(limit)", rec.RunnerUp.Setting)
	}
	if rec.RejectedAboveLimit != 2 {
		t.Errorf("%d rejected for concurrency above the limit, want 2: %q", rec.RejectedAboveLimit, rec.Rejected)
	}
	if !strings.Contains(strings.Join(rec.Rejected, "\n"), "concurrency 2, CPU limit 500m: concurrency 2 is above ceil(CPU limit 500m) = 1") {
		t.Errorf("rejections %q", rec.Rejected)
	}
	allowed := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 1000, AllowConcurrencyAboveLimit: true})
	if allowed.Best == nil || allowed.Best.Concurrency != 2 || allowed.Best.CPULimitMillicores != 500 {
		t.Fatalf("allowed: best = %+v, want the cheapest, 2 workers at 500m", allowed.Best)
	}
	if !strings.Contains(strings.Join(allowed.Warnings, "\n"), "runs more workers than ceil(CPU limit) = 1, chosen only because that was allowed") {
		t.Errorf("allowed: warnings %q", allowed.Warnings)
	}
}

// A capacity that is only a lower bound carries the peak only when it is
// at or above it, with a warning; a lower bound below the peak is not
// stretched to it.
func TestLowerBoundCapacities(t *testing.T) {
	s := setting(1, 1000, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}, 0.002, 20), 2390)
	s.CapacityIsLowerBound, s.CapacityBasis = true, "the highest valid step, no search"
	rec := ChooseMeasured([]MeasuredSetting{s}, MeasuredTarget{TargetSidecarRPS: 2000, Headroom: 0.2})
	if rec.Best != nil || !strings.Contains(rec.Rejected[0], "carried 2390 sidecar RPS, a lower bound (the highest valid step, no search): not shown to carry the peak 2400") {
		t.Errorf("a lower bound 10 RPS below the peak: best %+v, rejected %q", rec.Best, rec.Rejected)
	}
	s.CapacityRPS = 2700
	rec = ChooseMeasured([]MeasuredSetting{s}, MeasuredTarget{TargetSidecarRPS: 2000, Headroom: 0.2})
	if rec.Best == nil || !strings.Contains(rec.Best.Reason, "carried at least 2700") || !strings.Contains(strings.Join(rec.Warnings, "\n"), "is a lower bound") {
		t.Errorf("a lower bound above the peak: best %+v, warnings %q", rec.Best, rec.Warnings)
	}
	// A searched capacity 10 RPS short of the peak does not carry it either.
	s.CapacityRPS, s.CapacityIsLowerBound = 2390, false
	if rec := ChooseMeasured([]MeasuredSetting{s}, MeasuredTarget{TargetSidecarRPS: 2000, Headroom: 0.2}); rec.Best != nil {
		t.Errorf("a searched 2390 carries the peak 2400: %+v", rec.Best)
	}
}

// A request without an interval is not set against requests with one; it
// is chosen only when no setting has an interval, with a warning.
func TestPointEstimatesDoNotBeatIntervals(t *testing.T) {
	bare := setting(1, 500, model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.03}, 4000)
	measured := setting(1, 1000, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}, 0.002, 20), 4000)
	rec := ChooseMeasured([]MeasuredSetting{bare, measured}, MeasuredTarget{TargetSidecarRPS: 1000})
	if rec.Best == nil || rec.Best.CPULimitMillicores != 1000 || !strings.Contains(strings.Join(rec.Rejected, "\n"), "has no prediction interval") {
		t.Errorf("best %+v, rejected %q", rec.Best, rec.Rejected)
	}
	rec = ChooseMeasured([]MeasuredSetting{bare}, MeasuredTarget{TargetSidecarRPS: 1000})
	if rec.Best == nil || rec.Best.HasInterval || !strings.Contains(strings.Join(rec.Warnings, "\n"), "no prediction interval") {
		t.Errorf("alone: best %+v, warnings %q", rec.Best, rec.Warnings)
	}
}

// An interval wider than ±20% of the request says what would narrow it,
// from the scatter observed.
func TestWideIntervalSaysHowToNarrowIt(t *testing.T) {
	wide := setting(1, 1000, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}, 0.02, 4), 4000)
	wide.Cost.Uncertainty.StepSeconds = 3
	rec := ChooseMeasured([]MeasuredSetting{wide}, MeasuredTarget{TargetSidecarRPS: 2000})
	if rec.Best.Narrowing == nil {
		t.Fatalf("no narrowing advice for ±%.0f%%", 100*rec.Best.Interval.HalfWidth/rec.Best.Interval.High)
	}
	w := strings.Join(rec.Warnings, "\n")
	if !strings.Contains(w, "of the request") || !strings.Contains(w, "instead of 3s") {
		t.Errorf("warnings %q", w)
	}
	narrow := setting(1, 1000, scattered(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}, 0.001, 20), 4000)
	if rec := ChooseMeasured([]MeasuredSetting{narrow}, MeasuredTarget{TargetSidecarRPS: 2000}); rec.Best.Narrowing != nil || len(rec.Warnings) != 0 {
		t.Errorf("±2%%: narrowing %+v, warnings %q", rec.Best.Narrowing, rec.Warnings)
	}
}

func TestChooseMeasuredWarnsOnAnUncertainFit(t *testing.T) {
	settings := []MeasuredSetting{setting(1, 0, scattered(model.CPUCost{CoresPerKRPS: 0.1}, 0.001, 20), 3000)}
	settings[0].FitError = 0.35
	rec := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 1000})
	if rec.Best == nil || len(rec.Warnings) != 1 || !strings.Contains(rec.Warnings[0], "within 35%") {
		t.Errorf("rec = %+v", rec)
	}
	settings[0].FitError = 0.05
	if rec := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 1000}); len(rec.Warnings) != 0 {
		t.Errorf("a 5%% fit error warned: %v", rec.Warnings)
	}
}

func TestChooseMeasuredSaysWhenNothingMeetsTheTarget(t *testing.T) {
	settings := []MeasuredSetting{setting(1, 0, model.CPUCost{CoresPerKRPS: 0.1}, 1000)}
	rec := ChooseMeasured(settings, MeasuredTarget{TargetSidecarRPS: 2000})
	if rec.Best != nil || !strings.Contains(rec.NoneMeets, "the most was 1000 at concurrency 1, CPU limit none") {
		t.Errorf("rec = %+v", rec)
	}
}

func TestDefaultWorkers(t *testing.T) {
	tests := []struct {
		limit        int64
		istio, envoy int
	}{{500, 1, 1}, {1000, 1, 1}, {1500, 2, 1}, {2500, 3, 2}, {4000, 4, 4}, {0, 0, 0}}
	for _, tt := range tests {
		d := DefaultWorkers(tt.limit)
		if d.Istio != tt.istio || d.Envoy != tt.envoy || d.Text == "" {
			t.Errorf("DefaultWorkers(%dm) = %+v, want Istio %d, Envoy %d", tt.limit, d, tt.istio, tt.envoy)
		}
	}
	if !strings.Contains(DefaultWorkers(0).Text, "node core") || !strings.Contains(DefaultWorkers(2500).Text, "ceil(2500m) = 3") {
		t.Errorf("texts: %q, %q", DefaultWorkers(0).Text, DefaultWorkers(2500).Text)
	}
}
