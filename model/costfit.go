package model

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
	"gonum.org/v1/gonum/stat"
)

// CostFit is a CPU cost curve fitted to measured steps.
type CostFit struct {
	Cost   CPUCost `json:"cost"`
	Points int     `json:"points"`
	SSE    float64 `json:"sse"`
	R2     float64 `json:"r2"`
	// AtBounds names the parameters the fit held at a bound (idle cores at
	// 0, the exponent at 1 or at its floor): they are not fitted freely,
	// and the interval counts only the free ones.
	AtBounds []string `json:"at_bounds,omitempty"`
}

// ErrNoGrowth means CPU does not grow with the rate in the points: no curve
// of this family can size anything from them.
var ErrNoGrowth = errors.New("CPU does not grow with the rate")

// minExponent is the concave curve's lowest exponent: below it x^b is nearly
// constant over any measured range and cannot be told from the idle cost.
const minExponent = 0.05

// MinRates is how many distinct rates a model needs for its fit to leave
// something to judge it by: one more than it has parameters.
func MinRates(model string) int {
	if model == ModelConcave {
		return 3
	}
	return 2
}

// FitCost fits a cost curve (ModelLine or ModelConcave) to proxy cores ys
// at sidecar RPS xs by least squares, with the idle cost held >= 0 and, for
// the concave curve, the exponent within [0.05, 1]. The concave fit
// profiles the exponent out: for a fixed exponent the curve is linear in
// idle cost and coefficient, so it minimises the residual over the exponent
// alone, with gonum's Nelder-Mead from the best point of a grid.
func FitCost(model string, xs, ys []float64) (CostFit, error) {
	if len(xs) != len(ys) {
		return CostFit{}, fmt.Errorf("%d x values and %d y values", len(xs), len(ys))
	}
	if d := distinct(xs); d < MinRates(model) {
		return CostFit{}, fmt.Errorf("%w: the %s model needs at least %d distinct rates, got %d", ErrTooFewPoints, model, MinRates(model), d)
	}
	z := make([]float64, len(xs))
	for i, x := range xs {
		z[i] = x / 1000
	}
	exponent := 1.0
	switch model {
	case ModelLine:
	case ModelConcave:
		exponent = bestExponent(z, ys)
	default:
		return CostFit{}, fmt.Errorf("unknown cost model %q", model)
	}
	idle, coef, sse := linearFit(z, ys, exponent)
	if coef <= 0 {
		return CostFit{}, fmt.Errorf("%w: the %s fit's coefficient is %.4f cores", ErrNoGrowth, model, coef)
	}
	f := CostFit{Cost: CPUCost{IdleCores: idle, CoresPerKRPS: coef}, Points: len(xs), SSE: sse}
	if model == ModelConcave {
		f.Cost.Exponent = exponent
	}
	f.R2 = 1 - sse/sst(ys)
	free := [3]bool{idle > 0, true, model == ModelConcave}
	if idle == 0 {
		f.AtBounds = append(f.AtBounds, "idle cores at 0")
	}
	if model == ModelConcave && (exponent >= 1-1e-6 || exponent <= minExponent+1e-6) {
		free[2] = false
		f.AtBounds = append(f.AtBounds, fmt.Sprintf("exponent at %g", exponent))
		if exponent >= 1-1e-6 {
			f.Cost.Exponent = 1
		}
	}
	f.Cost.Uncertainty = uncertainty(f.Cost, z, sse, free)
	return f, nil
}

// linearFit fits y = idle + coef x z^exponent by least squares with idle >= 0:
// the free fit, or through the origin when the free intercept is negative
// (the constrained optimum of a convex problem). It returns the SSE too.
func linearFit(z, ys []float64, exponent float64) (idle, coef, sse float64) {
	w := make([]float64, len(z))
	for i := range z {
		w[i] = math.Pow(z[i], exponent)
	}
	idle, coef = stat.LinearRegression(w, ys, nil, false)
	if idle < 0 || math.IsNaN(idle) {
		var wy, ww float64
		for i := range w {
			wy += w[i] * ys[i]
			ww += w[i] * w[i]
		}
		idle, coef = 0, wy/ww
	}
	for i := range w {
		r := ys[i] - idle - coef*w[i]
		sse += r * r
	}
	return idle, coef, sse
}

// bestExponent minimises the residual over the exponent in [minExponent, 1].
func bestExponent(z, ys []float64) float64 {
	sseAt := func(b float64) float64 {
		_, _, sse := linearFit(z, ys, b)
		return sse
	}
	best, bestSSE := 1.0, sseAt(1)
	for b := minExponent; b < 1; b += 0.05 {
		if s := sseAt(b); s < bestSSE {
			best, bestSSE = b, s
		}
	}
	// b(u) = lo + (1-lo)(1+sin u)/2 maps every u into [lo, 1], so the
	// unconstrained method cannot leave the bounds and can reach both.
	bOf := func(u float64) float64 { return minExponent + (1-minExponent)*(1+math.Sin(u))/2 }
	u0 := math.Asin(math.Max(-1, math.Min(1, 2*(best-minExponent)/(1-minExponent)-1)))
	res, err := optimize.Minimize(optimize.Problem{Func: func(u []float64) float64 { return sseAt(bOf(u[0])) }},
		[]float64{u0}, &optimize.Settings{Converger: &optimize.FunctionConverge{Absolute: 1e-14, Iterations: 50}}, &optimize.NelderMead{})
	if err == nil || res != nil && res.X != nil {
		if b := bOf(res.X[0]); sseAt(b) <= bestSSE {
			best = b
		}
	}
	return best
}

// uncertainty is the residual scatter and the parameters' covariance
// s²(JᵀJ)⁻¹ over the free parameters; nil when no degree of freedom is
// left or JᵀJ is singular.
func uncertainty(c CPUCost, z []float64, sse float64, free [3]bool) *CostUncertainty {
	var cols []int
	for i, f := range free {
		if f {
			cols = append(cols, i)
		}
	}
	dof := len(z) - len(cols)
	if dof < 1 {
		return nil
	}
	j := mat.NewDense(len(z), len(cols), nil)
	for row := range z {
		g := c.gradient(z[row] * 1000)
		for k, col := range cols {
			j.Set(row, k, g[col])
		}
	}
	var jtj, inv mat.Dense
	jtj.Mul(j.T(), j)
	if err := inv.Inverse(&jtj); err != nil {
		return nil
	}
	s2 := sse / float64(dof)
	u := &CostUncertainty{ResidualSD: math.Sqrt(s2), Points: len(z), DoF: dof, Rates: distinct(z)}
	for a, ca := range cols {
		for b, cb := range cols {
			u.Covariance[ca][cb] = s2 * inv.At(a, b)
		}
	}
	return u
}

func sst(ys []float64) float64 {
	m := stat.Mean(ys, nil)
	s := 0.0
	for _, y := range ys {
		s += (y - m) * (y - m)
	}
	return s
}

// LeaveOneCostRateOut is leave-one-rate-out for a cost model: each rate's
// points held out in turn, the model refitted on the rest (with the same
// bounds), and the held-out mean CPU predicted. It needs one rate more than
// the model's MinRates, so that every refit still has them.
func LeaveOneCostRateOut(model string, rates, xs, ys []float64) ([]HeldOut, error) {
	return leaveOneRateOut(rates, xs, ys, MinRates(model)+1, func(fx, fy []float64) (func(float64) float64, error) {
		f, err := FitCost(model, fx, fy)
		if err != nil {
			return nil, err
		}
		return f.Cost.CoresAt, nil
	})
}
