package fit_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/fit"
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
	rec.Searches = []results.Search{{Setting: results.Setting{Concurrency: 2}, MaxRPS: 900, StopReason: "converged",
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
	near("c1 cores per 1000 RPS", c1.CPU.CoresPerKRPS, 0.08)
	near("c1 idle cores", c1.CPU.IdleCores, 0.01)
	near("c1 leave-one-rate-out error (points on a line)", c1.CPU.MaxHeldOutErr, 0)
	// c2 includes the search step at 900: 4 points on the same line.
	if c2.CPU.Points != 4 {
		t.Errorf("c2 fitted on %d points, want 4 (3 grid steps and the search's)", c2.CPU.Points)
	}
	near("c2 cores per 1000 RPS", c2.CPU.CoresPerKRPS, 0.10)
	near("c1 throttled from (sidecar RPS)", c1.ThrottlingFromRPS, 1200)
	near("c2 throttled from (never)", c2.ThrottlingFromRPS, 0)
	near("c2 max sidecar RPS (the search's 900 x 3)", c2.MaxSidecarRPS, 2700)
	if !strings.Contains(c2.MaxBasis, "search") {
		t.Errorf("c2 max basis %q does not name the search", c2.MaxBasis)
	}
	near("c1 max sidecar RPS (its highest valid step)", c1.MaxSidecarRPS, 1200)
	if !strings.Contains(c1.MaxBasis, "no search") {
		t.Errorf("c1 max basis %q does not say there was no search", c1.MaxBasis)
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
	if math.Abs(cost.CoresPerKRPS-0.08) > 1e-9 {
		t.Errorf("CostAt(1, 500m) = %v cores per 1000 RPS, want c1's 0.08", cost.CoresPerKRPS)
	}
	if !strings.Contains(basis, "measured at concurrency 1, limit 500m") {
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
			if math.Abs(c.Ratio-r.Overall.CoresPerKRPS/0.35) > 1e-12 {
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
