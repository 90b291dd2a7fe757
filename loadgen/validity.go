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
	// MaxBehindRatio is the highest share of calls that started more than
	// 1ms after they were due, fortio's threshold for a sleep "falling
	// behind" (it warns above 5%, the default here). Fixed-rate runs only.
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
		return fieldErr(FieldMinAchieved, "expected a ratio between 0 and 1, got %g", l.MinAchievedRatio)
	case l.MaxErrorRatio < 0 || l.MaxErrorRatio > 1:
		return fieldErr(FieldMaxErrorRatio, "expected a ratio between 0 and 1, got %g", l.MaxErrorRatio)
	case l.MaxBehindRatio < 0 || l.MaxBehindRatio > 1:
		return fieldErr(FieldMaxBehindRatio, "expected a ratio between 0 and 1, got %g", l.MaxBehindRatio)
	case l.CPUWarnFraction < 0:
		return fieldErr(FieldCPUWarnFraction, "expected a positive fraction, got %g", l.CPUWarnFraction)
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
		reason := fmt.Sprintf("achieved %.1f of %.1f requested qps (ratio %.3f < %.2f)",
			s.ActualQPS, s.RequestedQPS, s.AchievedRatio, l.MinAchievedRatio)
		if s.DroppedCalls > 0 {
			reason += fmt.Sprintf(": %d calls due in the run were still waiting when it ended and were never made", s.DroppedCalls)
		}
		s.InvalidReasons = append(s.InvalidReasons, reason)
	}
	if s.ErrorRatio > l.MaxErrorRatio {
		s.InvalidReasons = append(s.InvalidReasons, fmt.Sprintf(
			"error ratio %.4f > %.4f (%d of %d calls failed)", s.ErrorRatio, l.MaxErrorRatio, s.Errors, s.Requests))
	}
	if !s.MaxRate && s.BehindRatio > l.MaxBehindRatio {
		s.InvalidReasons = append(s.InvalidReasons, fmt.Sprintf(
			"%.1f%% of calls started more than 1ms behind schedule (> %.0f%%): %s",
			100*s.BehindRatio, 100*l.MaxBehindRatio, s.behindCause()))
	}
	if s.GeneratorCPUCapacity > 0 && s.GeneratorCPUCores > l.CPUWarnFraction*s.GeneratorCPUCapacity {
		s.Warnings = append(s.Warnings, fmt.Sprintf(
			"generator near CPU saturation: %.2f of %.0f cores; a knee here may be the generator's own",
			s.GeneratorCPUCores, s.GeneratorCPUCapacity))
	}
	s.Valid = len(s.InvalidReasons) == 0
}

// behindCause says what the late calls waited for.
func (s *Summary) behindCause() string {
	busy, own := s.BehindBusyRatio, s.BehindRatio-s.BehindBusyRatio
	if busy >= own {
		return fmt.Sprintf("%.1f%% waited for one of the %d connections to be free (the target was slower than "+
			"%d connections carry at this rate), %.1f%% for the generator", 100*busy, s.Connections, s.Connections, 100*own)
	}
	cause := "its CPU or scheduling"
	if s.GeneratorCPUWaitSeconds > 0 {
		cause = fmt.Sprintf("its threads waited %.2fs in all during the %.1fs run for a CPU other processes held",
			s.GeneratorCPUWaitSeconds, s.DurationSeconds)
	}
	return fmt.Sprintf("%.1f%% waited for the generator itself (%s), %.1f%% for a free connection",
		100*own, cause, 100*busy)
}

// generatorCPUCapacity is how many cores this process may run on at once.
// Go sizes GOMAXPROCS from the CPU affinity mask and the cgroup quota, so it
// is the ceiling that matters for saturation.
func generatorCPUCapacity() float64 { return float64(runtime.GOMAXPROCS(0)) }
