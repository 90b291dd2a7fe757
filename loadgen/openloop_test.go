package loadgen

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// serviceTime answers every call after d.
func serviceTime(d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { time.Sleep(d) })
}

func runOrFail(t *testing.T, o Options) Summary {
	t.Helper()
	s := unstarvedRun(t, o).Summary
	t.Logf("%s (%d connections): %s behind %.3f (busy %.3f) valid %v %v %v", s.Arrival, s.Connections, s.Line(),
		s.BehindRatio, s.BehindBusyRatio, s.Valid, s.InvalidReasons, s.Warnings)
	return s
}

// TestBurstsWaitForFreeConnections: bursts of 8 calls on 2 connections go
// out two at a time, so 6 of every 8 start late, waiting for a connection,
// and their intended-start latency holds the wait; a pool sized for the
// bursts starts them all on time.
func TestBurstsWaitForFreeConnections(t *testing.T) {
	url := startServer(t, serviceTime(2*time.Millisecond))
	burst := Arrival{Kind: Burst, Burst: 8}
	few := runOrFail(t, Options{URL: url, QPS: 400, Arrival: burst, Connections: 2, Duration: time.Second})
	if few.Valid || few.BehindRatio < 0.6 || few.BehindBusyRatio < 0.6 || few.Arrival != "burst:8" {
		t.Errorf("2 connections for bursts of 8: behind %.3f, waiting for a connection %.3f, valid %v; want about 0.75 each, invalid",
			few.BehindRatio, few.BehindBusyRatio, few.Valid)
	}
	if reasons := strings.Join(few.InvalidReasons, "; "); !strings.Contains(reasons, "waited for one of the 2 connections") {
		t.Errorf("reasons %q do not say the calls waited for a connection", reasons)
	}
	if warnings := strings.Join(few.Warnings, "; "); !strings.Contains(warnings, "cannot start a burst of 8") {
		t.Errorf("warnings %q do not say 2 connections cannot carry a burst of 8", warnings)
	}
	// Waves of 2 at 0, 2, 4 and 6 ms: the intended latency is the wait plus
	// 2 ms of service, the service latency 2 ms whatever the wait.
	if few.IntendedLatencyMs.P90 < 2*few.LatencyMs.P90 {
		t.Errorf("intended p90 %.3fms, service p90 %.3fms: the wait for a connection is missing",
			few.IntendedLatencyMs.P90, few.LatencyMs.P90)
	}

	sized := runOrFail(t, Options{URL: url, QPS: 400, Arrival: burst, Duration: time.Second})
	if sized.Connections != ConnectionsFor(400, DefaultExpectedLatency, burst) || !sized.Valid || sized.BehindRatio > 0.05 {
		t.Errorf("sized pool of %d: behind %.3f, valid %v", sized.Connections, sized.BehindRatio, sized.Valid)
	}
	if sized.IntendedLatencyMs.P50 > sized.LatencyMs.P50+1 {
		t.Errorf("sized pool: intended p50 %.3fms vs service %.3fms: calls waited", sized.IntendedLatencyMs.P50, sized.LatencyMs.P50)
	}
}

// TestPoissonRunHoldsItsSchedule: a Poisson run makes exactly rate x
// duration calls, on time with a pool sized by ConnectionsFor, and says
// which process it followed.
func TestPoissonRunHoldsItsSchedule(t *testing.T) {
	url := startServer(t, serviceTime(2*time.Millisecond))
	s := runOrFail(t, Options{URL: url, QPS: 1000, Arrival: Arrival{Kind: Poisson}, Duration: time.Second, Seed: 1})
	if s.Requests != 1000 || s.Arrival != "poisson" || !s.Valid || s.BehindRatio > 0.05 || s.AchievedRatio < 0.99 {
		t.Errorf("poisson: %d calls (want 1000), arrival %q, behind %.3f, achieved %.3f, valid %v",
			s.Requests, s.Arrival, s.BehindRatio, s.AchievedRatio, s.Valid)
	}
	if s.IntendedLatencyMs.P99 > s.LatencyMs.P99+2 {
		t.Errorf("intended p99 %.3fms vs service p99 %.3fms: calls queued", s.IntendedLatencyMs.P99, s.LatencyMs.P99)
	}
}

// TestOpenLoopAbsorbsSlowCalls is issue 16's failure: every 50th call
// takes 20 ms. Closed loop (fortio's runner), each slow call delayed the
// next ones of its connection; open loop, the other connections take them.
func TestOpenLoopAbsorbsSlowCalls(t *testing.T) {
	var calls atomic.Int64
	url := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1)%50 == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}))
	s := runOrFail(t, Options{URL: url, QPS: 2000, Connections: 8, Duration: time.Second})
	if !s.Valid || s.BehindRatio > 0.05 || s.LatencyMs.Max < 20 {
		t.Errorf("behind %.3f valid %v max %.1fms: the slow calls must delay nothing else", s.BehindRatio, s.Valid, s.LatencyMs.Max)
	}
	if s.IntendedLatencyMs.P90 > s.LatencyMs.P90+1 {
		t.Errorf("intended p90 %.3fms vs service p90 %.3fms: calls queued behind the slow ones", s.IntendedLatencyMs.P90, s.LatencyMs.P90)
	}
}
