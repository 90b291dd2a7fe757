package sweep

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

// baselineTolerance is how far (relative) a baseline's rate may be from a
// step's for its latency to serve as the step's reference.
const baselineTolerance = 0.25

// ensureBaseline runs a baseline near rps unless one exists.
func (r *runner) ensureBaseline(ctx context.Context, rps float64) error {
	if nearestBaseline(r.rec.Baseline, rps) != nil {
		return nil
	}
	spec := r.spec(rps, fmt.Sprintf("baseline %.0f rps (no proxy)", rps))
	res, err := r.backend.Baseline(ctx, spec)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		r.println(fmt.Sprintf("  baseline at %.0f rps failed: %v", rps, err))
		return nil // the steps still run; they just have no latency added
	}
	run := results.Run{RequestedRPS: rps, ActualRPS: res.Summary.ActualQPS, LatencyMs: results.Latency(res.Summary.LatencyMs),
		ErrorRatio: res.Summary.ErrorRatio, Valid: res.Summary.Valid, Reasons: res.Summary.InvalidReasons,
		FortioFile: filepath.Join("baseline", fmt.Sprintf("%.0frps.fortio.json", rps))}
	if l := res.Summary.IntendedLatencyMs; l != nil {
		intended := results.Latency(*l)
		run.IntendedLatencyMs = &intended
	}
	data, err := res.FortioJSON()
	if err != nil {
		return err
	}
	if err := results.WriteRunFile(r.o.OutDir, run.FortioFile, data); err != nil {
		return err
	}
	r.rec.Baseline = append(r.rec.Baseline, run)
	r.println(fmt.Sprintf("  baseline %.0f rps: p50 %.3f ms, p99 %.3f ms (app without the proxy)", rps, run.LatencyMs.P50, run.LatencyMs.P99))
	return r.save()
}

func nearestBaseline(runs []results.Run, rps float64) *results.Run {
	var best *results.Run
	for i := range runs {
		run := &runs[i]
		if !run.Valid || math.Abs(run.RequestedRPS-rps) > baselineTolerance*rps {
			continue
		}
		if best == nil || math.Abs(run.RequestedRPS-rps) < math.Abs(best.RequestedRPS-rps) {
			best = run
		}
	}
	return best
}

// fill copies a measurement into a step and derives its per-request
// figures. configuredPerInbound is the requests per inbound request the
// sweep's fan-out makes (0: not known, as on a cluster): the hops check
// compares the proxy's own count with it.
func fill(st *results.Step, m *driver.Measurement, baselines []results.Run, configuredPerInbound float64) {
	s := m.Load.Summary
	wall := m.Wall.Seconds()
	st.ActualRPS, st.GeneratorRealtime = s.ActualQPS, s.GeneratorRealtime
	st.DurationSeconds = wall
	st.ProxyCPUSeconds = m.ProxyCPUSeconds
	st.ProxyRequests, st.InboundRequests = m.ProxyRequests, m.InboundRequests
	if wall > 0 {
		st.ProxyCPUCores = m.ProxyCPUSeconds / wall
		st.SidecarRPS = float64(m.ProxyRequests) / wall
	}
	if m.ProxyRequests > 0 {
		st.ProxyCPUSecondsPer1kRequests = m.ProxyCPUSeconds / (float64(m.ProxyRequests) / 1000)
	}
	if m.InboundRequests > 0 {
		st.ProxyRequestsPerInbound = float64(m.ProxyRequests) / float64(m.InboundRequests)
	}
	st.ConfiguredRequestsPerInbound = configuredPerInbound
	if m.HasThrottling && m.Periods > 0 {
		st.ThrottledRatio = float64(m.ThrottledPeriods) / float64(m.Periods)
	}
	st.ThrottledSeconds = m.ThrottledSeconds
	st.MemoryWorkingSetBytes = m.MemoryWorkingSetBytes
	st.LatencyMs = results.Latency(s.LatencyMs)
	if s.IntendedLatencyMs != nil {
		l := results.Latency(*s.IntendedLatencyMs)
		st.IntendedLatencyMs = &l
	}
	if b := nearestBaseline(baselines, st.RequestedRPS); b != nil {
		st.LatencyAddedMs = latencyDiff(st.LatencyMs, b.LatencyMs)
		if st.IntendedLatencyMs != nil && b.IntendedLatencyMs != nil {
			st.IntendedLatencyAddedMs = latencyDiff(*st.IntendedLatencyMs, *b.IntendedLatencyMs)
		}
	}
	st.ErrorRatio = s.ErrorRatio
	st.Sources = m.Sources
	st.Warnings = append(append([]string{}, s.Warnings...), m.Warnings...)
	st.Status, st.Reason = results.StatusOK, ""
	reasons := s.InvalidReasons
	if why, invalid := results.JudgeHops(st.ProxyRequestsPerInbound, configuredPerInbound); why != "" {
		if invalid {
			reasons = append(reasons, why)
		} else {
			st.Warnings = append(st.Warnings, why)
		}
	}
	if !s.Valid || len(reasons) > 0 {
		st.Status, st.Reason = results.StatusInvalid, strings.Join(reasons, "; ")
	}
}

func latencyDiff(a, b results.Latency) *results.Latency {
	return &results.Latency{P50: a.P50 - b.P50, P90: a.P90 - b.P90, P99: a.P99 - b.P99, P999: a.P999 - b.P999, Avg: a.Avg - b.Avg, Max: a.Max - b.Max}
}

// runSearch finds the setting's maximum throughput, measuring the proxy at
// every search step, and records the steps under the sweep's searches.
func (r *runner) runSearch(ctx context.Context, s results.Setting) error {
	var measured []*driver.Measurement
	step := 0
	run := func(ctx context.Context, qps float64) (*loadgen.Result, error) {
		step++
		spec := r.spec(qps, fmt.Sprintf("search %s step %d: %.0f rps", s.Key(), step, qps))
		if r.o.SearchDuration > 0 {
			spec.Duration = r.o.SearchDuration
		}
		m, err := r.backend.Measure(ctx, spec)
		if err != nil {
			return nil, err
		}
		measured = append(measured, m)
		return m.Load, nil
	}
	opts := r.o.Search
	found, err := loadgen.FindMax(ctx, opts, run)
	if ctx.Err() != nil {
		return nil // interrupted: the search reruns on resume
	}
	rec := results.Search{Setting: s}
	if found != nil {
		rec.MaxRPS, rec.LowestFailRPS, rec.Converged, rec.StopReason = found.HighestPassQPS, found.LowestFailQPS, found.Converged, found.StopReason
		for i, fs := range found.Steps {
			if i >= len(measured) {
				break
			}
			st := results.Step{Index: i, Setting: s, RequestedRPS: fs.RequestedQPS}
			fill(&st, measured[i], r.rec.Baseline, r.o.configuredPerInbound())
			if !fs.Pass {
				st.Status, st.Reason = results.StatusInvalid, strings.Join(fs.FailReasons, "; ")
			}
			rec.Steps = append(rec.Steps, st)
		}
	}
	if err != nil {
		rec.StopReason = "error: " + err.Error()
	}
	r.rec.Searches = append(r.rec.Searches, rec)
	r.println(fmt.Sprintf("  search %s: max %.0f rps (%s, %d steps)", s.Key(), rec.MaxRPS, rec.StopReason, len(rec.Steps)))
	return r.save()
}

// stepLine is one finished step for the progress log.
func stepLine(st results.Step) string {
	line := fmt.Sprintf("%-12s %6.0f rps: %s  proxy %.3f cores, %.4f cpu-s/1k req, %.2f req/inbound, throttled %.0f%%, p99 %.2f ms",
		stepSetting(st), st.RequestedRPS, st.Status, st.ProxyCPUCores, st.ProxyCPUSecondsPer1kRequests,
		st.ProxyRequestsPerInbound, st.ThrottledRatio*100, st.LatencyMs.P99)
	if st.Reason != "" {
		line += " (" + st.Reason + ")"
	}
	return line
}
