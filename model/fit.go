package model

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// LineFit is an ordinary least-squares line y = Intercept + Slope x.
type LineFit struct {
	Intercept float64 `json:"intercept"`
	Slope     float64 `json:"slope"`
	R2        float64 `json:"r2"`
	N         int     `json:"n"`
	// InterceptCI and SlopeCI are 95% confidence half-widths (Student's t
	// with n-2 degrees of freedom); NaN below 3 points.
	InterceptCI float64 `json:"intercept_ci95"`
	SlopeCI     float64 `json:"slope_ci95"`
}

// ErrTooFewPoints means a line cannot be fitted.
var ErrTooFewPoints = errors.New("too few points")

// FitLine fits y against x by least squares (gonum's stat.LinearRegression).
// It needs two distinct x values.
func FitLine(xs, ys []float64) (LineFit, error) {
	if len(xs) != len(ys) {
		return LineFit{}, fmt.Errorf("%d x values and %d y values", len(xs), len(ys))
	}
	if distinct(xs) < 2 {
		return LineFit{}, fmt.Errorf("%w: need at least 2 distinct rates, got %d", ErrTooFewPoints, distinct(xs))
	}
	alpha, beta := stat.LinearRegression(xs, ys, nil, false)
	f := LineFit{Intercept: alpha, Slope: beta, N: len(xs), R2: stat.RSquared(xs, ys, nil, alpha, beta),
		InterceptCI: math.NaN(), SlopeCI: math.NaN()}
	if n := float64(len(xs)); len(xs) >= 3 {
		var sse float64
		for i := range xs {
			r := ys[i] - (alpha + beta*xs[i])
			sse += r * r
		}
		meanX := stat.Mean(xs, nil)
		var sxx float64
		for _, x := range xs {
			sxx += (x - meanX) * (x - meanX)
		}
		sigma2 := sse / (n - 2)
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 2}.Quantile(0.975)
		f.SlopeCI = t * math.Sqrt(sigma2/sxx)
		f.InterceptCI = t * math.Sqrt(sigma2*(1/n+meanX*meanX/sxx))
	}
	return f, nil
}

// At is the fitted y at x.
func (f LineFit) At(x float64) float64 { return f.Intercept + f.Slope*x }

// HeldOut is one leave-one-rate-out prediction: a rate's points held out
// together, and their mean compared with the line's prediction there.
type HeldOut struct {
	Rate      float64 `json:"rate"`
	Points    int     `json:"points"`
	X         float64 `json:"x"`        // mean x of the held-out points
	Measured  float64 `json:"measured"` // mean y of the held-out points
	Predicted float64 `json:"predicted"`
	// RelError is |predicted - measured| / measured.
	RelError float64 `json:"rel_error"`
}

// LeaveOneRateOut refits the line without each rate in turn and predicts
// the held-out rate: an honest estimate of how well the line predicts a rate
// it was not fitted on. rates labels each point with the rate it was
// measured at (the requested rate), which is not x itself (the rate the proxy
// counted); the points of a rate (repeats) are held out together and their
// mean compared, so repeated steps average out step-to-step noise. It needs
// three distinct rates, so that two remain for each fit.
func LeaveOneRateOut(rates, xs, ys []float64) ([]HeldOut, error) {
	return leaveOneRateOut(rates, xs, ys, 3, func(fx, fy []float64) (func(float64) float64, error) {
		f, err := FitLine(fx, fy)
		if err != nil {
			return nil, err
		}
		return f.At, nil
	})
}

// leaveOneRateOut holds out each rate's points in turn, fits the rest with
// fit, and compares the prediction at the held-out points' mean x with their
// mean y. It needs minRates distinct rates.
func leaveOneRateOut(rates, xs, ys []float64, minRates int, fit func(xs, ys []float64) (func(float64) float64, error)) ([]HeldOut, error) {
	if len(rates) != len(xs) || len(xs) != len(ys) {
		return nil, fmt.Errorf("%d rates, %d x values, %d y values", len(rates), len(xs), len(ys))
	}
	groups := DistinctValues(rates)
	if len(groups) < minRates {
		return nil, fmt.Errorf("%w: leave-one-rate-out needs at least %d distinct rates, got %d", ErrTooFewPoints, minRates, len(groups))
	}
	var out []HeldOut
	for _, held := range groups {
		var fx, fy, hx, hy []float64
		for i := range xs {
			if rates[i] == held {
				hx, hy = append(hx, xs[i]), append(hy, ys[i])
			} else {
				fx, fy = append(fx, xs[i]), append(fy, ys[i])
			}
		}
		predict, err := fit(fx, fy)
		if err != nil {
			return nil, err
		}
		x, y := stat.Mean(hx, nil), stat.Mean(hy, nil)
		p := predict(x)
		out = append(out, HeldOut{Rate: held, Points: len(hx), X: x, Measured: y, Predicted: p, RelError: math.Abs(p-y) / math.Abs(y)})
	}
	return out, nil
}

// MaxRelError is the largest relative error of the predictions.
func MaxRelError(held []HeldOut) float64 {
	worst := 0.0
	for _, h := range held {
		worst = math.Max(worst, h.RelError)
	}
	return worst
}

// Median is the middle value of xs (the mean of the two middle ones for an
// even count); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func distinct(xs []float64) int { return len(DistinctValues(xs)) }

// DistinctValues returns the distinct values of xs, sorted.
func DistinctValues(xs []float64) []float64 {
	seen := map[float64]bool{}
	var out []float64
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	sort.Float64s(out)
	return out
}
