package model

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestConcaveCostIsInvertible(t *testing.T) {
	c := CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.1, Exponent: 0.5}
	// 0.02 + 0.1 x 4^0.5 = 0.22 at 4000 RPS.
	if got := c.CoresAt(4000); math.Abs(got-0.22) > 1e-12 {
		t.Errorf("CoresAt(4000) = %v, want 0.22", got)
	}
	if got := c.RPSAt(0.22); math.Abs(got-4000) > 1e-9 {
		t.Errorf("RPSAt(0.22) = %v, want 4000", got)
	}
	// The slope at 4000 RPS: 0.1 x 0.5 x 4^-0.5 = 0.025 cores per 1000 RPS,
	// a quarter of the first 1000 RPS's cost.
	if got := c.MarginalCoresPerKRPS(4000); math.Abs(got-0.025) > 1e-12 {
		t.Errorf("MarginalCoresPerKRPS(4000) = %v, want 0.025", got)
	}
	if c.Model() != ModelConcave || (CPUCost{CoresPerKRPS: 1}).Model() != ModelLine || (CPUCost{CoresPerKRPS: 1, Exponent: 1}).Model() != ModelLine {
		t.Error("Model() names the wrong shape")
	}
	if (CPUCost{CoresPerKRPS: 0.1, Exponent: 1.2}).Validate() == nil {
		t.Error("Validate accepted a convex exponent")
	}
}

func TestFitCostRecoversKnownCurves(t *testing.T) {
	xs := []float64{500, 1000, 2000, 3000, 4000, 6000}
	for _, tc := range []struct {
		model string
		truth CPUCost
	}{
		{ModelLine, CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.05}},
		{ModelConcave, CPUCost{IdleCores: 0.02, CoresPerKRPS: 0.1, Exponent: 0.6}},
	} {
		ys := make([]float64, len(xs))
		for i, x := range xs {
			ys[i] = tc.truth.CoresAt(x)
		}
		f, err := FitCost(tc.model, xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		c := f.Cost
		if math.Abs(c.IdleCores-tc.truth.IdleCores) > 1e-6 || math.Abs(c.CoresPerKRPS-tc.truth.CoresPerKRPS) > 1e-6 || math.Abs(c.exponent()-tc.truth.exponent()) > 1e-5 {
			t.Errorf("%s: fitted %s, want %s", tc.model, c.Formula(), tc.truth.Formula())
		}
		if f.R2 < 1-1e-9 {
			t.Errorf("%s: R² = %v on exact points", tc.model, f.R2)
		}
	}
}

// The idle cost is held at 0 rather than fitted below it, and a line whose
// free intercept is negative is fitted through the origin.
func TestFitCostHoldsIdleAtZero(t *testing.T) {
	f, err := FitCost(ModelLine, []float64{1000, 2000, 3000}, []float64{0.09, 0.2, 0.31})
	if err != nil {
		t.Fatal(err)
	}
	// Through the origin: slope = Σxy/Σx² = (0.09 + 0.4 + 0.93)/14 = 0.101429.
	if f.Cost.IdleCores != 0 || math.Abs(f.Cost.CoresPerKRPS-1.42/14) > 1e-12 || len(f.AtBounds) != 1 {
		t.Errorf("fit = %+v", f)
	}
	if f.Cost.Uncertainty.DoF != 2 {
		t.Errorf("dof = %d, want 2: one free parameter for 3 points", f.Cost.Uncertainty.DoF)
	}
	if _, err := FitCost(ModelLine, []float64{1000, 2000}, []float64{0.3, 0.1}); !errors.Is(err, ErrNoGrowth) {
		t.Errorf("falling CPU: err = %v, want ErrNoGrowth", err)
	}
	if _, err := FitCost(ModelConcave, []float64{1000, 2000, 2000}, []float64{0.1, 0.2, 0.2}); !errors.Is(err, ErrTooFewPoints) {
		t.Errorf("two rates for three parameters: err = %v, want ErrTooFewPoints", err)
	}
}

// A 95% prediction interval must hold a new step's measurement 95 times in
// 100. On synthetic sweeps with known Gaussian noise (5 rates x 3 repeats,
// as the recorded sweep) the interval at the peak, 15% beyond the highest
// rate, is checked against a fresh draw there, over 2000 sweeps. The
// binomial standard error at 2000 is 0.5%, so [93%, 97%] is 4 of them.
func TestPredictionIntervalCoverage(t *testing.T) {
	rates := []float64{600, 1200, 1800, 2400, 3000}
	peak := 3450.0
	for _, tc := range []struct {
		model string
		truth CPUCost
		noise float64
	}{
		{ModelLine, CPUCost{IdleCores: 0.015, CoresPerKRPS: 0.05}, 0.006},
		{ModelConcave, CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.08, Exponent: 0.55}, 0.006},
		{ModelConcave, CPUCost{IdleCores: 0.03, CoresPerKRPS: 0.12, Exponent: 0.8}, 0.01},
	} {
		rng := rand.New(rand.NewPCG(1, uint64(tc.truth.Exponent*1000)))
		covered, trials := 0, 2000
		for range trials {
			var xs, ys []float64
			for range 3 {
				for _, r := range rates {
					xs, ys = append(xs, r), append(ys, tc.truth.CoresAt(r)+tc.noise*rng.NormFloat64())
				}
			}
			f, err := FitCost(tc.model, xs, ys)
			if err != nil {
				t.Fatal(err)
			}
			in, ok := f.Cost.PredictionInterval(peak)
			if !ok {
				t.Fatalf("%s: no interval from %d points", tc.model, len(xs))
			}
			if fresh := tc.truth.CoresAt(peak) + tc.noise*rng.NormFloat64(); fresh >= in.Low && fresh <= in.High {
				covered++
			}
		}
		t.Logf("%s %s: %.1f%%", tc.model, tc.truth.Formula(), 100*float64(covered)/float64(trials))
		if got := float64(covered) / float64(trials); got < 0.93 || got > 0.97 {
			t.Errorf("%s %s: the 95%% interval held %.1f%% of fresh steps", tc.model, tc.truth.Formula(), 100*got)
		}
	}
}

// NarrowTo's advice, computed from one sweep's scatter, must hold when the
// advice is followed: sweeps with that many repeats give intervals within
// ±10% of the request (the median over many), and sweeps with one repeat
// fewer do not always.
func TestNarrowToRepeatsHolds(t *testing.T) {
	rates := []float64{600, 1200, 1800, 2400, 3000}
	truth := CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}
	noise := 0.02
	peak := 3450.0
	rng := rand.New(rand.NewPCG(7, 7))
	sweep := func(repeats int) CostFit {
		var xs, ys []float64
		for range repeats {
			for _, r := range rates {
				xs, ys = append(xs, r), append(ys, truth.CoresAt(r)+noise*rng.NormFloat64())
			}
		}
		f, err := FitCost(ModelLine, xs, ys)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	relative := func(f CostFit) float64 {
		in, _ := f.Cost.PredictionInterval(peak)
		return in.HalfWidth / in.High
	}
	first := sweep(2)
	if w := relative(first); w <= 0.2 {
		t.Fatalf("the test's sweep is already within ±%.0f%%: raise its noise", 100*w)
	}
	n, ok := first.Cost.NarrowTo(peak, 0.10)
	if !ok {
		t.Fatal("no advice")
	}
	// With noise 0.02 cores about 0.18 cores at the peak, even an exact
	// curve leaves ±1.96 x 0.02 / 0.22 = ±18%: repeats cannot do it, only
	// longer steps.
	if n.Repeats != 0 {
		t.Errorf("advised %d repeats where the step-to-step scatter alone is wider than ±10%%", n.Repeats)
	}
	if n.StepFactor < 2 {
		t.Errorf("step factor %v", n.StepFactor)
	}
	// Where the curve's own error dominates (few points, a far peak),
	// repeats do it: check the advice by following it.
	truth, noise, peak = CPUCost{IdleCores: 0.01, CoresPerKRPS: 0.05}, 0.006, 4000
	rates = []float64{500, 1000, 1500, 2000}
	// A sweep whose scatter is near the truth's, so that the advice can be
	// held to the truth.
	for range 200 {
		if first = sweep(1); relative(first) > 0.2 && math.Abs(first.Cost.Uncertainty.ResidualSD-noise) < 0.1*noise {
			break
		}
	}
	n, _ = first.Cost.NarrowTo(peak, 0.10)
	if relative(first) <= 0.2 || n.Repeats < 2 {
		t.Fatalf("advised %d repeats; the test wants a case repeats fix (width ±%.0f%%)", n.Repeats, 100*relative(first))
	}
	medianWidth := func(repeats int) float64 {
		var widths []float64
		for range 200 {
			widths = append(widths, relative(sweep(repeats)))
		}
		return Median(widths)
	}
	// What the truth needs: the fewest repeats whose sweeps' median interval
	// is within ±10%.
	need := 1
	for medianWidth(need) > 0.10 {
		need++
	}
	advised := medianWidth(n.Repeats)
	t.Logf("advised %d repeats from one sweep at ±%.1f%%: median then ±%.1f%%; the truth needs %d", n.Repeats, 100*relative(first), 100*advised, need)
	if advised > 0.10 || n.Repeats > 2*need {
		t.Errorf("advised %d repeats (median interval then ±%.1f%%); the truth needs %d", n.Repeats, 100*advised, need)
	}
}
