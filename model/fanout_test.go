package model

import (
	"math"
	"testing"
)

func TestBreakdownDecomposesSidecarRequests(t *testing.T) {
	tests := []struct {
		name   string
		fanout Fanout
		want   HopBreakdown
	}{
		{"no fan-out", Fanout{}, HopBreakdown{Inbound: 1, Total: 1}},
		{"seed: service with 2 requests", FanoutFromRequestsPerCall(2), HopBreakdown{Inbound: 1, Outbound: 1, Total: 2}},
		{"seed: service with 5 requests", FanoutFromRequestsPerCall(5), HopBreakdown{Inbound: 1, Outbound: 4, Total: 5}},
		{"auth call on each request", Fanout{Outbound: 2, Authz: 1}, HopBreakdown{Inbound: 1, Outbound: 2, Authz: 1, Total: 4}},
		// 10% of the 3 outbound + 1 authz requests retried once: 0.4 extra.
		{"retries amplify outbound only", Fanout{Outbound: 3, Authz: 1, RetryRatio: 0.1}, HopBreakdown{Inbound: 1, Outbound: 3, Authz: 1, Retries: 0.4, Total: 5.4}},
		{"every outbound retried", Fanout{Outbound: 2, RetryRatio: 1}, HopBreakdown{Inbound: 1, Outbound: 2, Retries: 2, Total: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.fanout.Breakdown()
			if !closeHops(got, tt.want) {
				t.Errorf("Breakdown() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The seed's per-pod figures (Mercari talk): total library-level RPS spread
// over replicas, times the requests each inbound call causes.
func TestSeedPerPodRates(t *testing.T) {
	tests := []struct {
		total           float64
		replicas        int
		requestsPerCall float64
		wantApp, wantSc float64
	}{
		{10000, 20, 2, 500, 1000},
		{10000, 10, 5, 1000, 5000},
	}
	for _, tt := range tests {
		app := PerPod(tt.total, tt.replicas)
		sidecar := FanoutFromRequestsPerCall(tt.requestsPerCall).SidecarRPS(app)
		if app != tt.wantApp || sidecar != tt.wantSc {
			t.Errorf("%v RPS / %d replicas x %v requests: app %v sidecar %v, want %v and %v",
				tt.total, tt.replicas, tt.requestsPerCall, app, sidecar, tt.wantApp, tt.wantSc)
		}
	}
}

func TestFanoutValidate(t *testing.T) {
	bad := []Fanout{{Outbound: -1}, {Authz: math.NaN()}, {RetryRatio: 1.5}, {RetryRatio: -0.1}, {Outbound: math.Inf(1)}}
	for _, f := range bad {
		if f.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", f)
		}
	}
	if err := (Fanout{Outbound: 2, Authz: 1, RetryRatio: 1}).Validate(); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
}

func closeHops(a, b HopBreakdown) bool {
	eq := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	return eq(a.Inbound, b.Inbound) && eq(a.Outbound, b.Outbound) && eq(a.Authz, b.Authz) && eq(a.Retries, b.Retries) && eq(a.Total, b.Total)
}

func TestCheckHops(t *testing.T) {
	tests := []struct {
		measured, configured float64
		warn, invalid        bool
	}{
		{3.00, 3, false, false},
		{2.995, 3, false, false}, // fortio's warm-up calls counted: 0.2% off
		{3.05, 3, false, false},  // 1.7%
		{3.07, 3, true, false},   // 2.3%
		{2.90, 3, true, false},   // 3.3% under
		{3.29, 3, true, false},   // 9.7%
		{3.31, 3, true, true},    // 10.3%
		{2.69, 3, true, true},    // 10.3% under
		{1.2, 1, true, true},     // no fan-out, but 20% more
	}
	for _, tt := range tests {
		h := CheckHops(tt.measured, tt.configured)
		if h.Warn() != tt.warn || h.Invalid() != tt.invalid {
			t.Errorf("CheckHops(%v, %v) = %+v: warn %t invalid %t, want %t %t", tt.measured, tt.configured, h, h.Warn(), h.Invalid(), tt.warn, tt.invalid)
		}
	}
}
