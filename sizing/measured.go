package sizing

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
)

// MeasuredSetting is what a sweep measured at one concurrency x CPU limit.
type MeasuredSetting struct {
	results.Setting
	// Cost is the setting's chosen cost curve, with its uncertainty.
	Cost model.CPUCost
	// CapacityRPS is the sidecar RPS the setting was shown to carry: a
	// max-throughput search's result, or a lower bound (the highest valid
	// step without a search).
	CapacityRPS          float64
	CapacityBasis        string
	CapacityIsLowerBound bool
	// P99AtCapacityMs is the p99 latency measured at that rate.
	P99AtCapacityMs float64
	// ThrottledFromRPS is the lowest sidecar RPS at which the CFS quota
	// throttled the proxy (0: never seen).
	ThrottledFromRPS float64
	// FitError is the curve's largest leave-one-rate-out error (0:
	// unknown, too few rates).
	FitError float64
}

// MeasuredTarget is what the choice among measured settings is for.
type MeasuredTarget struct {
	// TargetSidecarRPS is the expected sidecar RPS per pod; the peak is
	// that x (1 + Headroom).
	TargetSidecarRPS float64
	Headroom         float64
	// SLOP99Ms is the p99 latency a setting must keep (0: none).
	SLOP99Ms float64
	// AllowConcurrencyAboveLimit lets a setting run more workers than
	// ceil(CPU limit), which Istio's rule and CFS quotas argue against.
	AllowConcurrencyAboveLimit bool
}

// Thresholds of the interval's advice.
const (
	// wideInterval: an interval wider than ±20% of the request is too
	// loose to apply without saying how to narrow it.
	wideInterval = 0.20
	// narrowTarget is the half-width the advice aims at.
	narrowTarget = 0.10
	// uncertainFit is the leave-one-rate-out error above which a setting's
	// cost curve is too unsure to size from without saying so.
	uncertainFit = 0.20
)

// MeasuredChoice is one setting that meets the target, sized at the peak.
type MeasuredChoice struct {
	results.Setting
	Measured MeasuredSetting `json:"-"`
	// Model is the cost curve the request comes from.
	Model string `json:"model"`
	CPURequest
	// DefaultWorkers is what Istio and Envoy would run at this CPU limit
	// without the concurrency annotation.
	DefaultWorkers DefaultConcurrency `json:"workers_without_annotation"`
	Reason         string             `json:"reason"`
}

// CPURequest is a CPU request sized from a cost curve at the peak: the
// upper end of the 95% prediction interval, with the point estimate beside
// it.
type CPURequest struct {
	CPURequestMillicores int64 `json:"cpu_request_millicores"`
	// PointMillicores is the curve's own value at the peak: a point
	// estimate, which one step in two exceeds.
	PointMillicores float64 `json:"point_estimate_millicores"`
	// Interval is the 95% prediction interval of one step's CPU at the
	// peak (cores); HasInterval is false without an uncertainty.
	Interval    model.Interval `json:"interval"`
	HasInterval bool           `json:"has_interval"`
	// Narrowing says, for an interval wider than ±20% of the request, what
	// would narrow it to ±10%.
	Narrowing     *model.Narrowing `json:"narrowing,omitempty"`
	RequestReason string           `json:"request_reason"`
}

// RequestAt sizes a CPU request from cost at the peak rps: the upper end of
// the 95% prediction interval when the cost has an uncertainty, else its
// point estimate; at least 10m.
func RequestAt(cost model.CPUCost, rps float64) CPURequest {
	in, ok := cost.PredictionInterval(rps)
	r := CPURequest{PointMillicores: in.Point * 1000, Interval: in, HasInterval: ok}
	r.CPURequestMillicores = max(minCPURequestMillicores, ceilInt(in.High*1000))
	if !ok {
		r.RequestReason = fmt.Sprintf("the point estimate %.0fm at %.0f sidecar RPS (%s): these figures carry no interval", r.PointMillicores, rps, cost.Formula())
		return r
	}
	r.RequestReason = fmt.Sprintf("the upper end of the 95%% prediction interval of one %s step at %.0f sidecar RPS: %s around the point estimate %.0fm (%s curve %s)",
		stepLength(cost), rps, Millicores(in), r.PointMillicores, cost.Model(), cost.Formula())
	if in.HalfWidth > wideInterval*in.High {
		if n, ok := cost.NarrowTo(rps, narrowTarget); ok {
			r.Narrowing = &n
		}
	}
	return r
}

func stepLength(cost model.CPUCost) string {
	if u := cost.Uncertainty; u != nil && u.StepSeconds > 0 {
		return fmt.Sprintf("%.3gs", u.StepSeconds)
	}
	return "measured"
}

// NarrowingText says what the narrowing advice is, in domain words.
func (r CPURequest) NarrowingText(cost model.CPUCost) string {
	n := r.Narrowing
	if n == nil {
		return ""
	}
	width := 100 * r.Interval.HalfWidth / r.Interval.High
	text := fmt.Sprintf("the 95%% interval at the peak is ±%.0f%% of the request (%s, from the observed scatter of %.1fm per step)",
		width, Millicores(r.Interval), 1000*cost.Uncertainty.ResidualSD)
	steps := fmt.Sprintf("steps %.1fx as long", n.StepFactor)
	if s := cost.Uncertainty.StepSeconds; s > 0 {
		steps += fmt.Sprintf(" (%.0fs instead of %.3gs, if the scatter falls as 1/sqrt(duration))", math.Ceil(s*n.StepFactor), s)
	}
	if n.Repeats > 0 {
		return text + fmt.Sprintf(": %d repeats per rate (now %d) would narrow it to ±%.0f%%, or %s", n.Repeats, n.CurrentRepeats, 100*n.Target, steps)
	}
	return text + fmt.Sprintf(": more repeats alone cannot narrow it to ±%.0f%% (one step's scatter alone is wider); %s would", 100*n.Target, steps)
}

// MeasuredRecommendation is the choice among a sweep's settings.
type MeasuredRecommendation struct {
	TargetSidecarRPS float64         `json:"target_sidecar_rps"`
	PeakSidecarRPS   float64         `json:"peak_sidecar_rps"`
	SLOP99Ms         float64         `json:"slo_p99_ms,omitempty"`
	Best             *MeasuredChoice `json:"best,omitempty"`
	RunnerUp         *MeasuredChoice `json:"runner_up,omitempty"`
	// Indistinguishable names the settings whose intervals at the peak
	// overlap the lowest request's, with the chosen one first; TieRule is
	// the rule that chose among them.
	Indistinguishable []string `json:"indistinguishable,omitempty"`
	TieRule           string   `json:"tie_rule"`
	// Rejected says why each other setting was not chosen.
	Rejected []string `json:"rejected"`
	// RejectedAboveLimit counts the settings rejected for running more
	// workers than ceil(CPU limit).
	RejectedAboveLimit int `json:"rejected_above_limit,omitempty"`
	// NoneMeets explains, when no setting meets the target, what came closest.
	NoneMeets string `json:"none_meets,omitempty"`
	// Warnings qualify the choice, e.g. an uncertain cost curve.
	Warnings []string `json:"warnings"`
}

// TieRule is how a choice is made among settings the measurements cannot
// tell apart: fewer workers hold less memory, a lower limit leaves the node
// more to share, and only then the lower request.
const TieRule = "among settings whose 95% intervals at the peak overlap, fewer workers, then the lower CPU limit (no limit last), then the lower request"

// ChooseMeasured picks, among the settings that carry the peak (target x
// (1 + headroom)) within the SLO, without CFS throttling up to the peak and
// with at most ceil(CPU limit) workers, the one with the lowest CPU
// request, where each request is the upper end of the 95% prediction
// interval at the peak. Settings whose intervals overlap that one's cannot
// be told apart by the measurements: among them the tie rule chooses.
func ChooseMeasured(settings []MeasuredSetting, t MeasuredTarget) MeasuredRecommendation {
	rec := MeasuredRecommendation{TargetSidecarRPS: t.TargetSidecarRPS, PeakSidecarRPS: t.TargetSidecarRPS * (1 + t.Headroom), SLOP99Ms: t.SLOP99Ms,
		TieRule: TieRule, Rejected: []string{}, Warnings: []string{}}
	peak := rec.PeakSidecarRPS
	var ok []MeasuredChoice
	var best MeasuredSetting
	for _, s := range settings {
		c := MeasuredChoice{Setting: s.Setting, Measured: s, Model: s.Cost.Model(), CPURequest: RequestAt(s.Cost, peak),
			DefaultWorkers: DefaultWorkers(s.CPULimitMillicores)}
		if why := rejection(s, c, peak, t); why != "" {
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: %s", s.String(), why))
			if !ConcurrencyFitsLimit(s.Concurrency, s.CPULimitMillicores) && !t.AllowConcurrencyAboveLimit {
				rec.RejectedAboveLimit++
			}
		} else {
			c.Reason = choiceReason(c, peak)
			ok = append(ok, c)
		}
		if s.CapacityRPS > best.CapacityRPS {
			best = s
		}
	}
	ok = rec.withIntervals(ok)
	if len(ok) == 0 {
		rec.NoneMeets = fmt.Sprintf("no measured setting carries the peak %.0f sidecar RPS within the SLO", peak)
		if best.CapacityRPS > 0 {
			rec.NoneMeets += fmt.Sprintf("; the most was %.0f at %s (%s): add replicas (per-pod load %.0f%% lower) or sweep more CPU and workers",
				best.CapacityRPS, best.String(), best.CapacityBasis, 100*(1-best.CapacityRPS/peak))
		}
		return rec
	}
	rec.rank(ok)
	rec.warn(t)
	return rec
}

// rejection says why s cannot be chosen, or "".
func rejection(s MeasuredSetting, c MeasuredChoice, peak float64, t MeasuredTarget) string {
	switch {
	case !t.AllowConcurrencyAboveLimit && !ConcurrencyFitsLimit(s.Concurrency, s.CPULimitMillicores):
		return fmt.Sprintf("concurrency %d is above ceil(CPU limit %s) = %d, the workers Istio runs without the annotation: %d busy workers use up the quota early in each 100 ms CFS period and stall for the rest (istio/istio#61683); not considered unless concurrency above the limit is allowed",
			s.Concurrency, quantity.Millicores(s.CPULimitMillicores), c.DefaultWorkers.Istio, s.Concurrency)
	case s.CapacityIsLowerBound && s.CapacityRPS < peak:
		return fmt.Sprintf("carried %.0f sidecar RPS, a lower bound (%s): not shown to carry the peak %.0f (a max-throughput search would say)", s.CapacityRPS, s.CapacityBasis, peak)
	case s.CapacityRPS < peak:
		return fmt.Sprintf("carried at most %.0f sidecar RPS (%s), below the peak %.0f", s.CapacityRPS, s.CapacityBasis, peak)
	case s.ThrottledFromRPS > 0 && s.ThrottledFromRPS <= peak:
		return fmt.Sprintf("its CPU limit throttled the proxy from %.0f sidecar RPS, at or below the peak %.0f", s.ThrottledFromRPS, peak)
	case t.SLOP99Ms > 0 && s.P99AtCapacityMs > t.SLOP99Ms:
		return fmt.Sprintf("p99 %.2f ms at %.0f sidecar RPS, above the %.2f ms SLO", s.P99AtCapacityMs, s.CapacityRPS, t.SLOP99Ms)
	case s.CPULimitMillicores > 0 && c.CPURequestMillicores > s.CPULimitMillicores:
		return fmt.Sprintf("needs %dm at the peak (%s), above its limit", c.CPURequestMillicores, intervalText(c.CPURequest))
	}
	return ""
}

func choiceReason(c MeasuredChoice, peak float64) string {
	s := c.Measured
	carries := fmt.Sprintf("carries %.0f sidecar RPS (%s; p99 %.2f ms there)", s.CapacityRPS, s.CapacityBasis, s.P99AtCapacityMs)
	if s.CapacityIsLowerBound {
		carries = fmt.Sprintf("carried at least %.0f sidecar RPS (%s; p99 %.2f ms there)", s.CapacityRPS, s.CapacityBasis, s.P99AtCapacityMs)
	}
	return fmt.Sprintf("%s %s, above the peak %.0f; at the peak its %s curve %s needs %s: request %s",
		s.String(), carries, peak, c.Model, s.Cost.Formula(), intervalText(c.CPURequest), quantity.Millicores(c.CPURequestMillicores))
}

// intervalText is "150m, 95% interval 120m-180m" or "150m (point estimate,
// no interval)".
func intervalText(r CPURequest) string {
	if !r.HasInterval {
		return fmt.Sprintf("%.0fm (point estimate, no interval)", r.PointMillicores)
	}
	return fmt.Sprintf("%.0fm (point estimate), 95%% prediction interval %s", r.PointMillicores, Millicores(r.Interval))
}

// Millicores writes an interval in millicores, outward: the low end
// rounded down (CPU is never below 0), the high end up, as the request
// rounds it.
func Millicores(in model.Interval) string {
	return fmt.Sprintf("%.0fm-%.0fm", math.Max(0, math.Floor(in.Low*1000+1e-9)), math.Ceil(in.High*1000-1e-9))
}

// withIntervals keeps, when any candidate has a prediction interval, only
// those that do: a request without one is a point estimate of unknown
// error, and cannot be said to beat, or to tie with, a measured interval.
func (rec *MeasuredRecommendation) withIntervals(ok []MeasuredChoice) []MeasuredChoice {
	var with, without []MeasuredChoice
	for _, c := range ok {
		if c.HasInterval {
			with = append(with, c)
		} else {
			without = append(without, c)
		}
	}
	if len(with) == 0 {
		return without
	}
	for _, c := range without {
		rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: meets the target, but its request %s has no prediction interval (%s): too few valid steps to know its error, so it cannot be set against the settings that have one",
			c.String(), quantity.Millicores(c.CPURequestMillicores), intervalText(c.CPURequest)))
	}
	return with
}

// rank orders the candidates: the lowest request leads; those whose
// intervals overlap the leader's are indistinguishable from it, and the tie
// rule picks among them.
func (rec *MeasuredRecommendation) rank(ok []MeasuredChoice) {
	sort.SliceStable(ok, func(i, j int) bool {
		if ok[i].CPURequestMillicores != ok[j].CPURequestMillicores {
			return ok[i].CPURequestMillicores < ok[j].CPURequestMillicores
		}
		return tieOrder(ok[i], ok[j])
	})
	leader := ok[0].Interval
	var tied, rest []MeasuredChoice
	for _, c := range ok {
		if c.Interval.Low <= leader.High && leader.Low <= c.Interval.High {
			tied = append(tied, c)
		} else {
			rest = append(rest, c)
		}
	}
	sort.SliceStable(tied, func(i, j int) bool { return tieOrder(tied[i], tied[j]) })
	ordered := append(tied, rest...)
	rec.Best = &ordered[0]
	if len(tied) > 1 {
		for _, c := range tied {
			rec.Indistinguishable = append(rec.Indistinguishable, fmt.Sprintf("%s: %s", c.String(), intervalText(c.CPURequest)))
		}
	}
	if len(ordered) > 1 {
		rec.RunnerUp = &ordered[1]
	}
	for i, c := range ordered {
		switch {
		case i < 2:
		case i < len(tied):
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: indistinguishable from the chosen at the peak (%s); lost on the tie rule", c.String(), intervalText(c.CPURequest)))
		default:
			rec.Rejected = append(rec.Rejected, fmt.Sprintf("%s: meets the target but needs %s (%s)", c.String(), quantity.Millicores(c.CPURequestMillicores), intervalText(c.CPURequest)))
		}
	}
}

// tieOrder is the tie rule: fewer workers, then the lower limit (no limit
// last), then the lower request.
func tieOrder(a, b MeasuredChoice) bool {
	if a.Concurrency != b.Concurrency {
		return a.Concurrency < b.Concurrency
	}
	if la, lb := limitOrder(a.CPULimitMillicores), limitOrder(b.CPULimitMillicores); la != lb {
		return la < lb
	}
	return a.CPURequestMillicores < b.CPURequestMillicores
}

// warn adds what qualifies the choice.
func (rec *MeasuredRecommendation) warn(t MeasuredTarget) {
	b := rec.Best
	if len(rec.Indistinguishable) > 1 {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("%d settings are indistinguishable at the peak (their 95%% intervals overlap): %s; chosen by the rule: %s",
			len(rec.Indistinguishable), strings.Join(rec.Indistinguishable, "; "), TieRule))
	}
	if !b.HasInterval {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("%s: no prediction interval (too few steps for the %s curve's parameters): its request is a point estimate, which one step in two exceeds; measure more repeats",
			b.String(), b.Model))
	}
	if text := b.NarrowingText(b.Measured.Cost); text != "" {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("%s: %s", b.String(), text))
	}
	if e := b.Measured.FitError; e > uncertainFit {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("the %s cost curve of %s predicts held-out rates only within %.0f%%: its request is uncertain; measure longer steps, more rates or repeats before relying on it",
			b.Model, b.String(), e*100))
	}
	if !ConcurrencyFitsLimit(b.Concurrency, b.CPULimitMillicores) {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("%s runs more workers than ceil(CPU limit) = %d, chosen only because that was allowed: under bursts its workers exhaust the quota early in each 100 ms CFS period (istio/istio#61683)",
			b.String(), b.DefaultWorkers.Istio))
	}
	if b.Measured.CapacityIsLowerBound {
		rec.Warnings = append(rec.Warnings, fmt.Sprintf("the capacity of %s is a lower bound (%s): its true maximum was not measured, and it is said to carry the peak only because a step above the peak was valid", b.String(), b.Measured.CapacityBasis))
	}
}

// limitOrder sorts "no limit" after every limit.
func limitOrder(m int64) int64 {
	if m == 0 {
		return math.MaxInt64
	}
	return m
}
