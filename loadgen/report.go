package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Write writes what the job measured: as text for a person, or as JSON
// (proxysizer's contract: a run's Summary, or the SearchReport).
func (r *Report) Write(w io.Writer, asJSON bool) error {
	switch {
	case asJSON && r.Search != nil:
		return writeJSON(w, r.Search)
	case asJSON:
		return writeJSON(w, r.Run.Summary)
	case r.Search != nil:
		return r.Search.WriteText(w)
	}
	return r.Run.Summary.WriteText(w)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// WriteText writes the summary for a person: one figure per line.
func (s Summary) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	rate := "max"
	if !s.MaxRate {
		rate = fmt.Sprintf("%g qps", s.RequestedQPS)
	}
	fmt.Fprintf(tw, "target\t%s (%s, %d connections, %.1fs measured after %.1fs warm-up)\n",
		s.URL, s.Protocol, s.Connections, s.DurationSeconds, s.WarmupSeconds)
	fmt.Fprintf(tw, "rate\t%s requested", rate)
	if s.Arrival != "" {
		fmt.Fprintf(tw, " (%s arrivals)", s.Arrival)
	}
	fmt.Fprintf(tw, ", %.1f qps achieved", s.ActualQPS)
	if !s.MaxRate {
		fmt.Fprintf(tw, " (%.3f of schedule)", s.AchievedRatio)
	}
	fmt.Fprintln(tw)
	if !s.MaxRate && s.IntendedLatencyMs != nil {
		fmt.Fprintf(tw, "schedule\t%.1f%% of calls started more than 1ms late (%.1f%% waiting for a free connection)",
			100*s.BehindRatio, 100*s.BehindBusyRatio)
		if s.DroppedCalls > 0 {
			fmt.Fprintf(tw, ", %d never made", s.DroppedCalls)
		}
		fmt.Fprintln(tw)
	}
	l := s.LatencyMs
	fmt.Fprintf(tw, "latency\tp50 %.3fms  p90 %.3fms  p99 %.3fms  p99.9 %.3fms  (fortio: from actual send)\n", l.P50, l.P90, l.P99, l.P999)
	if il := s.IntendedLatencyMs; il != nil {
		fmt.Fprintf(tw, "intended\tp50 %.3fms  p90 %.3fms  p99 %.3fms  p99.9 %.3fms  (from intended send)\n", il.P50, il.P90, il.P99, il.P999)
	}
	fmt.Fprintf(tw, "errors\t%d of %d calls (%.2f%%)\n", s.Errors, s.Requests, 100*s.ErrorRatio)
	fmt.Fprintf(tw, "generator\t%.2f of %.0f cores\n", s.GeneratorCPUCores, s.GeneratorCPUCapacity)
	if s.Valid {
		fmt.Fprintf(tw, "valid\tyes\n")
	} else {
		fmt.Fprintf(tw, "valid\tNO: %s\n", strings.Join(s.InvalidReasons, "; "))
	}
	for _, warning := range s.Warnings {
		fmt.Fprintf(tw, "warning\t%s\n", warning)
	}
	return tw.Flush()
}

// WriteText writes the search for a person: a table of the steps, then the
// outcome.
func (r SearchReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "step\trequested\tachieved\tp99 ms\tintended p99 ms\terrors\tresult")
	for _, st := range r.Steps {
		intended := "-"
		if st.IntendedLatencyMs != nil {
			intended = fmt.Sprintf("%.3f", st.IntendedLatencyMs.P99)
		}
		n := strconv.Itoa(st.N)
		if st.Attempt > 1 {
			n += " (retry)"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.3f\t%s\t%.2f%%\t%s\n", n, st.RequestedQPS, st.ActualQPS,
			st.LatencyMs.P99, intended, 100*st.ErrorRatio, st.verdict())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	slo := "the validity gates"
	if r.SLOP99Ms > 0 {
		slo = fmt.Sprintf("p99 <= %gms (%s latency) and the validity gates", r.SLOP99Ms, r.SLOBasis)
	}
	if r.HighestPassQPS == 0 {
		fmt.Fprintf(w, "no rate met %s (stopped: %s)\n", slo, r.StopReason)
	} else {
		fmt.Fprintf(w, "max %.1f qps meets %s; %.1f qps does not (stopped: %s after %d steps)\n",
			r.HighestPassQPS, slo, r.LowestFailQPS, r.StopReason, len(r.Steps))
	}
	for _, warning := range r.SearchWarnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
	return nil
}
