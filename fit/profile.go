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
	p := profiles.Profile{
		SchemaVersion: profiles.SchemaVersion, Name: name, Kind: profiles.KindMeasured, Component: "sidecar",
		Proxy: fmt.Sprintf("%s (%s, %s backend)", rec.Proxy.Name, rec.Proxy.Version, rec.Backend),
		Provenance: profiles.Provenance{
			Source:     fmt.Sprintf("proxysizer %s sweep %s", rec.Tool, o.Source),
			Setup:      setup(rec),
			MeasuredAt: rec.StartedAt.UTC().Format(time.RFC3339),
			Notes:      r.notes(rec),
		},
		CPU:     profiles.CPUProfile{CPUCost: r.Overall.ChosenFit().Cost},
		Memory:  model.MemoryCost{BaseBytes: r.Memory.BaseBytes, PerWorkerBytes: r.Memory.PerWorkerBytes},
		Latency: r.latency(),
	}
	for _, s := range r.Settings {
		if s.CPU == nil {
			continue
		}
		p.CPU.ByConcurrency = append(p.CPU.ByConcurrency, concurrencyCost(s))
	}
	var envoy profiles.Profile
	for _, ref := range refs {
		if ref.Name == profiles.DefaultName {
			envoy = ref
		}
	}
	if r.StandIn != nil {
		// A stand-in's working set says nothing of Envoy's: an Envoy sized
		// from haproxy's few MiB is OOM-killed. Memory is Envoy's model.
		p.StandIn = r.StandIn.Proxy
		p.Memory = envoy.Memory
	} else {
		// The lab proxy holds two clusters; the configuration terms come
		// from Envoy's published figures (the default reference profile).
		p.Memory.PerClusterBytes = envoy.Memory.PerClusterBytes
		p.Memory.PerEndpointBytes = envoy.Memory.PerEndpointBytes
		p.Memory.PerWorkerPerClusterBytes = envoy.Memory.PerWorkerPerClusterBytes
	}
	if p.Memory.BaseBytes <= 0 {
		p.Memory.BaseBytes = 1 // validated > 0; no memory was measured
	}
	return p
}

// concurrencyCost is a setting's entry: its chosen curve, the other model
// beside it, and its capacity.
func concurrencyCost(s SettingFit) profiles.ConcurrencyCost {
	chosen := s.CPU.ChosenFit()
	c := profiles.ConcurrencyCost{
		Concurrency: s.Concurrency, CPULimitMillicores: s.CPULimitMillicores, CPUCost: chosen.Cost,
		ModelReason: s.CPU.ChoiceReason,
		MaxRPS:      s.MaxSidecarRPS, MaxRPSIsLowerBound: s.MaxIsLowerBound, ThrottlingFromRPS: s.ThrottlingFromRPS, R2: round4(chosen.R2),
	}
	if chosen.Judged {
		e := round4(chosen.MaxHeldOutErr)
		c.HeldOutError = &e
	}
	for _, m := range s.CPU.Models {
		if m.Model == chosen.Model || m.NotFitted != "" {
			continue
		}
		alt := &profiles.CurveOption{Model: m.Model, IdleCores: m.Cost.IdleCores, CoresPerKRPS: m.Cost.CoresPerKRPS, Exponent: m.Cost.Exponent}
		if m.Judged {
			e := round4(m.MaxHeldOutErr)
			alt.HeldOutError = &e
		}
		c.Alternative = alt
	}
	return c
}

func round4(x float64) float64 { return math.Round(x*10000) / 10000 }

func setup(rec *results.Sweep) string {
	o := rec.Options
	return fmt.Sprintf("%d outbound call(s) per request, %d connections, %s, %s arrivals, %gs steps after %gs warm-up; %s",
		o.OutboundPerRequest, o.Connections, o.Protocol, o.ArrivalProcess(), o.DurationSeconds, o.WarmupSeconds, rec.Environment.Placement.Note)
}

func (r *Report) notes(rec *results.Sweep) []string {
	o := r.Overall.ChosenFit()
	notes := []string{
		fmt.Sprintf("CPU: least squares of proxy cores on sidecar RPS, per setting and over all %d valid unthrottled steps (overall: %s, %s); each setting's curve is the line or the concave idle + a x (RPS/1000)^b, whichever predicts held-out rates better, with its 95%% prediction interval's terms (uncertainty)",
			r.Overall.Points, o.Cost.Formula(), r.Overall.ChoiceReason),
	}
	if r.StandIn != nil {
		notes = append(notes, r.StandIn.Note,
			fmt.Sprintf("memory: Envoy's model (%s's published base, per-cluster, per-endpoint and per-worker terms), not %s's working set of %.1f MiB", profiles.DefaultName, rec.Proxy.Name, r.Memory.BaseBytes/(1<<20)))
	} else {
		notes = append(notes, "memory: working set against worker count in the lab, whose proxy holds 2 clusters; per-cluster, per-endpoint and per-worker-per-cluster terms are Envoy's published figures (not measured)")
	}
	for _, s := range r.Settings {
		if s.MaxIsLowerBound {
			notes = append(notes, "max_rps_is_lower_bound: no search measured that setting's maximum; its max_rps is the most a valid step carried")
			break
		}
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
