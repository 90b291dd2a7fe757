package analysis

import (
	"fmt"
	"math"
	"sort"
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
	// profile; Annotations apply it, and AnnotationsNote says what they
	// rest on (a stand-in, Envoy's memory model, the configuration size).
	// All are empty without a choice.
	Plan            *sizing.Plan      `json:"plan,omitempty"`
	Annotations     map[string]string `json:"annotations,omitempty"`
	AnnotationsNote string            `json:"annotations_note,omitempty"`
}

// choose recommends a measured setting for the target and sizes it.
func choose(rec *results.Sweep, r *fit.Report, o Options) (Choice, error) {
	c := Choice{TargetInboundRPS: o.TargetInboundRPS}
	if c.TargetInboundRPS == 0 {
		c.TargetInboundRPS, c.TargetAssumed = defaultTarget(rec, r, o.Headroom)
	}
	slo := float64(o.SLOP99) / float64(time.Millisecond)
	if slo == 0 {
		slo = rec.Options.SLOP99Ms
	}
	perInbound := requestsPerInbound(rec, r)
	c.Recommendation = sizing.ChooseMeasured(r.MeasuredSettings(), sizing.MeasuredTarget{
		TargetSidecarRPS: c.TargetInboundRPS * perInbound, Headroom: o.Headroom, SLOP99Ms: slo,
		AllowConcurrencyAboveLimit: o.AllowConcurrencyAboveLimit,
	})
	for _, s := range r.Settings {
		if s.CPU == nil {
			c.Recommendation.Rejected = append(c.Recommendation.Rejected, fmt.Sprintf("%s: no cost curve (%s)", s.Setting, s.Skipped))
		}
	}
	if b := c.Recommendation.Best; b != nil {
		plan, err := planChoice(r, *b, c.TargetInboundRPS, perInbound, o)
		if err != nil {
			return Choice{}, err
		}
		c.Plan, c.Annotations = &plan, sizing.Annotations(plan)
		c.AnnotationsNote = annotationsNote(r, plan)
	}
	return c, nil
}

// defaultTarget is the inbound RPS per pod to size for when none is given,
// chosen so that no setting is tested against the very step the target
// came from. With searches, the capacities are measured apart from the
// grid: the target is the highest valid grid rate less the headroom.
// Without, a setting's capacity is its highest valid step, so the target is
// the next rate down less the headroom, and the peak is tested against a
// higher step than it came from.
func defaultTarget(rec *results.Sweep, r *fit.Report, headroom float64) (float64, string) {
	rates := validGridRates(rec)
	if len(rates) == 0 {
		return 0, "no target given and no valid step to take one from"
	}
	searched := false
	for _, s := range r.Settings {
		if !s.MaxIsLowerBound && s.MaxSidecarRPS > 0 {
			searched = true
		}
	}
	highest := rates[len(rates)-1]
	if searched || len(rates) == 1 {
		target := math.Round(highest / (1 + headroom))
		return target, fmt.Sprintf("no target given: %g inbound RPS per pod, the sweep's highest valid rate %g less the %.0f%% headroom; each setting is tested against its own max-throughput search",
			target, highest, headroom*100)
	}
	next := rates[len(rates)-2]
	target := math.Round(next / (1 + headroom))
	return target, fmt.Sprintf("no target given: %g inbound RPS per pod, the sweep's second-highest valid rate %g less the %.0f%% headroom, so that the peak is tested against steps measured above it (up to %g): without a search a setting's capacity is only its highest valid step",
		target, next, headroom*100, highest)
}

// validGridRates are the distinct requested rates of the grid's valid
// steps, in order.
func validGridRates(rec *results.Sweep) []float64 {
	var rates []float64
	for _, s := range rec.Steps {
		if s.Status == results.StatusOK && s.RequestedRPS > 0 {
			rates = append(rates, s.RequestedRPS)
		}
	}
	out := model.DistinctValues(rates)
	sort.Float64s(out)
	return out
}

// planChoice sizes the chosen concurrency and CPU limit in full with the
// fitted profile: a manifest must set all four resource annotations, or
// Istio drops the others.
func planChoice(r *fit.Report, b sizing.MeasuredChoice, targetRPS, perInbound float64, o Options) (sizing.Plan, error) {
	limit := sizing.CPULimit{Mode: sizing.CPULimitNone}
	if b.CPULimitMillicores > 0 {
		limit = sizing.CPULimit{Mode: sizing.CPULimitFixed, Millicores: b.CPULimitMillicores}
	}
	cfg, defaulted := o.Config, false
	if cfg == (model.Config{}) {
		cfg, defaulted = model.Config{Clusters: sizing.DefaultClusters, Endpoints: sizing.DefaultEndpoints}, true
	}
	return sizing.Recommend(sizing.Input{
		AppRPSPerPod: targetRPS, Fanout: model.Fanout{Outbound: perInbound - 1},
		Profile: r.Profile, Config: cfg, ConfigDefault: defaulted,
		Concurrency: b.Concurrency, Headroom: o.Headroom, CPULimit: limit, MemoryLimitRatio: sizing.DefaultMemoryLimitRatio, Names: o.Names,
	})
}

// requestsPerInbound is the requests through the sidecar per inbound
// request the sizing assumes: the local lab's configured 1 + k (the hops
// check holds the measured count to it), or on a cluster, where the app's
// own calls are what was measured, the proxies' median count.
func requestsPerInbound(rec *results.Sweep, r *fit.Report) float64 {
	if rec.Backend == "local" {
		return 1 + float64(rec.Options.OutboundPerRequest)
	}
	return math.Max(1, r.RequestsPerInbound)
}

// annotationsNote says what the annotations rest on.
func annotationsNote(r *fit.Report, p sizing.Plan) string {
	config := fmt.Sprintf("%d clusters, %d endpoints and %d worker(s)", p.Config.Clusters, p.Config.Endpoints, p.Concurrency)
	if p.Config.Defaulted {
		config += " (the configuration size assumed, not given)"
	}
	if s := r.StandIn; s != nil {
		return fmt.Sprintf("measured on %s standing in for Envoy: CPU from %s's measurements; memory from Envoy's model for %s, not from %s's working set", s.Proxy, s.Proxy, config, s.Proxy)
	}
	return fmt.Sprintf("measured on %s; memory from the measured working set and Envoy's per-cluster terms for %s", r.Proxy.Name, config)
}
