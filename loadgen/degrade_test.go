package loadgen

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// degradingServer answers at once until its request rate over the last
// window exceeds kneeQPS, then adds slowdown to every request: a target whose
// true maximum under a tight SLO is kneeQPS.
type degradingServer struct {
	kneeQPS  float64
	slowdown time.Duration

	mu      sync.Mutex
	buckets [10]int64 // requests per 50ms slot, a 500ms sliding window
	slot    int64     // current slot number since the epoch
}

const degradeSlot = 50 * time.Millisecond

func (d *degradingServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if d.overloaded(time.Now()) {
		time.Sleep(d.slowdown)
	}
	w.WriteHeader(http.StatusOK)
}

// overloaded counts this request and says whether the window's rate is past
// the knee.
func (d *degradingServer) overloaded(now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	slot := now.UnixNano() / int64(degradeSlot)
	for d.slot < slot { // clear the slots that went by, at most a full ring
		d.slot++
		d.buckets[d.slot%int64(len(d.buckets))] = 0
		if slot-d.slot > int64(len(d.buckets)) {
			d.slot = slot - int64(len(d.buckets))
		}
	}
	d.buckets[slot%int64(len(d.buckets))]++
	var n int64
	for _, c := range d.buckets {
		n += c
	}
	window := degradeSlot * time.Duration(len(d.buckets))
	return float64(n)/window.Seconds() > d.kneeQPS
}

func TestDegradingServerSlowsPastKnee(t *testing.T) {
	d := &degradingServer{kneeQPS: 100}
	now := time.Unix(1000, 0)
	for i := range 50 { // 50 requests in 0.5s = 100 qps: at the knee, not past it
		if d.overloaded(now.Add(time.Duration(i) * 10 * time.Millisecond)) {
			t.Fatalf("overloaded at request %d of 100 qps", i)
		}
	}
	if !d.overloaded(now.Add(495 * time.Millisecond)) {
		t.Fatal("51 requests in 0.5s not seen as past 100 qps")
	}
	if d.overloaded(now.Add(5 * time.Second)) {
		t.Fatal("still overloaded after the window went by")
	}
}

// TestFindMaxFindsDegradingServerKnee is the acceptance test: a real
// search, with real fortio runs, against a server that degrades past 800 qps
// must find 800 within 5%.
func TestFindMaxFindsDegradingServerKnee(t *testing.T) {
	const knee = 800.0
	url := startServer(t, &degradingServer{kneeQPS: knee, slowdown: 50 * time.Millisecond})
	base := Options{URL: url, Connections: 8, Duration: time.Second, Warmup: 300 * time.Millisecond}
	var steps []string
	res, err := FindMax(context.Background(), SearchOptions{
		SLO:      SLO{P99: 20 * time.Millisecond},
		StartQPS: 100,
		MaxTime:  50 * time.Second,
		// A shared 2-core test machine stalls now and then; one noisy step
		// must not send the bisection the wrong way.
		FailRetries: 1,
		OnStep: func(s Step) {
			steps = append(steps, s.Summary.Line())
			t.Logf("step %d %v: %s %v", s.N, s.Pass, s.Summary.Line(), s.FailReasons)
		},
	}, unstarvedRunner(t, RunnerFor(base, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("max %g qps (lowest fail %g) after %d steps, %s", res.HighestPassQPS, res.LowestFailQPS, len(res.Steps), res.StopReason)
	if res.HighestPassQPS < knee*0.95 || res.HighestPassQPS > knee*1.05 {
		t.Errorf("found %g qps, want %g within 5%%", res.HighestPassQPS, knee)
	}
	if !res.Converged {
		t.Errorf("search stopped on %q, not converged", res.StopReason)
	}
}

// unstarvedRunner re-measures, up to twice, a step the machine starved
// (see unstarvedRun).
func unstarvedRunner(t *testing.T, run Runner) Runner {
	return func(ctx context.Context, qps float64) (*Result, error) {
		var res *Result
		var err error
		for attempt := 1; attempt <= 3; attempt++ {
			if res, err = run(ctx, qps); err != nil || !starved(res.Summary) {
				break
			}
			t.Logf("step at %g qps starved (%.2fs waiting for a CPU), measuring again", qps, res.Summary.GeneratorCPUWaitSeconds)
		}
		return res, err
	}
}
