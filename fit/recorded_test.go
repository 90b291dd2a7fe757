package fit_test

import (
	"testing"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/sweeptest"
)

// testdata/haproxy (sweeptest.HAProxyRepeats) is a real sweep recorded with
//
//	proxysizer sweep --proxy haproxy --concurrency 1,2 --cpu-limit 150m,1 \
//	  --rates 400,550,700,850 --repeats 3 --outbound-per-request 2 \
//	  --duration 8s --warmup 2s --connections 8
//
// as root on a 2-vCPU VM (haproxy 2.6.12, cgroup v1, proxy pinned to CPU 1).
// Only sweep.json is kept: the fit needs nothing else.

// The validation: the CPU model predicts rates it was not fitted on
// within 10%. The model plan sizes with is the profile's cost, fitted on
// every valid step the CPU limit did not throttle (haproxy's cost per request
// does not depend on its thread count here: the per-setting slopes agree
// within their confidence intervals). The per-setting lines have a quarter
// of the points each; their errors are logged, with the step-to-step noise
// of this 2-vCPU machine (up to +-13% between repeats of one rate), and the
// throttled settings are no line at all.
func TestRecordedHAProxyLeaveOneRateOut(t *testing.T) {
	r, err := fit.FromSweep(sweeptest.Load(t, sweeptest.HAProxyRepeats), refs(t), fit.Options{Source: "testdata/haproxy"})
	if err != nil {
		t.Fatal(err)
	}
	overall := r.Overall.ChosenFit()
	if len(overall.HeldOut) != 4 {
		t.Fatalf("%d held-out rates, want 4", len(overall.HeldOut))
	}
	for _, h := range overall.HeldOut {
		t.Logf("profile cost: rate %4.0f (%2d steps): measured %.4f cores, predicted %.4f, error %.1f%%", h.Rate, h.Points, h.Measured, h.Predicted, h.RelError*100)
		if h.RelError > 0.10 {
			t.Errorf("held-out rate %.0f predicted %.4f cores against %.4f measured: %.1f%% off, more than 10%%", h.Rate, h.Predicted, h.Measured, h.RelError*100)
		}
	}
	fitted := 0
	for _, s := range r.Settings {
		key := s.Key()
		if s.CPU == nil {
			t.Errorf("%s not fitted: %s", key, s.Skipped)
			continue
		}
		fitted++
		line, concave := s.CPU.Line(), s.CPU.Concave()
		t.Logf("%s: %d steps, line %s (held-out %.1f%%), concave %s (held-out %.1f%%, judged %t), chosen %s, throttled from %.0f",
			key, s.CPU.Points, line.Cost.Formula(), line.MaxHeldOutErr*100, concave.Cost.Formula(), concave.MaxHeldOutErr*100, concave.Judged, s.CPU.Chosen, s.ThrottlingFromRPS)
	}
	if fitted != 4 {
		t.Errorf("%d of 4 settings fitted", fitted)
	}
	if r.RequestsPerInbound < 2.94 || r.RequestsPerInbound > 3.06 {
		t.Errorf("requests per inbound = %.3f, want 3 (k = 2) within 2%%", r.RequestsPerInbound)
	}
}

// The 150m limit is too small for haproxy at the top rates: the fit must see
// where throttling starts, and the full core must not be throttled.
func TestRecordedHAProxyThrottlingIsSeen(t *testing.T) {
	r, err := fit.FromSweep(sweeptest.Load(t, sweeptest.HAProxyRepeats), refs(t), fit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Settings {
		if s.CPULimitMillicores == 150 && s.ThrottlingFromRPS == 0 {
			t.Errorf("c%d-l150m: no throttling seen", s.Concurrency)
		}
		if s.CPULimitMillicores == 1000 && s.ThrottlingFromRPS != 0 {
			t.Errorf("c%d-l1: throttled from %.0f with a full core", s.Concurrency, s.ThrottlingFromRPS)
		}
	}
}
