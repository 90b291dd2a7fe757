package fit

import (
	"testing"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/results"
)

// testdata/haproxy is a real sweep recorded with
//
//	proxysizer sweep --proxy haproxy --concurrency 1,2 --cpu-limit 200m,1 \
//	  --rates 300,500,700,900 --repeats 2 --outbound-per-request 2 \
//	  --duration 8s --warmup 2s --connections 8
//
// as root on a 2-vCPU VM (haproxy 2.6.12, cgroup v1, proxy pinned to CPU 1).
// Only sweep.json is kept: the fit needs nothing else.
func loadRecorded(t *testing.T) *results.Sweep {
	t.Helper()
	rec, err := results.Load("testdata/haproxy")
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// The validation: the CPU model predicts rates it was not fitted on
// within 10%. It holds where the model applies: settings whose CPU limit
// did not throttle the proxy over the measured range (a throttled proxy's
// CPU stops growing with the rate, so no line can predict it).
func TestRecordedHAProxyLeaveOneRateOut(t *testing.T) {
	r, err := FromSweep(loadRecorded(t), refs(t), Options{Source: "testdata/haproxy"})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range r.Settings {
		key := driver.Setting{Concurrency: s.Concurrency, CPULimitMillicores: s.CPULimitMillicores}.Key()
		if s.CPU == nil {
			t.Errorf("%s not fitted: %s", key, s.Skipped)
			continue
		}
		if s.ThrottlingFromRPS > 0 {
			t.Logf("%s: throttled from %.0f sidecar RPS; leave-one-rate-out max error %.1f%% (not asserted)", key, s.ThrottlingFromRPS, s.CPU.MaxHeldOutErr*100)
			continue
		}
		if len(s.CPU.HeldOut) != 4 {
			t.Errorf("%s: %d held-out rates, want 4", key, len(s.CPU.HeldOut))
		}
		for _, h := range s.CPU.HeldOut {
			t.Logf("%s: rate %4.0f (%d steps): measured %.4f cores, predicted %.4f, error %.1f%%", key, h.Rate, h.Points, h.Measured, h.Predicted, h.RelError*100)
			if h.RelError > 0.10 {
				t.Errorf("%s: held-out rate %.0f predicted %.4f cores against %.4f measured: %.1f%% off, more than 10%%",
					key, h.Rate, h.Predicted, h.Measured, h.RelError*100)
			}
		}
		checked++
	}
	if checked < 2 {
		t.Errorf("only %d unthrottled settings to check; the recording should have at least 2", checked)
	}
	if r.RequestsPerInbound < 2.94 || r.RequestsPerInbound > 3.06 {
		t.Errorf("requests per inbound = %.3f, want 3 (k = 2) within 2%%", r.RequestsPerInbound)
	}
}

// The 200m limit is too small for haproxy at the top rates: the fit must see
// where throttling starts, and the recommendation must not pick it there.
func TestRecordedHAProxyThrottlingIsSeen(t *testing.T) {
	r, err := FromSweep(loadRecorded(t), refs(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Settings {
		if s.CPULimitMillicores == 200 && s.ThrottlingFromRPS == 0 {
			t.Errorf("c%d-l200m: no throttling seen", s.Concurrency)
		}
		if s.CPULimitMillicores == 1000 && s.ThrottlingFromRPS != 0 {
			t.Errorf("c%d-l1: throttled from %.0f with a full core", s.Concurrency, s.ThrottlingFromRPS)
		}
	}
}
