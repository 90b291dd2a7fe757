package loadgen

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// fakeTarget passes every rate up to knee, as a Runner would report it.
func fakeTarget(knee float64, calls *[]float64) Runner {
	return func(_ context.Context, qps float64) (*Result, error) {
		*calls = append(*calls, qps)
		s := Summary{RequestedQPS: qps, ActualQPS: qps, Requests: 100, InvalidReasons: []string{},
			LatencyMs: Latency{P99: 1}, IntendedLatencyMs: &Latency{P99: 1}}
		if qps > knee {
			s.IntendedLatencyMs = &Latency{P99: 50}
		}
		s.Valid = true
		return &Result{Summary: s}, nil
	}
}

func TestFindMaxConvergesOnFakeKnee(t *testing.T) {
	for _, knee := range []float64{37, 150, 1234, 99000} {
		var calls []float64
		res, err := FindMax(context.Background(), SearchOptions{SLO: SLO{P99: 5 * time.Millisecond}}, fakeTarget(knee, &calls))
		if err != nil {
			t.Fatal(err)
		}
		if res.StopReason != StopConverged || !res.Converged {
			t.Errorf("knee %g: stop %q after %v", knee, res.StopReason, calls)
		}
		if res.HighestPassQPS > knee || res.HighestPassQPS < knee*(1-DefaultPrecision) {
			t.Errorf("knee %g: max %g not within 2%% below it (steps %v)", knee, res.HighestPassQPS, calls)
		}
		if res.LowestFailQPS <= knee || res.LowestFailQPS > res.HighestPassQPS*(1+DefaultPrecision) {
			t.Errorf("knee %g: bracket [%g, %g] wrong", knee, res.HighestPassQPS, res.LowestFailQPS)
		}
		if len(res.Steps) != len(calls) || res.Best == nil || res.Best.RequestedQPS != res.HighestPassQPS {
			t.Errorf("knee %g: %d steps recorded for %d calls, best %+v", knee, len(res.Steps), len(calls), res.Best)
		}
		for i, s := range res.Steps {
			if s.N != i+1 || s.RequestedQPS != calls[i] || s.Pass != (calls[i] <= knee) {
				t.Errorf("knee %g: step %d = %+v for rate %g", knee, i, s, calls[i])
			}
		}
	}
}

func TestFindMaxExponentialThenBinarySequence(t *testing.T) {
	var calls []float64
	if _, err := FindMax(context.Background(), SearchOptions{StartQPS: 100, SLO: SLO{P99: 5 * time.Millisecond}},
		fakeTarget(500, &calls)); err != nil {
		t.Fatal(err)
	}
	want := []float64{100, 200, 400, 800, 600, 500, 550, 525, 512.5, 506.25}
	if len(calls) != len(want) {
		t.Fatalf("steps %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("steps %v, want %v", calls, want)
		}
	}
}

func TestFindMaxCapsAndFloors(t *testing.T) {
	slo := SLO{P99: 5 * time.Millisecond}
	var calls []float64
	res, _ := FindMax(context.Background(), SearchOptions{SLO: slo, MaxQPS: 1000}, fakeTarget(math.Inf(1), &calls))
	if res.StopReason != StopCapped || res.HighestPassQPS != 1000 {
		t.Errorf("cap: stop %q max %g steps %v", res.StopReason, res.HighestPassQPS, calls)
	}
	calls = nil
	res, _ = FindMax(context.Background(), SearchOptions{SLO: slo, StartQPS: 100, MinQPS: 10}, fakeTarget(1, &calls))
	if res.StopReason != StopFloor || res.HighestPassQPS != 0 || res.Best != nil || len(calls) != 4 {
		t.Errorf("floor: stop %q max %g steps %v", res.StopReason, res.HighestPassQPS, calls)
	}
	calls = nil
	res, _ = FindMax(context.Background(), SearchOptions{SLO: slo, MaxSteps: 3}, fakeTarget(1e5, &calls))
	if res.StopReason != StopSteps || len(res.Steps) != 3 || res.HighestPassQPS != 400 {
		t.Errorf("steps: stop %q max %g steps %v", res.StopReason, res.HighestPassQPS, calls)
	}
	calls = nil
	slow := func(ctx context.Context, qps float64) (*Result, error) {
		time.Sleep(30 * time.Millisecond)
		return fakeTarget(1e5, &calls)(ctx, qps)
	}
	res, _ = FindMax(context.Background(), SearchOptions{SLO: slo, MaxTime: 100 * time.Millisecond}, slow)
	if res.StopReason != StopTime || len(res.Steps) < 2 || len(res.Steps) > 3 {
		t.Errorf("time: stop %q after %d steps", res.StopReason, len(res.Steps))
	}
}

func TestFindMaxStopsOnRunnerErrorAndCancel(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	failing := func(_ context.Context, qps float64) (*Result, error) {
		n++
		if n == 3 {
			return nil, boom
		}
		return &Result{Summary: Summary{RequestedQPS: qps, Valid: true, InvalidReasons: []string{}}}, nil
	}
	res, err := FindMax(context.Background(), SearchOptions{}, failing)
	if !errors.Is(err, boom) || res.StopReason != StopError || len(res.Steps) != 2 || res.HighestPassQPS != 200 {
		t.Errorf("error: err %v stop %q steps %d max %g", err, res.StopReason, len(res.Steps), res.HighestPassQPS)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelling := func(_ context.Context, qps float64) (*Result, error) {
		cancel()
		return &Result{Summary: Summary{RequestedQPS: qps, Valid: true}}, nil
	}
	res, err = FindMax(ctx, SearchOptions{}, cancelling)
	if !errors.Is(err, context.Canceled) || res.StopReason != StopCancelled || len(res.Steps) != 0 {
		t.Errorf("cancel: err %v stop %q steps %d", err, res.StopReason, len(res.Steps))
	}
}

func TestSLOJudge(t *testing.T) {
	s := Summary{Valid: true, LatencyMs: Latency{P99: 2}, IntendedLatencyMs: &Latency{P99: 8}}
	if pass, r := (SLO{P99: 5 * time.Millisecond}).judge(s); pass || len(r) != 1 {
		t.Errorf("intended basis: pass=%v reasons=%v", pass, r)
	}
	if pass, r := (SLO{P99: 5 * time.Millisecond, Basis: ServiceLatency}).judge(s); !pass {
		t.Errorf("service basis: pass=%v reasons=%v", pass, r)
	}
	s.Valid, s.InvalidReasons = false, []string{"error ratio 0.5 > 0.01"}
	if pass, r := (SLO{}).judge(s); pass || len(r) != 1 {
		t.Errorf("invalid run: pass=%v reasons=%v", pass, r)
	}
}

func TestFindMaxRetriesFailingRates(t *testing.T) {
	// The target fails 400 qps once (noise), then passes it; its knee is 500.
	var calls []float64
	noisy := fakeTarget(500, &calls)
	flaked := false
	runner := func(ctx context.Context, qps float64) (*Result, error) {
		r, err := noisy(ctx, qps)
		if qps == 400 && !flaked {
			flaked = true
			r.Summary.Valid, r.Summary.InvalidReasons = false, []string{"noise"}
		}
		return r, err
	}
	res, err := FindMax(context.Background(), SearchOptions{StartQPS: 100, FailRetries: 1,
		SLO: SLO{P99: 5 * time.Millisecond}}, runner)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{100, 200, 400, 400, 800, 800, 600, 600, 500, 550, 550, 525, 525, 512.5, 512.5, 506.25, 506.25}
	if len(calls) != len(want) {
		t.Fatalf("steps %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("steps %v, want %v", calls, want)
		}
	}
	if res.HighestPassQPS != 500 || res.Steps[3].Attempt != 2 || !res.Steps[3].Pass || res.Steps[2].Pass {
		t.Errorf("max %g, steps 3-4: %+v %+v", res.HighestPassQPS, res.Steps[2], res.Steps[3])
	}
}
