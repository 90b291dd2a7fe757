package fit

import (
	"errors"
	"math"
	"strings"
	"testing"

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
	r, err := FromSweep(sweepRecord(), refs(t), Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Settings) != 2 {
		t.Fatalf("%d settings", len(r.Settings))
	}
	c1, c2 := r.Settings[0], r.Settings[1]
	if math.Abs(c1.CPU.CoresPerKRPS-0.08) > 1e-9 || math.Abs(c1.CPU.IdleCores-0.01) > 1e-9 || c1.CPU.MaxHeldOutErr > 1e-9 {
		t.Errorf("c1 fit = %+v", c1.CPU)
	}
	// c2 includes the search step at 900: 4 points on the same line.
	if c2.CPU.Points != 4 || math.Abs(c2.CPU.CoresPerKRPS-0.10) > 1e-9 {
		t.Errorf("c2 fit = %+v", c2.CPU)
	}
	if c1.ThrottlingFromRPS != 1200 || c2.ThrottlingFromRPS != 0 {
		t.Errorf("throttling from %v and %v, want 1200 and none", c1.ThrottlingFromRPS, c2.ThrottlingFromRPS)
	}
	if c2.MaxSidecarRPS != 2700 || !strings.Contains(c2.MaxBasis, "search") || c1.MaxSidecarRPS != 1200 || !strings.Contains(c1.MaxBasis, "no search") {
		t.Errorf("max: c1 %v (%s), c2 %v (%s)", c1.MaxSidecarRPS, c1.MaxBasis, c2.MaxSidecarRPS, c2.MaxBasis)
	}
	// Memory: 4 Mi + 1 Mi per worker: 5 Mi at 1 worker, 1 Mi more per worker.
	if math.Abs(r.Memory.BaseBytes-5<<20) > 1 || math.Abs(r.Memory.PerWorkerBytes-1<<20) > 1 {
		t.Errorf("memory = %+v", r.Memory)
	}
	if r.RequestsPerInbound != 3 {
		t.Errorf("requests per inbound = %v", r.RequestsPerInbound)
	}
}

func TestProfileIsPlanReadable(t *testing.T) {
	r, err := FromSweep(sweepRecord(), refs(t), Options{Name: "test"})
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
	if p.Kind != profiles.KindMeasured || len(p.CPU.ByConcurrency) != 2 || p.CPU.ByConcurrency[1].MaxRPS != 2700 {
		t.Errorf("profile = %+v", p.CPU)
	}
	cost, basis := p.CostAt(1, 500)
	if math.Abs(cost.CoresPerKRPS-0.08) > 1e-9 || !strings.Contains(basis, "measured at concurrency 1, limit 500m") {
		t.Errorf("CostAt(1) = %+v (%s)", cost, basis)
	}
	if !strings.Contains(strings.Join(p.Provenance.Notes, " "), "haproxy standing in for Envoy") {
		t.Errorf("the profile does not say it describes haproxy: %v", p.Provenance.Notes)
	}
	if p.Latency.P50 != 0.2 || p.Latency.P99 != 0.5 {
		t.Errorf("latency = %+v", p.Latency)
	}
}

func TestComparisonWithReferences(t *testing.T) {
	r, _ := FromSweep(sweepRecord(), refs(t), Options{})
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
	if _, err := FromSweep(oneRate, nil, Options{}); !errors.Is(err, ErrNothingToFit) || !strings.Contains(err.Error(), "need 2 rates") {
		t.Errorf("one rate: %v", err)
	}
	flat := sweepRecord()
	for i := range flat.Steps {
		flat.Steps[i].ProxyCPUCores = 0.5 - flat.Steps[i].SidecarRPS/10000 // CPU falling with load
	}
	flat.Searches = nil
	if _, err := FromSweep(flat, nil, Options{}); err == nil || !strings.Contains(err.Error(), "does not grow with the rate") {
		t.Errorf("falling CPU: %v", err)
	}
	partial := sweepRecord()
	partial.Status = results.SweepInterrupted
	partial.Steps = append(partial.Steps, results.Step{Setting: results.Setting{Concurrency: 2}, RequestedRPS: 800, Status: results.StatusPending})
	r, err := FromSweep(partial, nil, Options{})
	if err != nil || len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "6 of 7 steps done") {
		t.Errorf("partial sweep: %v %v", err, r)
	}
}

func TestChooseDefaultsTheTargetAndSizesTheChoice(t *testing.T) {
	rec := sweepRecord()
	r, err := FromSweep(rec, refs(t), Options{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	// The highest valid rate is 400 (the search's 900 is not a step):
	// 400 / 1.15 = 347.8 -> 348 inbound RPS per pod.
	c, err := Choose(rec, r, ChoiceOptions{Headroom: 0.15})
	if err != nil {
		t.Fatal(err)
	}
	if c.TargetRPS != 348 || !strings.Contains(c.TargetAssumed, "highest valid rate 400") {
		t.Errorf("target %v (%q)", c.TargetRPS, c.TargetAssumed)
	}
	if c.Recommendation.Best == nil || c.Plan == nil {
		t.Fatalf("no choice: %+v", c.Recommendation)
	}
	for _, k := range []string{"sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyMemory", "sidecar.istio.io/proxyMemoryLimit", "proxy.istio.io/config"} {
		if c.Annotations[k] == "" {
			t.Errorf("annotations lack %s: %v", k, c.Annotations)
		}
	}
	if c.Plan.Concurrency != c.Recommendation.Best.Concurrency {
		t.Errorf("plan concurrency %d, choice %d", c.Plan.Concurrency, c.Recommendation.Best.Concurrency)
	}
	given, err := Choose(rec, r, ChoiceOptions{TargetRPS: 200, Headroom: 0.15})
	if err != nil || given.TargetRPS != 200 || given.TargetAssumed != "" {
		t.Errorf("given target: %v %q %v", given.TargetRPS, given.TargetAssumed, err)
	}
}
