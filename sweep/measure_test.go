package sweep

import (
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// measurement is a valid run of 1000 inbound calls over 1 s at 10 ms p99
// (12 ms from intended send times), through which the proxy counted
// perInbound requests per inbound call.
func measurement(perInbound float64) *driver.Measurement {
	s := loadgen.Summary{Valid: true, ActualQPS: 1000, Requests: 1000,
		LatencyMs: loadgen.Latency{P50: 1, P99: 10}, IntendedLatencyMs: &loadgen.Latency{P50: 1.5, P99: 12}}
	return &driver.Measurement{Load: &loadgen.Result{Summary: s}, Wall: time.Second, ProxyRequests: int64(perInbound * 1000), InboundRequests: 1000, ProxyCPUSeconds: 0.2}
}

// The hops check at measurement: the proxy's own count of requests per
// inbound request against the configured 1 + k. More than 10% off makes
// the step invalid with the reason; more than 2% is a warning.
func TestFillJudgesTheHops(t *testing.T) {
	tests := []struct {
		perInbound float64
		status     string
		warn, why  string
	}{
		{3.0, results.StatusOK, "", ""},
		{3.09, results.StatusOK, "3.090 requests per inbound request against the configured 3 (1 inbound + 2 outbound): 3.0% off", ""},
		{3.31, results.StatusInvalid, "", "3.310 requests per inbound request against the configured 3 (1 inbound + 2 outbound): 10.3% off, more than 10%: the step measured another fan-out"},
		{2.0, results.StatusInvalid, "", "33.3% off"},
	}
	for _, tt := range tests {
		var st results.Step
		fill(&st, measurement(tt.perInbound), nil, 3)
		if st.Status != tt.status || st.ConfiguredRequestsPerInbound != 3 {
			t.Errorf("%v per inbound: status %s (%s), configured %v, want %s", tt.perInbound, st.Status, st.Reason, st.ConfiguredRequestsPerInbound, tt.status)
		}
		if tt.why != "" && !strings.Contains(st.Reason, tt.why) {
			t.Errorf("%v per inbound: reason %q lacks %q", tt.perInbound, st.Reason, tt.why)
		}
		if got := strings.Join(st.Warnings, "\n"); tt.warn != "" && !strings.Contains(got, tt.warn) || tt.warn == "" && strings.Contains(got, "per inbound request") {
			t.Errorf("%v per inbound: warnings %q, want %q", tt.perInbound, got, tt.warn)
		}
	}
	// On a cluster nothing is configured: no check.
	var st results.Step
	fill(&st, measurement(2.0), nil, 0)
	if st.Status != results.StatusOK {
		t.Errorf("no configured fan-out, yet judged: %s", st.Reason)
	}
}

// The latency added is taken twice: from the actual send (service time)
// and from intended send times, each against the baseline's own figure.
func TestFillTakesLatencyAddedFromIntendedSendTimes(t *testing.T) {
	base := []results.Run{{RequestedRPS: 1000, Valid: true, LatencyMs: results.Latency{P99: 4}, IntendedLatencyMs: &results.Latency{P99: 5}}}
	st := results.Step{RequestedRPS: 1000}
	fill(&st, measurement(3), base, 3)
	if st.LatencyAddedMs == nil || st.LatencyAddedMs.P99 != 6 || st.IntendedLatencyAddedMs == nil || st.IntendedLatencyAddedMs.P99 != 7 {
		t.Errorf("added %+v, intended %+v; want p99 10-4 = 6 and 12-5 = 7", st.LatencyAddedMs, st.IntendedLatencyAddedMs)
	}
	// A baseline recorded without intended latency gives none.
	base[0].IntendedLatencyMs = nil
	st = results.Step{RequestedRPS: 1000}
	fill(&st, measurement(3), base, 3)
	if st.IntendedLatencyAddedMs != nil {
		t.Errorf("intended latency added without an intended baseline: %+v", st.IntendedLatencyAddedMs)
	}
}
