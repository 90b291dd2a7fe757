package loadgen

import (
	"context"
	"testing"
	"time"
)

func TestRunFixedRateAgainstFortioEcho(t *testing.T) {
	for _, tc := range []struct {
		protocol Protocol
		url      func(testing.TB) string
	}{
		{HTTP1, fortioEcho},
		{H2C, fortioEcho},
		{GRPC, fortioPing},
	} {
		t.Run(string(tc.protocol), func(t *testing.T) {
			res, err := Run(context.Background(), Options{
				URL: tc.url(t), Protocol: tc.protocol, QPS: 200, Connections: 4,
				Duration: time.Second, Warmup: 200 * time.Millisecond, PayloadSize: 100,
				Headers: []string{"X-Test: yes"},
			})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Summary
			t.Logf("%s: %s valid=%v %v %v", tc.protocol, s.Line(), s.Valid, s.InvalidReasons, s.Warnings)
			if s.Requests < 190 || s.Requests > 210 {
				t.Errorf("requests = %d, want about 200", s.Requests)
			}
			if s.ActualQPS < 194 || s.ActualQPS > 206 {
				t.Errorf("actual qps = %.1f, want 200 within 3%%", s.ActualQPS)
			}
			if s.Errors != 0 || !s.Valid {
				t.Errorf("errors=%d valid=%v reasons=%v codes=%v", s.Errors, s.Valid, s.InvalidReasons, s.Codes)
			}
			if s.IntendedLatencyMs == nil {
				t.Fatal("no intended latency for a fixed-rate run")
			}
			if s.IntendedLatencyMs.P99 < s.LatencyMs.P50 {
				t.Errorf("intended p99 %.3f below actual p50 %.3f", s.IntendedLatencyMs.P99, s.LatencyMs.P50)
			}
			if s.LatencyMs.P50 <= 0 || s.LatencyMs.P99 < s.LatencyMs.P50 || s.LatencyMs.P999 < s.LatencyMs.P99 {
				t.Errorf("latency percentiles not ordered: %+v", s.LatencyMs)
			}
		})
	}
}
