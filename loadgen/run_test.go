package loadgen

import (
	"context"
	"errors"
	"github.com/proxysizer/proxysizer/internal/testenv"
	"net/http"
	"strings"
	"sync/atomic"
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
			s := unstarvedRun(t, Options{
				URL: tc.url(t), Protocol: tc.protocol, QPS: 200, Connections: 4,
				Duration: time.Second, Warmup: 200 * time.Millisecond, PayloadSize: 100,
				Headers: []string{"X-Test: yes"},
			}).Summary
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

func TestRunMaxRateHasNoSchedule(t *testing.T) {
	res, err := Run(context.Background(), Options{URL: fortioEcho(t), QPS: MaxRate, Connections: 2, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Log(s.Line())
	if !s.MaxRate || s.RequestedQPS != 0 || s.IntendedLatencyMs != nil || s.AchievedRatio != 0 {
		t.Errorf("max-rate summary: %+v", s)
	}
	if s.ActualQPS < 500 || !s.Valid {
		t.Errorf("max rate %.0f qps valid=%v %v: fortio echo on loopback does far more", s.ActualQPS, s.Valid, s.InvalidReasons)
	}
	if s.GeneratorCPUCores <= 0.05 || s.GeneratorCPUCapacity < 1 {
		t.Errorf("generator cpu %.3f of %.0f cores: a max-rate run must register", s.GeneratorCPUCores, s.GeneratorCPUCapacity)
	}
	if res.HTTP == nil || res.HTTP.DurationHistogram.Count != s.Requests || res.HTTP.RetCodes[200] != s.Requests {
		t.Errorf("fortio result not kept or not matching: %+v", res.HTTP)
	}
	js, err := res.FortioJSON()
	if err != nil || !strings.Contains(string(js), `"RunType": "HTTP"`) || !strings.Contains(string(js), `"DurationHistogram"`) {
		t.Errorf("fortio JSON: %v %.200s", err, js)
	}
}

func TestRunUnreachableFailsFast(t *testing.T) {
	url := testenv.ClosedPortURL(t)
	start := time.Now()
	_, err := Run(context.Background(), Options{URL: url, QPS: 100, Duration: 10 * time.Second, ConnectTimeout: time.Second})
	if !IsUnreachable(err) || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), url) {
		t.Fatalf("err = %v, want unreachable with connection refused and the URL", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %v, want within the 1s connect timeout", took)
	}
}

// TestRunCancelStopsPromptly cancels a 30s run, once while calls flow and
// once while a call hangs on the server (h2c honours the call's context).
func TestRunCancelStopsPromptly(t *testing.T) {
	hang := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("hang") != "" {
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
		}
		w.WriteHeader(http.StatusOK)
	}))
	for _, tc := range []struct {
		name     string
		url      string
		protocol Protocol
	}{
		{"flowing-http1", fortioEcho(t), HTTP1},
		{"hanging-h2c", hang + "?hang=1", H2C},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
			defer cancel()
			start := time.Now()
			res, err := Run(ctx, Options{URL: tc.url, Protocol: tc.protocol, QPS: 50, Connections: 2,
				Duration: 30 * time.Second, Warmup: 200 * time.Millisecond, RequestTimeout: 25 * time.Second})
			took := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want the context's", err)
			}
			if took > 2*time.Second {
				t.Errorf("cancelled run took %v", took)
			}
			if tc.protocol == HTTP1 && (res == nil || res.Summary.Requests == 0 || res.Summary.Requests > 100) {
				t.Errorf("partial result missing or wrong: %+v", res)
			}
		})
	}
}

// TestIntendedLatencyCountsCoordinatedOmission stalls the target once for
// 300ms in a 100 qps run on one connection. fortio's latency sees one slow
// call; the calls due during the stall waited too, which only the
// intended-start latency shows.
func TestIntendedLatencyCountsCoordinatedOmission(t *testing.T) {
	var stalled atomic.Bool
	var calls atomic.Int64
	url := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) > 50 && stalled.CompareAndSwap(false, true) {
			time.Sleep(300 * time.Millisecond)
		}
		w.WriteHeader(http.StatusOK)
	}))
	res, err := Run(context.Background(), Options{URL: url, QPS: 100, Connections: 1, Duration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("%s behind=%.3f achieved=%.3f intended=%+v", s.Line(), s.BehindRatio, s.AchievedRatio, *s.IntendedLatencyMs)
	if s.LatencyMs.P90 > 5 || s.LatencyMs.Max < 290 {
		t.Errorf("fortio latency p90 %.3fms max %.1fms: want one 300ms call among fast ones", s.LatencyMs.P90, s.LatencyMs.Max)
	}
	// ~30 calls were due during the stall, waiting 300ms down to 0: the 20th
	// worst of 200 waited about 100ms.
	if s.IntendedLatencyMs.P90 < 50 || s.IntendedLatencyMs.P99 < 200 {
		t.Errorf("intended p90 %.1fms p99 %.1fms: the stall's queue is missing", s.IntendedLatencyMs.P90, s.IntendedLatencyMs.P99)
	}
	if s.BehindRatio < 0.1 || s.BehindRatio > 0.2 || s.Valid {
		t.Errorf("behind ratio %.3f valid=%v: ~15%% of calls were late", s.BehindRatio, s.Valid)
	}
	if s.AchievedRatio < 0.97 {
		t.Errorf("achieved ratio %.3f: fortio catches up after the stall", s.AchievedRatio)
	}
}
