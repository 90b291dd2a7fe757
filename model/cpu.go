package model

import (
	"fmt"
	"math"
)

// CPUCost is a linear proxy CPU model: cores = IdleCores + CoresPerKRPS * rps/1000.
// Istio publishes only the slope ("0.35 vCPU per 1000 RPS"); measured profiles
// add the intercept (the proxy's cost with no traffic: xDS, stats, health checks).
type CPUCost struct {
	IdleCores    float64 `json:"idle_cores"`
	CoresPerKRPS float64 `json:"cores_per_krps"`
}

// CoresAt is the CPU the proxy uses at rps requests per second.
func (c CPUCost) CoresAt(rps float64) float64 { return c.IdleCores + c.CoresPerKRPS*rps/1000 }

// Validate reports a model that cannot size anything.
func (c CPUCost) Validate() error {
	if !NonNegative(c.IdleCores) {
		return fmt.Errorf("idle cores must be a finite number >= 0, got %v", c.IdleCores)
	}
	if !Finite(c.CoresPerKRPS) || c.CoresPerKRPS <= 0 {
		return fmt.Errorf("cores per 1000 RPS must be a finite number > 0, got %v", c.CoresPerKRPS)
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
