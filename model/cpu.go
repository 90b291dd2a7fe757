package model

import (
	"fmt"
	"math"
)

// CPUCost is a proxy's CPU against the requests it carries:
//
//	cores = IdleCores + CoresPerKRPS x (rps/1000)^Exponent
//
// With Exponent 1 (or 0, unset) it is a line and CoresPerKRPS is the cost of
// every 1000 RPS, the figure Istio publishes ("0.35 vCPU per 1000 RPS").
// With 0 < Exponent < 1 it is concave: each further 1000 RPS costs less than
// the one before, as Envoy's did in an Istio maintainer's measurement
// (istio/istio.io#15335) and as a proxy's wake-ups make it at low rates;
// CoresPerKRPS is then the cost of the first 1000 RPS above idle. IdleCores
// is the cost with no traffic (xDS, stats, health checks); Istio publishes
// none.
type CPUCost struct {
	IdleCores    float64 `json:"idle_cores"`
	CoresPerKRPS float64 `json:"cores_per_krps"`
	Exponent     float64 `json:"exponent,omitempty"`
	// Uncertainty is how well measurements pinned the curve down; nil for
	// published figures, which come without one.
	Uncertainty *CostUncertainty `json:"uncertainty,omitempty"`
}

// Cost model names, as outputs and profiles spell them.
const (
	ModelLine    = "line"
	ModelConcave = "concave"
)

// exponent is the curve's exponent, 1 when unset.
func (c CPUCost) exponent() float64 {
	if c.Exponent == 0 {
		return 1
	}
	return c.Exponent
}

// Model names the curve's shape: line or concave.
func (c CPUCost) Model() string {
	if c.exponent() == 1 {
		return ModelLine
	}
	return ModelConcave
}

// CoresAt is the CPU the proxy uses at rps requests per second.
func (c CPUCost) CoresAt(rps float64) float64 {
	if rps <= 0 {
		return c.IdleCores
	}
	if c.exponent() == 1 {
		return c.IdleCores + c.CoresPerKRPS*rps/1000
	}
	return c.IdleCores + c.CoresPerKRPS*math.Pow(rps/1000, c.exponent())
}

// RPSAt inverts CoresAt: the rate at which the proxy uses the given cores.
func (c CPUCost) RPSAt(cores float64) float64 {
	if c.CoresPerKRPS <= 0 {
		return math.Inf(1)
	}
	if cores <= c.IdleCores {
		return 0
	}
	return math.Pow((cores-c.IdleCores)/c.CoresPerKRPS, 1/c.exponent()) * 1000
}

// MarginalCoresPerKRPS is the cost of the next 1000 RPS at rps: the curve's
// slope there. For a line it is CoresPerKRPS everywhere.
func (c CPUCost) MarginalCoresPerKRPS(rps float64) float64 {
	b := c.exponent()
	if b == 1 {
		return c.CoresPerKRPS
	}
	z := math.Max(rps/1000, 1e-6)
	return c.CoresPerKRPS * b * math.Pow(z, b-1)
}

// Formula writes the curve as a reader checks it: "0.012 + 0.052 x RPS/1000"
// or "0.012 + 0.061 x (RPS/1000)^0.81".
func (c CPUCost) Formula() string {
	if c.Model() == ModelLine {
		return fmt.Sprintf("%.4f + %.4f x RPS/1000", c.IdleCores, c.CoresPerKRPS)
	}
	return fmt.Sprintf("%.4f + %.4f x (RPS/1000)^%.3f", c.IdleCores, c.CoresPerKRPS, c.exponent())
}

// Validate reports a curve that cannot size anything.
func (c CPUCost) Validate() error {
	if !NonNegative(c.IdleCores) {
		return fmt.Errorf("idle cores must be a finite number >= 0, got %v", c.IdleCores)
	}
	if !Finite(c.CoresPerKRPS) || c.CoresPerKRPS <= 0 {
		return fmt.Errorf("cores per 1000 RPS must be a finite number > 0, got %v", c.CoresPerKRPS)
	}
	if !NonNegative(c.Exponent) || c.Exponent > 1 {
		return fmt.Errorf("exponent must be within (0, 1] (0 or absent: a line), got %v", c.Exponent)
	}
	if u := c.Uncertainty; u != nil {
		if err := u.validate(); err != nil {
			return fmt.Errorf("uncertainty: %w", err)
		}
	}
	return nil
}

// WorkersFor is the number of proxy workers that carry rps when one worker
// carries at most rpsPerWorker: a worker is one thread, so it can never use
// more than one core, whatever the CPU limit.
func WorkersFor(rps, rpsPerWorker float64) int {
	if rps <= 0 || rpsPerWorker <= 0 || math.IsInf(rpsPerWorker, 1) {
		return 1
	}
	return max(1, int(math.Ceil(rps/rpsPerWorker-1e-9)))
}
