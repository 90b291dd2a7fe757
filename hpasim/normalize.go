package hpasim

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// The legacy scale-up limit of an HPA without behavior.
const (
	scaleUpLimitFactor  = 2.0
	scaleUpLimitMinimum = 4.0
)

// normalize is normalizeDesiredReplicas (an HPA without behavior): the
// highest recommendation of the downscale stabilisation window, then
// minReplicas, maxReplicas and the scale-up limit max(2 x current, 4).
func (r *replayer) normalize(now time.Time, current, proposal, minReplicas int32) (int32, string) {
	cutoff := now.Add(-r.c.DownscaleStabilization)
	stabilized := proposal
	for _, rec := range r.recommendations {
		if !rec.at.Before(cutoff) && rec.replicas > stabilized {
			stabilized = rec.replicas
		}
	}
	r.recommendations = append(r.recommendations, timedReplicas{at: now, replicas: proposal})
	reason := "desired within range"
	if stabilized != proposal {
		reason = "scale-down stabilised"
	}
	limit := int32(math.Max(scaleUpLimitFactor*float64(current), scaleUpLimitMinimum))
	maxAllowed, limitReason := r.spec.MaxReplicas, "maxReplicas"
	if maxAllowed > limit {
		maxAllowed, limitReason = limit, "scale-up limit"
	}
	switch {
	case stabilized < minReplicas:
		return minReplicas, "minReplicas"
	case stabilized > maxAllowed:
		return maxAllowed, limitReason
	}
	return stabilized, reason
}

// normalizeWithBehavior is normalizeDesiredReplicasWithBehaviors: the
// stabilisation windows of both directions, then the policies' rate limits
// and minReplicas/maxReplicas.
func (r *replayer) normalizeWithBehavior(now time.Time, current, proposal, minReplicas int32) (int32, string) {
	b := r.behavior
	up := proposal
	upCutoff := now.Add(-time.Duration(*b.ScaleUp.StabilizationWindowSeconds) * time.Second)
	down := proposal
	downCutoff := now.Add(-time.Duration(*b.ScaleDown.StabilizationWindowSeconds) * time.Second)
	for _, rec := range r.recommendations {
		if rec.at.After(upCutoff) {
			up = min(rec.replicas, up)
		}
		if rec.at.After(downCutoff) {
			down = max(rec.replicas, down)
		}
	}
	r.recommendations = append(r.recommendations, timedReplicas{at: now, replicas: proposal})
	stabilized := min(max(current, up), down)
	reason := "desired within range"
	if stabilized != proposal {
		reason = "scale-down stabilised"
		if proposal >= current {
			reason = "scale-up stabilised"
		}
	}
	switch {
	case stabilized > current:
		limit := max(scaleUpLimit(now, current, r.scaleUps, r.scaleDowns, b.ScaleUp), current)
		maxAllowed, limitReason := r.spec.MaxReplicas, "maxReplicas"
		if maxAllowed > limit {
			maxAllowed, limitReason = limit, "scale-up limit"
		}
		if stabilized > maxAllowed {
			return maxAllowed, limitReason
		}
	case stabilized < current:
		limit := min(scaleDownLimit(now, current, r.scaleUps, r.scaleDowns, b.ScaleDown), current)
		minAllowed, limitReason := minReplicas, "minReplicas"
		if minAllowed < limit {
			minAllowed, limitReason = limit, "scale-down limit"
		}
		if stabilized < minAllowed {
			return minAllowed, limitReason
		}
	}
	return stabilized, reason
}

// storeScaleEvent remembers a rescale for the behavior's rate limits.
func (r *replayer) storeScaleEvent(now time.Time, from, to int32) {
	if r.behavior == nil {
		return
	}
	if to > from {
		r.scaleUps = append(r.scaleUps, timedReplicas{at: now, replicas: to - from})
	} else {
		r.scaleDowns = append(r.scaleDowns, timedReplicas{at: now, replicas: from - to})
	}
}

// changedWithin sums the changes of the events within period before now.
func changedWithin(now time.Time, periodSeconds int32, events []timedReplicas) int32 {
	cutoff := now.Add(-time.Duration(periodSeconds) * time.Second)
	var n int32
	for _, e := range events {
		if e.at.After(cutoff) {
			n += e.replicas
		}
	}
	return n
}

// scaleUpLimit is calculateScaleUpLimitWithScalingRules.
func scaleUpLimit(now time.Time, current int32, ups, downs []timedReplicas, rules *autoscalingv2.HPAScalingRules) int32 {
	if *rules.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	pick, result := maxInt32, int32(math.MinInt32)
	if *rules.SelectPolicy == autoscalingv2.MinChangePolicySelect {
		pick, result = minInt32, int32(math.MaxInt32)
	}
	for _, p := range rules.Policies {
		start := current - changedWithin(now, p.PeriodSeconds, ups) + changedWithin(now, p.PeriodSeconds, downs)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start + p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is calculateScaleDownLimitWithBehaviors.
func scaleDownLimit(now time.Time, current int32, ups, downs []timedReplicas, rules *autoscalingv2.HPAScalingRules) int32 {
	if *rules.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	pick, result := minInt32, int32(math.MaxInt32)
	if *rules.SelectPolicy == autoscalingv2.MinChangePolicySelect {
		pick, result = maxInt32, int32(math.MinInt32)
	}
	for _, p := range rules.Policies {
		start := current - changedWithin(now, p.PeriodSeconds, ups) + changedWithin(now, p.PeriodSeconds, downs)
		var proposed int32
		switch p.Type {
		case autoscalingv2.PodsScalingPolicy:
			proposed = start - p.Value
		case autoscalingv2.PercentScalingPolicy:
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

func minInt32(a, b int32) int32 { return min(a, b) }
func maxInt32(a, b int32) int32 { return max(a, b) }

// defaultBehavior fills a behavior's unset fields as the API server does
// (autoscaling/v2 defaults), and the scale-down window from the
// controller's flag as the controller does.
func defaultBehavior(b *autoscalingv2.HorizontalPodAutoscalerBehavior, downscaleWindow time.Duration) *autoscalingv2.HorizontalPodAutoscalerBehavior {
	maxPolicy := autoscalingv2.MaxChangePolicySelect
	zero := int32(0)
	up := autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &zero,
		SelectPolicy:               &maxPolicy,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	downWindow := int32(downscaleWindow.Seconds())
	down := autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: &downWindow,
		SelectPolicy:               &maxPolicy,
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: mergeRules(b.ScaleUp, up), ScaleDown: mergeRules(b.ScaleDown, down)}
}

func mergeRules(from *autoscalingv2.HPAScalingRules, to autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if from != nil {
		if from.SelectPolicy != nil {
			to.SelectPolicy = from.SelectPolicy
		}
		if from.StabilizationWindowSeconds != nil {
			to.StabilizationWindowSeconds = from.StabilizationWindowSeconds
		}
		if from.Policies != nil {
			to.Policies = from.Policies
		}
		to.Tolerance = from.Tolerance
	}
	return &to
}
