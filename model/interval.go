package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// CostUncertainty is what a fit knows about its own error: the scatter of
// one measured step about the curve and the covariance of the fitted
// parameters. A prediction interval at any rate follows from them (the delta
// method: the curve is linearised in its parameters at the fit).
type CostUncertainty struct {
	// ResidualSD is the standard deviation of one step's measured CPU about
	// the curve, in cores: sqrt(SSE / DoF).
	ResidualSD float64 `json:"residual_sd_cores"`
	// Points is the number of steps fitted; DoF is Points less the
	// parameters fitted freely (a parameter held at a bound is not).
	Points int `json:"points"`
	DoF    int `json:"dof"`
	// Rates is how many distinct rates the points were measured at; the
	// repeats per rate are Points / Rates. FitCost counts distinct x
	// values; a caller whose repeats measured slightly different x (the
	// proxy's own rate) sets it from the requested rates.
	Rates int `json:"rates,omitempty"`
	// Covariance of (idle cores, cores per 1000 RPS, exponent), in that
	// order, as fitted; the rows and columns of a parameter held fixed are 0.
	Covariance [3][3]float64 `json:"covariance"`
	// StepSeconds is how long each fitted step measured: the scatter is that
	// of a mean over so long.
	StepSeconds float64 `json:"step_seconds,omitempty"`
}

func (u CostUncertainty) validate() error {
	switch {
	case !NonNegative(u.ResidualSD):
		return fmt.Errorf("residual_sd_cores must be a finite number >= 0, got %v", u.ResidualSD)
	case u.DoF < 1 || u.Points <= u.DoF:
		return fmt.Errorf("dof must be within 1..points-1, got dof %d for %d points", u.DoF, u.Points)
	}
	for i := range u.Covariance {
		for j := range u.Covariance[i] {
			if !Finite(u.Covariance[i][j]) {
				return fmt.Errorf("covariance[%d][%d] is not finite", i, j)
			}
		}
	}
	return nil
}

// Interval is a 95% prediction interval for one step's CPU at a rate: where
// a new measurement of that length falls 95 times in 100.
type Interval struct {
	RPS       float64 `json:"rps"`
	Point     float64 `json:"point_cores"`
	Low       float64 `json:"low_cores"`
	High      float64 `json:"high_cores"`
	HalfWidth float64 `json:"half_width_cores"`
	// MeanSD is the standard error of the curve itself at the rate; the
	// rest of the width is the step-to-step scatter.
	MeanSD float64 `json:"mean_sd_cores"`
	DoF    int     `json:"dof"`
}

// predictionLevel is the two-sided coverage of every prediction interval.
const predictionLevel = 0.95

// PredictionInterval is the 95% prediction interval of one step's CPU at
// rps: point ± t(DoF) x sqrt(residual variance + gᵀ Σ g), where g is the
// curve's gradient in its parameters at rps and Σ their covariance. For a
// line this is the textbook interval exactly; for the concave curve it is
// the delta method. ok is false without an uncertainty (published figures,
// or too few points).
func (c CPUCost) PredictionInterval(rps float64) (Interval, bool) {
	point := c.CoresAt(rps)
	in := Interval{RPS: rps, Point: point, Low: point, High: point}
	u := c.Uncertainty
	if u == nil {
		return in, false
	}
	meanVar := c.meanVariance(rps)
	t := TQuantile95(u.DoF)
	in.DoF = u.DoF
	in.MeanSD = math.Sqrt(meanVar)
	in.HalfWidth = t * math.Sqrt(u.ResidualSD*u.ResidualSD+meanVar)
	in.Low, in.High = point-in.HalfWidth, point+in.HalfWidth
	return in, true
}

// meanVariance is gᵀ Σ g: the variance of the fitted curve at rps.
func (c CPUCost) meanVariance(rps float64) float64 {
	g := c.gradient(rps)
	v := 0.0
	for i := range 3 {
		for j := range 3 {
			v += g[i] * c.Uncertainty.Covariance[i][j] * g[j]
		}
	}
	return math.Max(0, v)
}

// gradient is d cores / d (idle, coefficient, exponent) at rps.
func (c CPUCost) gradient(rps float64) [3]float64 {
	z := rps / 1000
	if z <= 0 {
		return [3]float64{1, 0, 0}
	}
	zb := math.Pow(z, c.exponent())
	return [3]float64{1, zb, c.CoresPerKRPS * zb * math.Log(z)}
}

// TQuantile95 is Student's t quantile for a two-sided 95% interval.
func TQuantile95(dof int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(dof)}.Quantile(0.5 + predictionLevel/2)
}

// Narrowing says what would bring an interval within a relative half-width,
// computed from the scatter observed: more repeats of every rate (the
// curve's own error shrinks with more points, the step-to-step scatter does
// not), or longer steps (both shrink with the step length, if the scatter
// of a step's mean falls as 1/sqrt(duration), as for independent
// fluctuations).
type Narrowing struct {
	// Target is the half-width sought, relative to the request the
	// interval gives (point + half-width).
	Target float64 `json:"target_half_width_of_request"`
	// CurrentRepeats is the repeats per rate of the fit; Repeats those
	// that reach the target (0: repeats alone cannot, the step-to-step
	// scatter alone is wider).
	CurrentRepeats int `json:"current_repeats"`
	Repeats        int `json:"repeats,omitempty"`
	// StepFactor is how many times longer each step must be (at the
	// current repeats).
	StepFactor float64 `json:"step_factor"`
}

// maxRepeats bounds the search for repeats: beyond it the advice is longer
// steps.
const maxRepeats = 100

// Repeats is the steps per rate the curve was fitted on (1 when unknown).
func (u CostUncertainty) Repeats() int {
	if u.Rates <= 0 {
		return 1
	}
	return max(1, int(math.Round(float64(u.Points)/float64(u.Rates))))
}

// NarrowTo says what brings the interval at rps within target x the
// request. ok is false without an uncertainty.
func (c CPUCost) NarrowTo(rps, target float64) (Narrowing, bool) {
	u := c.Uncertainty
	if u == nil || c.CoresAt(rps) <= 0 {
		return Narrowing{}, false
	}
	currentRepeats := u.Repeats()
	point := c.CoresAt(rps)
	// half-width <= target x (point + half-width)  <=>  half-width <= point x target / (1 - target)
	allowed := point * target / (1 - target)
	s2, meanVar := u.ResidualSD*u.ResidualSD, c.meanVariance(rps)
	params := u.Points - u.DoF
	n := Narrowing{Target: target, CurrentRepeats: currentRepeats}
	for r := currentRepeats; r <= maxRepeats; r++ {
		m := float64(r) / float64(currentRepeats)
		dof := int(math.Round(float64(u.Points)*m)) - params
		if TQuantile95(dof)*math.Sqrt(s2+meanVar/m) <= allowed {
			n.Repeats = r
			break
		}
	}
	width := TQuantile95(u.DoF) * math.Sqrt(s2+meanVar)
	n.StepFactor = math.Max(1, (width/allowed)*(width/allowed))
	return n, true
}
