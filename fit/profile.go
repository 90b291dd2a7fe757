package fit

import (
	"fmt"
	"math"
	"time"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
)

// profile writes the fit as a measured profile, the format plan reads.
func (r *Report) profile(rec *results.Sweep, refs []profiles.Profile, o Options) profiles.Profile {
	name := o.Name
	if name == "" {
		name = fmt.Sprintf("measured-%s-%s", rec.Proxy.Name, rec.StartedAt.UTC().Format("20060102-150405"))
	}
	idle := math.Max(0, r.Overall.IdleCores)
	p := profiles.Profile{
		SchemaVersion: profiles.SchemaVersion, Name: name, Kind: profiles.KindMeasured, Component: "sidecar",
		Proxy: fmt.Sprintf("%s (%s, %s backend)", rec.Proxy.Name, rec.Proxy.Version, rec.Backend),
		Provenance: profiles.Provenance{
			Source:     fmt.Sprintf("proxysizer %s sweep %s", rec.Tool, o.Source),
			Setup:      setup(rec),
			MeasuredAt: rec.StartedAt.UTC().Format(time.RFC3339),
			Notes:      r.notes(rec),
		},
		CPU:     profiles.CPUProfile{CPUCost: model.CPUCost{IdleCores: idle, CoresPerKRPS: r.Overall.CoresPerKRPS}},
		Memory:  model.MemoryCost{BaseBytes: r.Memory.BaseBytes, PerWorkerBytes: r.Memory.PerWorkerBytes},
		Latency: r.latency(),
	}
	for _, s := range r.Settings {
		if s.CPU == nil {
			continue
		}
		p.CPU.ByConcurrency = append(p.CPU.ByConcurrency, profiles.ConcurrencyCost{
			Concurrency: s.Concurrency, CPULimitMillicores: s.CPULimitMillicores,
			IdleCores: math.Max(0, s.CPU.IdleCores), CoresPerKRPS: math.Max(s.CPU.CoresPerKRPS, 1e-6),
			MaxRPS: s.MaxSidecarRPS, ThrottlingFromRPS: s.ThrottlingFromRPS, R2: s.CPU.R2,
		})
	}
	// The lab proxy holds two clusters; the configuration terms come from
	// Envoy's published figures (the default reference profile).
	for _, ref := range refs {
		if ref.Name == profiles.DefaultName {
			p.Memory.PerClusterBytes = ref.Memory.PerClusterBytes
			p.Memory.PerEndpointBytes = ref.Memory.PerEndpointBytes
			p.Memory.PerWorkerPerClusterBytes = ref.Memory.PerWorkerPerClusterBytes
		}
	}
	if p.Memory.BaseBytes <= 0 {
		p.Memory.BaseBytes = 1 // validated > 0; no memory was measured
	}
	return p
}

func setup(rec *results.Sweep) string {
	o := rec.Options
	return fmt.Sprintf("%d outbound call(s) per request, %d connections, %s, %gs steps after %gs warm-up; %s",
		o.OutboundPerRequest, o.Connections, o.Protocol, o.DurationSeconds, o.WarmupSeconds, rec.Environment.Placement.Note)
}

func (r *Report) notes(rec *results.Sweep) []string {
	notes := []string{
		fmt.Sprintf("CPU: least squares of proxy cores on sidecar RPS over %d valid unthrottled steps (R² %.3f)", r.Overall.Points, r.Overall.R2),
		"memory: working set against worker count in the lab, whose proxy holds 2 clusters; per-cluster, per-endpoint and per-worker-per-cluster terms are Envoy's published figures (not measured)",
	}
	if r.Overall.IdleCores < 0 {
		notes = append(notes, fmt.Sprintf("the fitted idle cost %.4f cores was below 0 and is taken as 0", r.Overall.IdleCores))
	}
	if rec.Proxy.Name != "envoy" {
		notes = append(notes, fmt.Sprintf("measured on %s standing in for Envoy: the figures describe %s, not an Istio sidecar", rec.Proxy.Name, rec.Proxy.Name))
	}
	notes = append(notes, rec.Environment.Notes...)
	return notes
}

// latency is the median latency added over the baseline across valid steps.
func (r *Report) latency() profiles.LatencyAdded {
	var p50, p99 []float64
	for _, s := range r.Settings {
		for _, l := range s.LatencyAdded {
			p50, p99 = append(p50, l.P50AddedMs), append(p99, l.P99AddedMs)
		}
	}
	if len(p50) == 0 {
		return profiles.LatencyAdded{Note: "no baseline: latency added not measured"}
	}
	return profiles.LatencyAdded{P50: round3(math.Max(0, model.Median(p50))), P99: round3(math.Max(0, model.Median(p99))),
		Note: fmt.Sprintf("median over %d steps of the latency above a baseline run without the proxy", len(p50))}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
