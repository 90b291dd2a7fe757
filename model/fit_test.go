package model

import (
	"errors"
	"math"
	"testing"
)

func TestFitLineRecoversAKnownLine(t *testing.T) {
	// y = 0.02 + 0.0003 x exactly: slope and intercept back, R2 = 1, CIs 0.
	xs := []float64{100, 200, 400, 800}
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = 0.02 + 0.0003*x
	}
	f, err := FitLine(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.Intercept-0.02) > 1e-12 || math.Abs(f.Slope-0.0003) > 1e-15 || math.Abs(f.R2-1) > 1e-12 || f.SlopeCI > 1e-12 {
		t.Errorf("fit = %+v", f)
	}
}

// A textbook case worked by hand: x = 1..5, y = 2.1, 3.9, 6.2, 7.8, 10.1.
// Slope 1.99, intercept 0.05, SSE 0.107, Sxx 10, t(0.975, 3) = 3.1824:
// slope CI = 3.1824 x sqrt(0.107/3/10) = 0.19005.
func TestFitLineConfidenceIntervals(t *testing.T) {
	f, err := FitLine([]float64{1, 2, 3, 4, 5}, []float64{2.1, 3.9, 6.2, 7.8, 10.1})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.Slope-1.99) > 1e-9 || math.Abs(f.Intercept-0.05) > 1e-9 {
		t.Errorf("slope %v intercept %v, want 1.99 and 0.05", f.Slope, f.Intercept)
	}
	if math.Abs(f.SlopeCI-0.19005) > 1e-4 {
		t.Errorf("slope CI = %v, want 0.19005", f.SlopeCI)
	}
	// intercept CI = t sqrt(sigma2 (1/n + mean^2/Sxx)) = 3.1824 sqrt(0.035667 (0.2 + 0.9)) = 0.63034
	if math.Abs(f.InterceptCI-0.63034) > 1e-4 {
		t.Errorf("intercept CI = %v, want 0.63034", f.InterceptCI)
	}
}

func TestFitLineNeedsTwoRates(t *testing.T) {
	if _, err := FitLine([]float64{400, 400}, []float64{0.1, 0.11}); !errors.Is(err, ErrTooFewPoints) {
		t.Errorf("one distinct rate: err = %v, want ErrTooFewPoints", err)
	}
	f, err := FitLine([]float64{100, 200}, []float64{1, 2})
	if err != nil || !math.IsNaN(f.SlopeCI) {
		t.Errorf("two points: %+v %v, want a fit without a CI", f, err)
	}
}

func TestLeaveOneRateOut(t *testing.T) {
	rates := []float64{100, 200, 300, 300}
	xs := []float64{100, 200, 310, 290} // the proxy counted slightly off the requested rate
	ys := []float64{1, 2, 3.2, 2.8}     // the two repeats at 300 scatter around the line
	held, err := LeaveOneRateOut(rates, xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 3 {
		t.Fatalf("%d predictions, want one per rate", len(held))
	}
	// Holding out rate 300: the line through (100,1) and (200,2) is y = 0.01x;
	// the repeats' mean is (300, 3.0), predicted exactly.
	if h := held[2]; h.Rate != 300 || h.Points != 2 || h.X != 300 || h.Measured != 3 || math.Abs(h.Predicted-3) > 1e-9 || h.RelError > 1e-9 {
		t.Errorf("held-out 300: %+v", h)
	}
	// Holding out rate 100: the least-squares line through (200,2),
	// (310,3.2), (290,2.8) has slope Sxy/Sxx = 70.667/6866.67 = 0.0102913
	// and intercept 8/3 - 0.0102913 x 800/3 = -0.0776699 (by hand), so it
	// predicts 0.951456 at 100: an error of 4.854%.
	if h := held[0]; math.Abs(h.Predicted-0.951456) > 1e-5 || math.Abs(h.RelError-0.048544) > 1e-5 {
		t.Errorf("held-out 100: %+v", h)
	}
	if worst := MaxRelError(held); math.Abs(worst-held[0].RelError) > 1e-12 || worst < held[1].RelError {
		t.Errorf("MaxRelError = %v of %+v", worst, held)
	}
	if worst := MaxRelError([]HeldOut{{RelError: 0.1}, {RelError: 0.3}, {RelError: 0.2}}); worst != 0.3 {
		t.Errorf("MaxRelError = %v, want 0.3", worst)
	}
	if _, err := LeaveOneRateOut([]float64{1, 2, 2}, []float64{1, 2, 2}, []float64{1, 2, 2}); !errors.Is(err, ErrTooFewPoints) {
		t.Errorf("two rates: %v", err)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}}
	for _, tt := range tests {
		in := append([]float64(nil), tt.xs...)
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.xs[i] {
				t.Errorf("Median reordered its input: %v", tt.xs)
			}
		}
	}
}
