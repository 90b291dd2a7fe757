package analysis

import (
	"fmt"
	"math"
	"time"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// Choice is the recommendation drawn from a fit: the target, the chosen
// setting with the runner-up and the rejections, and the chosen setting
// sized in full.
type Choice struct {
	TargetInboundRPS float64                       `json:"target_inbound_rps_per_pod"`
	TargetAssumed    string                        `json:"target_assumed,omitempty"`
	Recommendation   sizing.MeasuredRecommendation `json:"recommendation"`
	// Plan sizes the chosen setting in full (memory too) from the fitted
	// profile; Annotations apply it. Both are nil without a choice.
	Plan        *sizing.Plan      `json:"plan,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// choose recommends a measured setting for the target and sizes it.
func choose(rec *results.Sweep, r *fit.Report, o Options) (Choice, error) {
	c := Choice{TargetInboundRPS: o.TargetInboundRPS}
	if c.TargetInboundRPS == 0 {
		// Size for the most the sweep showed, less the headroom: the peak
		// is then a load that was measured.
		highest := highestValidRate(rec)
		c.TargetInboundRPS = math.Round(highest / (1 + o.Headroom))
		c.TargetAssumed = fmt.Sprintf("no target given: %g inbound RPS per pod, the sweep's highest valid rate %g less the %.0f%% headroom", c.TargetInboundRPS, highest, o.Headroom*100)
	}
	slo := float64(o.SLOP99) / float64(time.Millisecond)
	if slo == 0 {
		slo = rec.Options.SLOP99Ms
	}
	c.Recommendation = sizing.ChooseMeasured(r.MeasuredSettings(), c.TargetInboundRPS*r.RequestsPerInbound, o.Headroom, slo)
	if b := c.Recommendation.Best; b != nil {
		plan, err := planChoice(r, rec, *b, c.TargetInboundRPS, o)
		if err != nil {
			return Choice{}, err
		}
		c.Plan, c.Annotations = &plan, sizing.Annotations(plan)
	}
	return c, nil
}

// planChoice sizes the chosen concurrency and CPU limit in full with the
// fitted profile: a manifest must set all four resource annotations, or
// Istio drops the others.
func planChoice(r *fit.Report, rec *results.Sweep, b sizing.MeasuredChoice, targetRPS float64, o Options) (sizing.Plan, error) {
	limit := sizing.CPULimit{Mode: sizing.CPULimitNone}
	if b.CPULimitMillicores > 0 {
		limit = sizing.CPULimit{Mode: sizing.CPULimitFixed, Millicores: b.CPULimitMillicores}
	}
	return sizing.Recommend(sizing.Input{
		AppRPSPerPod: targetRPS, Fanout: model.Fanout{Outbound: float64(rec.Options.OutboundPerRequest)},
		Profile: r.Profile, Config: model.Config{Clusters: sizing.DefaultClusters, Endpoints: sizing.DefaultEndpoints}, ConfigDefault: true,
		Concurrency: b.Concurrency, Headroom: o.Headroom, CPULimit: limit, MemoryLimitRatio: sizing.DefaultMemoryLimitRatio, Names: o.Names,
	})
}

// highestValidRate is the sweep's highest requested inbound rate with a
// valid step.
func highestValidRate(rec *results.Sweep) float64 {
	best := 0.0
	for _, s := range rec.Steps {
		if s.Status == results.StatusOK && s.RequestedRPS > best {
			best = s.RequestedRPS
		}
	}
	return best
}
