package fit_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
)

// step makes a valid step whose CPU follows idle + perK x sidecar/1000.
func step(c int, limit int64, rps, idle, perK float64) results.Step {
	sidecar := rps * 3
	return results.Step{Setting: results.Setting{Concurrency: c, CPULimitMillicores: limit}, RequestedRPS: rps, ActualRPS: rps,
		SidecarRPS: sidecar, ProxyCPUCores: idle + perK*sidecar/1000, ProxyRequestsPerInbound: 3,
		MemoryWorkingSetBytes: int64(4<<20 + c*(1<<20)), Status: results.StatusOK,
		LatencyMs: results.Latency{P99: 1 + rps/1000}, LatencyAddedMs: &results.Latency{P50: 0.2, P99: 0.5}}
}

func sweepRecord() *results.Sweep {
	rec := &results.Sweep{SchemaVersion: 1, Backend: "local", Status: results.SweepDone,
		Proxy: results.Proxy{Name: "haproxy", Version: "2.6"}, Options: results.Options{OutboundPerRequest: 2}}
	for _, rps := range []float64{100, 200, 400} {
		rec.Steps = append(rec.Steps, step(1, 500, rps, 0.01, 0.08), step(2, 0, rps, 0.02, 0.10))
	}
	// c1 500m is throttled at 400 inbound (1200 sidecar RPS).
	rec.Steps[4].ThrottledRatio = 0.3
	rec.Searches = []results.Search{{Setting: results.Setting{Concurrency: 2}, MaxRPS: 900, LowestFailRPS: 950, StopReason: "converged",
		Steps: []results.Step{step(2, 0, 900, 0.02, 0.10)}}}
	return rec
}

func refs(t *testing.T) []profiles.Profile {
	r, err := profiles.Reference()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestFromSweepFitsEachSetting(t *testing.T) {
	r, err := fit.FromSweep(sweepRecord(), refs(t), fit.Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Settings) != 2 {
		t.Fatalf("%d settings, want 2", len(r.Settings))
	}
	c1, c2 := r.Settings[0], r.Settings[1]
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	near("c1 cores per 1000 RPS", c1.CPU.Line().Cost.CoresPerKRPS, 0.08)
	near("c1 idle cores", c1.CPU.Line().Cost.IdleCores, 0.01)
	near("c1 leave-one-rate-out error (points on a line)", c1.CPU.Line().MaxHeldOutErr, 0)
	if c1.CPU.Chosen != "line" || c1.CPU.Concave().Judged {
		t.Errorf("c1 with 3 rates: chose %s, concave judged %t; the concave curve needs 4 rates to be judged", c1.CPU.Chosen, c1.CPU.Concave().Judged)
	}
	// c2 includes the search step at 900: 4 points on the same line.
	if c2.CPU.Points != 4 {
		t.Errorf("c2 fitted on %d points, want 4 (3 grid steps and the search's)", c2.CPU.Points)
	}
	near("c2 cores per 1000 RPS", c2.CPU.Line().Cost.CoresPerKRPS, 0.10)
	near("c1 throttled from (sidecar RPS)", c1.ThrottlingFromRPS, 1200)
	near("c2 throttled from (never)", c2.ThrottlingFromRPS, 0)
	near("c2 max sidecar RPS (the search's 900 x 3)", c2.MaxSidecarRPS, 2700)
	if !strings.Contains(c2.MaxBasis, "search") || c2.MaxIsLowerBound {
		t.Errorf("c2 max basis %q (lower bound %t): the search found a failing rate, so its maximum is measured", c2.MaxBasis, c2.MaxIsLowerBound)
	}
	near("c1 max sidecar RPS (its highest valid step)", c1.MaxSidecarRPS, 1200)
	if !strings.Contains(c1.MaxBasis, "no search") || !c1.MaxIsLowerBound {
		t.Errorf("c1 max basis %q (lower bound %t): no search, so a lower bound", c1.MaxBasis, c1.MaxIsLowerBound)
	}
	if c1.DefaultWorkers.Istio != 1 || c2.DefaultWorkers.Istio != 0 {
		t.Errorf("workers without the annotation: c1 500m %+v, c2 no limit %+v", c1.DefaultWorkers, c2.DefaultWorkers)
	}
	// Memory: 4 Mi + 1 Mi per worker: 5 Mi at 1 worker, 1 Mi more per worker.
	near("memory at one worker", r.Memory.BaseBytes, 5<<20)
	near("memory per extra worker", r.Memory.PerWorkerBytes, 1<<20)
	near("requests per inbound", r.RequestsPerInbound, 3)
}

// ForSetting finds a setting's fit, and nothing for one not swept or for no
// fit at all.
func TestForSetting(t *testing.T) {
	r, err := fit.FromSweep(sweepRecord(), refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c2 := results.Setting{Concurrency: 2}
	if f := r.ForSetting(c2); f == nil || f.Setting != c2 {
		t.Errorf("ForSetting(%s) = %+v", c2, f)
	}
	if f := r.ForSetting(results.Setting{Concurrency: 3}); f != nil {
		t.Errorf("a setting not swept has a fit: %+v", f)
	}
	var none *fit.Report
	if f := none.ForSetting(c2); f != nil {
		t.Errorf("a nil report has a fit: %+v", f)
	}
}

func TestProfileIsPlanReadable(t *testing.T) {
	r, err := fit.FromSweep(sweepRecord(), refs(t), fit.Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := profiles.Marshal(r.Profile)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profiles.Parse(data)
	if err != nil {
		t.Fatalf("the fitted profile does not parse back: %v\n%s", err, data)
	}
	if p.Kind != profiles.KindMeasured {
		t.Errorf("kind %q, want %q", p.Kind, profiles.KindMeasured)
	}
	if len(p.CPU.ByConcurrency) != 2 {
		t.Fatalf("%d per-setting costs, want 2", len(p.CPU.ByConcurrency))
	}
	if p.CPU.ByConcurrency[1].MaxRPS != 2700 {
		t.Errorf("c2 max RPS %v, want the search's 2700", p.CPU.ByConcurrency[1].MaxRPS)
	}
	cost, basis := p.CostAt(1, 500)
	if math.Abs(cost.CoresPerKRPS-0.08) > 1e-9 || cost.Model() != "line" {
		t.Errorf("CostAt(1, 500m) = %v cores per 1000 RPS, want c1's 0.08", cost.CoresPerKRPS)
	}
	if !strings.Contains(basis, "measured at concurrency 1, limit 500m (line curve)") {
		t.Errorf("CostAt(1, 500m) basis %q", basis)
	}
	if !strings.Contains(strings.Join(p.Provenance.Notes, " "), "haproxy standing in for Envoy") {
		t.Errorf("the profile does not say it describes haproxy: %v", p.Provenance.Notes)
	}
	if p.Latency.P50 != 0.2 {
		t.Errorf("latency added p50 %v ms, want 0.2", p.Latency.P50)
	}
	if p.Latency.P99 != 0.5 {
		t.Errorf("latency added p99 %v ms, want 0.5", p.Latency.P99)
	}
}

func TestComparisonWithReferences(t *testing.T) {
	r, _ := fit.FromSweep(sweepRecord(), refs(t), fit.Options{})
	found := false
	for _, c := range r.Comparison {
		if c.Profile == "istio-1.8-1.16" {
			found = true
			if math.Abs(c.Ratio-r.Overall.Line().Cost.CoresPerKRPS/0.35) > 1e-12 {
				t.Errorf("ratio = %v", c.Ratio)
			}
		}
		if c.Profile == "istio-1.24-ztunnel" {
			t.Error("compared with a ztunnel, which is not a sidecar")
		}
	}
	if !found {
		t.Error("no comparison with istio-1.8-1.16")
	}
}

func TestFromSweepRejects(t *testing.T) {
	oneRate := sweepRecord()
	oneRate.Steps = []results.Step{step(1, 0, 100, 0, 0.1), step(1, 0, 100, 0, 0.1)}
	oneRate.Searches = nil
	_, err := fit.FromSweep(oneRate, nil, fit.Options{})
	if !errors.Is(err, fit.ErrNothingToFit) {
		t.Errorf("one rate: %v, want fit.ErrNothingToFit", err)
	}
	if err != nil && !strings.Contains(err.Error(), "need 2 rates") {
		t.Errorf("one rate: %q does not say 2 rates are needed", err)
	}
	flat := sweepRecord()
	for i := range flat.Steps {
		flat.Steps[i].ProxyCPUCores = 0.5 - flat.Steps[i].SidecarRPS/10000 // CPU falling with load
	}
	flat.Searches = nil
	if _, err := fit.FromSweep(flat, nil, fit.Options{}); err == nil || !strings.Contains(err.Error(), "does not grow with the rate") {
		t.Errorf("falling CPU: %v, want \"does not grow with the rate\"", err)
	}
}

func TestFromSweepWarnsOnAPartialSweep(t *testing.T) {
	partial := sweepRecord()
	partial.Status = results.SweepInterrupted
	partial.Steps = append(partial.Steps, results.Step{Setting: results.Setting{Concurrency: 2}, RequestedRPS: 800, Status: results.StatusPending})
	r, err := fit.FromSweep(partial, nil, fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Warnings) == 0 {
		t.Fatal("no warning on a partial sweep")
	}
	if !strings.Contains(r.Warnings[0], "6 of 7 steps done") {
		t.Errorf("warning %q does not say 6 of 7 steps are done", r.Warnings[0])
	}
}

// concaveRecord is a sweep whose CPU follows a concave curve at 5 rates,
// with a little scatter between 3 repeats.
func concaveRecord(truth model.CPUCost) *results.Sweep {
	rec := &results.Sweep{SchemaVersion: 2, Backend: "local", Status: results.SweepDone,
		Proxy: results.Proxy{Name: "envoy", Version: "1.31"}, Options: results.Options{OutboundPerRequest: 2}}
	noise := []float64{0.002, -0.001, -0.0015, 0.001, 0.0005, -0.002, 0.0015, -0.0005, 0, 0.001, -0.001, 0.002, -0.002, 0.0005, 0.001}
	i := 0
	for rep := 0; rep < 3; rep++ {
		for _, rps := range []float64{200, 400, 600, 800, 1000} {
			st := step(1, 1000, rps, 0, 0)
			st.ProxyCPUCores = truth.CoresAt(st.SidecarRPS) + noise[i]
			st.DurationSeconds = 5
			rec.Steps = append(rec.Steps, st)
			i++
		}
	}
	return rec
}

// With enough rates the model that predicts held-out rates better is
// chosen: the concave curve for concave measurements, the line for linear.
func TestTheHeldOutErrorChoosesTheModel(t *testing.T) {
	r, err := fit.FromSweep(concaveRecord(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.08, Exponent: 0.5}), refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cpu := r.Settings[0].CPU
	if cpu.Chosen != model.ModelConcave || !cpu.Concave().Judged || cpu.Concave().MaxHeldOutErr >= cpu.Line().MaxHeldOutErr {
		t.Errorf("concave measurements: chose %s (line %.3f, concave %.3f): %s", cpu.Chosen, cpu.Line().MaxHeldOutErr, cpu.Concave().MaxHeldOutErr, cpu.ChoiceReason)
	}
	if e := cpu.Concave().Cost.Exponent; math.Abs(e-0.5) > 0.1 {
		t.Errorf("fitted exponent %.3f, want about 0.5", e)
	}
	if u := cpu.Concave().Cost.Uncertainty; u == nil || u.Rates != 5 || u.Repeats() != 3 || u.StepSeconds != 5 {
		t.Errorf("uncertainty %+v: want 5 rates, 3 repeats, 5 s steps", u)
	}
	// The profile carries the chosen curve and the line beside it.
	c := r.Profile.CPU.ByConcurrency[0]
	if c.Model() != model.ModelConcave || c.Alternative == nil || c.Alternative.Model != model.ModelLine || c.Uncertainty == nil || c.HeldOutError == nil {
		t.Errorf("profile entry %+v", c)
	}
	lin, err := fit.FromSweep(concaveRecord(model.CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.08}), refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cpu := lin.Settings[0].CPU; cpu.Chosen != model.ModelLine {
		t.Errorf("linear measurements: chose %s: %s", cpu.Chosen, cpu.ChoiceReason)
	}
}

// A step whose proxy counted 10% more requests per inbound request than the
// configured 1 + k is invalid and not fitted, with the reason; 3% off is a
// warning. Recorded sweeps are judged as new ones are.
func TestHopsCheckInvalidatesAStepTenPercentOff(t *testing.T) {
	rec := sweepRecord()
	rec.Steps[0].ProxyRequestsPerInbound = 3.31 // 10.3% above 3
	rec.Steps[2].ProxyRequestsPerInbound = 3.09 // 3%
	judged := rec.WithHopsJudged()
	if st := judged.Steps[0]; st.Status != results.StatusInvalid || !strings.Contains(st.Reason, "3.310 requests per inbound request against the configured 3") || !strings.Contains(st.Reason, "more than 10%") {
		t.Errorf("10.3%% off: status %s, reason %q", st.Status, st.Reason)
	}
	if st := judged.Steps[2]; st.Status != results.StatusOK || len(st.Warnings) != 1 || !strings.Contains(st.Warnings[0], "3.0% off") {
		t.Errorf("3%% off: status %s, warnings %q", st.Status, st.Warnings)
	}
	if rec.Steps[0].Status != results.StatusOK {
		t.Error("WithHopsJudged changed the record it was given")
	}
	r, err := fit.FromSweep(rec, refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Settings[0].CPU.Points; n != 2 {
		t.Errorf("c1 fitted on %d points, want 2: the step 10%% off is not fitted", n)
	}
	w := strings.Join(r.Warnings, "\n")
	if !strings.Contains(w, "hops check: 2 step(s)") || !strings.Contains(w, "1 of them more than 10% off are invalid") {
		t.Errorf("warnings %q", w)
	}
	// On a cluster the app's calls are what is measured: no check.
	rec.Backend = "kubernetes"
	if st := rec.WithHopsJudged().Steps[0]; st.Status != results.StatusOK {
		t.Errorf("a cluster step was judged against a fan-out nobody configured: %s", st.Reason)
	}
}

// A search that never saw a rate fail measured no maximum: its highest
// rate is a lower bound.
func TestASearchWithoutAFailureIsALowerBound(t *testing.T) {
	rec := sweepRecord()
	rec.Searches[0].LowestFailRPS = 0
	rec.Searches[0].StopReason = "max steps"
	r, err := fit.FromSweep(rec, refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c2 := r.Settings[1]; !c2.MaxIsLowerBound || !strings.Contains(c2.MaxBasis, "stopped before any rate failed") {
		t.Errorf("c2: lower bound %t, basis %q", c2.MaxIsLowerBound, c2.MaxBasis)
	}
	if !r.Profile.CPU.ByConcurrency[1].MaxRPSIsLowerBound {
		t.Error("the profile does not mark the capacity a lower bound")
	}
}

// A stand-in's profile takes Envoy's memory model, never the stand-in's
// few MiB of working set, and says so; an Envoy's keeps its measured base.
func TestStandInProfileMemoryIsEnvoys(t *testing.T) {
	r, err := fit.FromSweep(sweepRecord(), refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	envoy, _ := profiles.Load(profiles.DefaultName)
	if r.StandIn == nil || r.Profile.StandIn != "haproxy" || r.Profile.Memory != envoy.Memory {
		t.Errorf("stand-in %+v, profile memory %+v, want Envoy's %+v", r.StandIn, r.Profile.Memory, envoy.Memory)
	}
	rec := sweepRecord()
	rec.Proxy.Name = "envoy"
	own, _ := fit.FromSweep(rec, refs(t), fit.Options{})
	if own.StandIn != nil || own.Profile.StandIn != "" || own.Profile.Memory.BaseBytes != own.Memory.BaseBytes {
		t.Errorf("Envoy: stand-in %+v, base %v, want the measured %v", own.StandIn, own.Profile.Memory.BaseBytes, own.Memory.BaseBytes)
	}
}
