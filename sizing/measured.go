package sizing

import (
	"fmt"
	"math"
	"sort"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

// MeasuredSetting is what a sweep measured at one concurrency x CPU limit.
type MeasuredSetting struct {
	results.Setting
	Cost model.CPUCost
	// CapacityRPS is the sidecar RPS the setting was shown to carry: the
	// search's maximum, or the highest valid step without a search.
	CapacityRPS   float64
	CapacityBasis string
	// P99AtCapacityMs is the p99 latency measured at that rate.
	P99AtCapacityMs float64
	// ThrottledFromRPS is the lowest sidecar RPS at which the CFS quota
	// throttled the proxy (0: never seen).
	ThrottledFromRPS float64
	// FitError is the cost line's largest leave-one-rate-out error (0:
	// unknown, fewer than 3 rates).
	FitError float64
}

// uncertainFit is the leave-one-rate-out error above which a setting's cost
// line is too unsure to size from without saying so.
const uncertainFit = 0.20

// MeasuredChoice is one setting that meets the target.
type MeasuredChoice struct {
	results.Setting
	Measured             MeasuredSetting `json:"-"`
	CPURequestMillicores int64           `json:"cpu_request_millicores"`
	Reason               string          `json:"reason"`
}

// MeasuredRecommendation is the choice among a sweep's settings.
type MeasuredRecommendation struct {
	TargetSidecarRPS float64         `json:"target_sidecar_rps"`
	PeakSidecarRPS   float64         `json:"peak_sidecar_rps"`
	SLOP99Ms         float64         `json:"slo_p99_ms,omitempty"`
	Best             *MeasuredChoice `json:"best,omitempty"`
	RunnerUp         *MeasuredChoice `json:"runner_up,omitempty"`
	// Rejected says why each other setting was not chosen.
	Rejected []string `json:"rejected"`
	// NoneMeets explains, when no setting meets the target, what came closest.
	NoneMeets string `json:"none_meets,omitempty"`
	// Warnings qualify the choice, e.g. an uncertain cost line.
	Warnings []string `json:"warnings"`
}

// carryTolerance is how far below the peak a measured capacity may fall and
// still count as carrying it: a load step is valid at 97% of its requested
// rate, so capacities are known to that precision.
const carryTolerance = 0.03

// ChooseMeasured picks the setting that carries the peak sidecar RPS
// (target x (1 + headroom)) at the lowest CPU request, within the latency
// SLO (0: none) and without CFS throttling up to the peak: a throttled
// sidecar holds requests for the rest of each 100 ms period. Ties go to fewer workers (less memory), then to the lower
// limit. The request is the fitted CPU at the peak.
func ChooseMeasured(settings []MeasuredSetting, targetSidecarRPS, headroom, sloP99Ms float64) MeasuredRecommendation {
	rec := MeasuredRecommendation{TargetSidecarRPS: targetSidecarRPS, PeakSidecarRPS: targetSidecarRPS * (1 + headroom), SLOP99Ms: sloP99Ms,
		Rejected: []string{}, Warnings: []string{}}
	peak := rec.PeakSidecarRPS
	var ok []MeasuredChoice
	var best MeasuredSetting
	for _, s := range settings {
		request := max(minCPURequestMillicores, ceilInt(s.Cost.CoresAt(peak)*1000))
		switch {
		case s.CapacityRPS < peak*(1-carryTolerance):
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: carried at most %.0f sidecar RPS (%s), below the peak %.0f", s.String(), s.CapacityRPS, s.CapacityBasis, peak))
		case s.ThrottledFromRPS > 0 && s.ThrottledFromRPS <= peak:
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: its CPU limit throttled the proxy from %.0f sidecar RPS, at or below the peak %.0f", s.String(), s.ThrottledFromRPS, peak))
		case sloP99Ms > 0 && s.P99AtCapacityMs > sloP99Ms:
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: p99 %.2f ms at %.0f sidecar RPS, above the %.2f ms SLO", s.String(), s.P99AtCapacityMs, s.CapacityRPS, sloP99Ms))
		case s.CPULimitMillicores > 0 && request > s.CPULimitMillicores:
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: needs %dm at the peak, above its limit", s.String(), request))
		default:
			ok = append(ok, MeasuredChoice{Setting: s.Setting, Measured: s, CPURequestMillicores: request,
				Reason: fmt.Sprintf("%s carries up to %.0f sidecar RPS (%s; p99 %.2f ms there) and needs %dm at the peak %.0f (%.3f + %.3f cores per 1000 RPS)",
					s.String(), s.CapacityRPS, s.CapacityBasis, s.P99AtCapacityMs, request, peak, s.Cost.IdleCores, s.Cost.CoresPerKRPS)})
		}
		if s.CapacityRPS > best.CapacityRPS {
			best = s
		}
	}
	sort.SliceStable(ok, func(i, j int) bool {
		a, b := ok[i], ok[j]
		if a.CPURequestMillicores != b.CPURequestMillicores {
			return a.CPURequestMillicores < b.CPURequestMillicores
		}
		if a.Concurrency != b.Concurrency {
			return a.Concurrency < b.Concurrency
		}
		return limitOrder(a.CPULimitMillicores) < limitOrder(b.CPULimitMillicores)
	})
	if len(ok) == 0 {
		rec.NoneMeets = fmt.Sprintf("no measured setting carries the peak %.0f sidecar RPS within the SLO", peak)
		if best.CapacityRPS > 0 {
			rec.NoneMeets += fmt.Sprintf("; the most was %.0f at %s: add replicas (per-pod load %.0f%% lower) or sweep more CPU and workers",
				best.CapacityRPS, best.String(), 100*(1-best.CapacityRPS/peak))
		}
		return rec
	}
	rec.Best = &ok[0]
	if e := rec.Best.Measured.FitError; e > uncertainFit {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("the cost line of %s predicts held-out rates only within %.0f%%: its request is uncertain; measure longer steps, more rates or --repeats before relying on it",
			rec.Best.String(), e*100))
	}
	if len(ok) > 1 {
		rec.RunnerUp = &ok[1]
		for _, c := range ok[2:] {
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: meets the target but needs %dm", c.String(), c.CPURequestMillicores))
		}
	}
	return rec
}

// limitOrder sorts "no limit" after every limit.
func limitOrder(m int64) int64 {
	if m == 0 {
		return math.MaxInt64
	}
	return m
}
