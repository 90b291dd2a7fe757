package loadgen

import (
	"math"
	"testing"
	"time"
)

func TestParseArrival(t *testing.T) {
	for in, want := range map[string]Arrival{
		"uniform": {Kind: Uniform}, "Poisson": {Kind: Poisson}, "burst:10": {Kind: Burst, Burst: 10}, " burst:2 ": {Kind: Burst, Burst: 2},
	} {
		got, err := ParseArrival(in)
		if err != nil || got != want {
			t.Errorf("ParseArrival(%q) = %+v, %v; want %+v", in, got, err, want)
		}
		if back, err := ParseArrival(got.String()); err != nil || back != got {
			t.Errorf("%+v does not round-trip through %q", got, got.String())
		}
	}
	for _, bad := range []string{"", "burst", "burst:1", "burst:x", "poisson:3", "zigzag"} {
		if a, err := ParseArrival(bad); err == nil {
			t.Errorf("ParseArrival(%q) = %+v, want an error", bad, a)
		}
	}
	if (Arrival{}).String() != "uniform" {
		t.Error("the zero Arrival is not uniform")
	}
}

// offsets is every due offset of a plan, in seconds.
func offsets(p *plan) []float64 {
	var out []float64
	for due, ok := p.next(); ok; due, ok = p.next() {
		out = append(out, due.Seconds())
	}
	return out
}

func TestUniformPlanSpacesCallsEvenly(t *testing.T) {
	got := offsets(newPlan(Arrival{Kind: Uniform}, 400, 2500*time.Millisecond, 0))
	if len(got) != 1000 {
		t.Fatalf("%d calls, want 400 qps x 2.5s = 1000", len(got))
	}
	for i, at := range got {
		if math.Abs(at-float64(i)/400) > 1e-9 {
			t.Fatalf("call %d due at %.6fs, want %.6fs", i, at, float64(i)/400)
		}
	}
}

// TestPoissonPlanStatistics checks the schedule against a Poisson process:
// exponential gaps (mean 1/rate, coefficient of variation 1, P(gap > k
// means) = e^-k), counts in fixed windows as dispersed as their mean, the
// exact number of calls, and reproducibility from the seed.
func TestPoissonPlanStatistics(t *testing.T) {
	const qps, seconds = 5000.0, 20.0
	got := offsets(newPlan(Arrival{Kind: Poisson}, qps, seconds*time.Second, 42))
	if len(got) != int(qps*seconds) {
		t.Fatalf("%d calls, want exactly %g", len(got), qps*seconds)
	}
	var sum, sumSq float64
	gaps := make([]float64, len(got)-1)
	for i := 1; i < len(got); i++ {
		gaps[i-1] = got[i] - got[i-1]
		if gaps[i-1] < 0 || got[i] >= seconds {
			t.Fatalf("call %d at %.6fs after %.6fs: out of order or past the end", i, got[i], got[i-1])
		}
		sum += gaps[i-1]
		sumSq += gaps[i-1] * gaps[i-1]
	}
	mean := sum / float64(len(gaps))
	cv := math.Sqrt(sumSq/float64(len(gaps))-mean*mean) / mean
	if math.Abs(mean*qps-1) > 0.01 || math.Abs(cv-1) > 0.02 {
		t.Errorf("gaps: mean %.3g s (want %.3g), coefficient of variation %.3f (want 1)", mean, 1/qps, cv)
	}
	for _, k := range []float64{0.5, 1, 2, 3} {
		var over int
		for _, g := range gaps {
			if g > k/qps {
				over++
			}
		}
		if share, want := float64(over)/float64(len(gaps)), math.Exp(-k); math.Abs(share-want) > 0.006 {
			t.Errorf("P(gap > %g means) = %.4f, want e^-%g = %.4f", k, share, k, want)
		}
	}
	// Calls per 10ms window: mean 50, and for a Poisson process variance 50.
	windows := make([]float64, int(seconds*100))
	for _, at := range got {
		windows[int(at*100)]++
	}
	var wSum, wSq float64
	for _, n := range windows {
		wSum += n
		wSq += n * n
	}
	wMean := wSum / float64(len(windows))
	if dispersion := (wSq/float64(len(windows)) - wMean*wMean) / wMean; dispersion < 0.9 || dispersion > 1.1 {
		t.Errorf("variance/mean of calls per 10ms = %.3f, want about 1 (uniform arrivals give 0)", dispersion)
	}
	again := offsets(newPlan(Arrival{Kind: Poisson}, qps, seconds*time.Second, 42))
	other := offsets(newPlan(Arrival{Kind: Poisson}, qps, seconds*time.Second, 43))
	if again[777] != got[777] || other[777] == got[777] {
		t.Errorf("seed 42 gave %.9f then %.9f, seed 43 %.9f: the seed must fix the schedule", got[777], again[777], other[777])
	}
}

func TestBurstPlanGroupsCalls(t *testing.T) {
	got := offsets(newPlan(Arrival{Kind: Burst, Burst: 8}, 400, time.Second, 0))
	if len(got) != 400 {
		t.Fatalf("%d calls, want 400", len(got))
	}
	for i, at := range got {
		// Burst j of 8 calls at j x 8/400 s = j x 20ms.
		if want := float64(i/8) * 0.020; math.Abs(at-want) > 1e-9 {
			t.Fatalf("call %d due at %.6fs, want %.6fs (burst %d)", i, at, want, i/8)
		}
	}
}

// TestPlanSharesPartitionTheSchedule: event loops each take every n-th
// call; together they make the whole schedule, each call once.
func TestPlanSharesPartitionTheSchedule(t *testing.T) {
	for _, a := range []Arrival{{Kind: Uniform}, {Kind: Poisson}, {Kind: Burst, Burst: 3}} {
		whole := offsets(newPlan(a, 1000, time.Second, 7))
		pl := newPlan(a, 1000, time.Second, 7)
		var parts [3][]float64
		for n := range parts {
			parts[n] = offsets(pl.share(n, 3))
		}
		for i, at := range whole {
			if part := parts[i%3]; i/3 >= len(part) || part[i/3] != at {
				t.Fatalf("%s: call %d (%.6fs) missing from share %d", a, i, at, i%3)
			}
		}
		if total := len(parts[0]) + len(parts[1]) + len(parts[2]); total != len(whole) {
			t.Errorf("%s: shares hold %d calls, the schedule %d", a, total, len(whole))
		}
	}
}

func TestConnectionsFor(t *testing.T) {
	for _, tc := range []struct {
		qps     float64
		latency time.Duration
		arrival Arrival
		want    int
	}{
		{300, 10 * time.Millisecond, Arrival{}, 9},   // 3 in flight + 3 x sqrt(3)
		{900, 10 * time.Millisecond, Arrival{}, 18},  // 9 + 3 x 3
		{5000, 10 * time.Millisecond, Arrival{}, 72}, // 50 + 3 x 7.07
		{10, time.Millisecond, Arrival{}, MinAutoConnections},
		{900, 10 * time.Millisecond, Arrival{Kind: Burst, Burst: 50}, 68}, // a whole burst at once, and the rest
		{1e6, time.Second, Arrival{}, MaxAutoConnections},
		// 100,000 qps: 25 calls per 250 us wake-up on top of 32 in flight
		// and 3 x sqrt(32).
		{100_000, 320 * time.Microsecond, Arrival{}, 32 + 17 + 25},
		{100_000, 320 * time.Microsecond, Arrival{Kind: Burst, Burst: 40}, 32 + 17 + 40},
	} {
		if got := ConnectionsFor(tc.qps, tc.latency, tc.arrival); got != tc.want {
			t.Errorf("ConnectionsFor(%g qps, %v, %s) = %d, want %d", tc.qps, tc.latency, tc.arrival, got, tc.want)
		}
	}
}

func TestDispatchInterval(t *testing.T) {
	for _, tc := range []struct {
		qps   float64
		want  time.Duration
		calls int
	}{
		{0, minDispatchInterval, 0},
		{math.NaN(), minDispatchInterval, 0},
		{1000, minDispatchInterval, 0}, // 1 ms apart: never two at once
		{10_000, minDispatchInterval, 1},
		{40_000, minDispatchInterval, 4},
		{70_000, 175 * time.Microsecond, 12}, // in proportion to the rate
		{100_000, maxDispatchInterval, 25},
		{400_000, maxDispatchInterval, 100},
	} {
		if got := dispatchInterval(tc.qps); got != tc.want {
			t.Errorf("dispatchInterval(%g) = %v, want %v", tc.qps, got, tc.want)
		}
		if got := callsPerDispatch(tc.qps); got != tc.calls {
			t.Errorf("callsPerDispatch(%g) = %d, want %d", tc.qps, got, tc.calls)
		}
	}
}

func TestPlanShareRate(t *testing.T) {
	pl := newPlan(Arrival{}, 90_000, time.Second, 1)
	if got := pl.rate(); got != 90_000 {
		t.Errorf("whole plan: rate %g, want 90000", got)
	}
	if got := pl.share(1, 3).rate(); got != 30_000 {
		t.Errorf("a third of the plan: rate %g, want 30000", got)
	}
}
