package loadgen

import (
	"fmt"
	"runtime"
)

// Limits are the gates a run must pass to be valid. A run that fails one is
// still reported, with Valid false and the reasons, because an invalid run is
// a finding (the target or the generator could not keep up), not an error.
type Limits struct {
	// MinAchievedRatio is the lowest actual/requested rate of a fixed-rate
	// run; below it the schedule was not held. Default 0.97. Not applied
	// to max-rate runs, which request no rate.
	MinAchievedRatio float64
	// MaxErrorRatio is the highest share of failed calls (non-2xx, socket
	// errors, gRPC errors). Default 0.01.
	MaxErrorRatio float64
	// MaxBehindRatio is the highest share of calls whose previous call on the
	// same connection ended more than 1ms past their scheduled start, which
	// is what fortio prints as "% of sleep were falling behind" (it warns
	// above 5%, the default here). Fixed-rate runs only.
	MaxBehindRatio float64
	// CPUWarnFraction: warn when the generator's process used more than this
	// share of the cores it may use (GOMAXPROCS). Default 0.85. A warning,
	// not a gate: it says a knee may be the generator's own.
	CPUWarnFraction float64
}

// DefaultLimits are the gates the issue fixes for every run.
var DefaultLimits = Limits{
	MinAchievedRatio: 0.97,
	MaxErrorRatio:    0.01,
	MaxBehindRatio:   0.05,
	CPUWarnFraction:  0.85,
}

func (l Limits) withDefaults() Limits {
	if l.MinAchievedRatio == 0 {
		l.MinAchievedRatio = DefaultLimits.MinAchievedRatio
	}
	if l.MaxErrorRatio == 0 {
		l.MaxErrorRatio = DefaultLimits.MaxErrorRatio
	}
	if l.MaxBehindRatio == 0 {
		l.MaxBehindRatio = DefaultLimits.MaxBehindRatio
	}
	if l.CPUWarnFraction == 0 {
		l.CPUWarnFraction = DefaultLimits.CPUWarnFraction
	}
	return l
}

func (l Limits) validate() error {
	switch {
	case l.MinAchievedRatio < 0 || l.MinAchievedRatio > 1:
		return fieldErr("min-achieved-ratio", "expected a ratio between 0 and 1, got %g", l.MinAchievedRatio)
	case l.MaxErrorRatio < 0 || l.MaxErrorRatio > 1:
		return fieldErr("max-error-ratio", "expected a ratio between 0 and 1, got %g", l.MaxErrorRatio)
	case l.MaxBehindRatio < 0 || l.MaxBehindRatio > 1:
		return fieldErr("max-behind-ratio", "expected a ratio between 0 and 1, got %g", l.MaxBehindRatio)
	case l.CPUWarnFraction < 0:
		return fieldErr("cpu-warn-fraction", "expected a positive fraction, got %g", l.CPUWarnFraction)
	}
	return nil
}

// applyValidity fills s.Valid, s.InvalidReasons and s.Warnings from the
// measured figures already in s.
func applyValidity(s *Summary, l Limits) {
	l = l.withDefaults()
	s.InvalidReasons = []string{}
	if s.Warnings == nil {
		s.Warnings = []string{}
	}
	if s.Requests == 0 {
		s.InvalidReasons = append(s.InvalidReasons, "no call completed")
	}
	if !s.MaxRate && s.RequestedQPS > 0 && s.AchievedRatio < l.MinAchievedRatio {
		s.InvalidReasons = append(s.InvalidReasons, fmt.Sprintf(
			"achieved %.1f of %.1f requested qps (ratio %.3f < %.2f)",
			s.ActualQPS, s.RequestedQPS, s.AchievedRatio, l.MinAchievedRatio))
	}
	if s.ErrorRatio > l.MaxErrorRatio {
		s.InvalidReasons = append(s.InvalidReasons, fmt.Sprintf(
			"error ratio %.4f > %.4f (%d of %d calls failed)", s.ErrorRatio, l.MaxErrorRatio, s.Errors, s.Requests))
	}
	if !s.MaxRate && s.BehindRatio > l.MaxBehindRatio {
		s.InvalidReasons = append(s.InvalidReasons, fmt.Sprintf(
			"%.1f%% of calls started more than 1ms behind schedule (> %.0f%%)", 100*s.BehindRatio, 100*l.MaxBehindRatio))
	}
	if s.GeneratorCPUCapacity > 0 && s.GeneratorCPUCores > l.CPUWarnFraction*s.GeneratorCPUCapacity {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"generator near CPU saturation: %.2f of %.0f cores; a knee here may be the generator's own",
			s.GeneratorCPUCores, s.GeneratorCPUCapacity))
	}
	s.Valid = len(s.InvalidReasons) == 0
}

// generatorCPUCapacity is how many cores this process may run on at once.
// Go sizes GOMAXPROCS from the CPU affinity mask and the cgroup quota, so it
// is the ceiling that matters for saturation.
func generatorCPUCapacity() float64 { return float64(runtime.GOMAXPROCS(0)) }
