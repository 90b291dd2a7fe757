package cmd

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/results"
)

// writeSweepSummary prints the measured steps as a table.
func writeSweepSummary(out io.Writer, rec *results.Sweep, dir string) error {
	if c := rec.Environment.Cluster; c != nil {
		fmt.Fprintf(out, "Proxy: %s (%s); deployment %s/%s on Kubernetes %s; figures per pod; metrics: %s\n\n",
			rec.Proxy.Name, rec.Proxy.Version, c.Namespace, c.Deployment, c.ServerVersion, c.MetricsSource)
	} else {
		fmt.Fprintf(out, "Proxy: %s (%s); %d outbound call(s) per request; cgroups %s; %s arrivals\n\n", rec.Proxy.Name, rec.Proxy.Version, rec.Options.OutboundPerRequest, rec.Environment.CgroupVersion, rec.Options.ArrivalProcess())
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	// +P99 is the latency the proxy adds at p99, timed from each call's
	// actual send (service time) and from its intended send time.
	fmt.Fprintln(w, "CONC\tCPU LIMIT\tRPS\tACHIEVED\tPROXY CORES\tCPU-S/1K REQ\tREQ/INBOUND\tTHROTTLED\tMEMORY\tP50 MS\tP99 MS\t+P99 MS\t+P99 INTENDED\tSTATUS\t")
	for _, s := range rec.Steps {
		limit := s.LimitString()
		fmt.Fprintf(w, "%d\t%s\t%.0f\t%.0f\t%.3f\t%.4f\t%.2f\t%.0f%%\t%s\t%.2f\t%.2f\t%s\t%s\t%s\t\n",
			s.Concurrency, limit, s.RequestedRPS, s.ActualRPS, s.ProxyCPUCores, s.ProxyCPUSecondsPer1kRequests,
			s.ProxyRequestsPerInbound, s.ThrottledRatio*100, quantity.Bytes(s.MemoryWorkingSetBytes), s.LatencyMs.P50, s.LatencyMs.P99,
			p99Added(s.LatencyAddedMs), p99Added(s.IntendedLatencyAddedMs), s.Status)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	writeInvalidReasons(out, rec)
	for _, s := range rec.Searches {
		fmt.Fprintf(out, "max throughput c%d limit %s: %.0f RPS (%s)\n", s.Concurrency, s.LimitString(), s.MaxRPS, s.StopReason)
	}
	fmt.Fprintf(out, "\nResults: %s/%s\n", dir, results.FileName)
	return nil
}

func p99Added(l *results.Latency) string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", l.P99)
}

var digits = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// writeInvalidReasons says why steps were invalid, one line per kind of
// reason (the figures in it aside) with its count and first instance.
func writeInvalidReasons(out io.Writer, rec *results.Sweep) {
	type kind struct {
		count int
		first string
	}
	kinds := map[string]*kind{}
	var order []string
	for _, s := range rec.Steps {
		if s.Status != results.StatusInvalid && s.Status != results.StatusFailed {
			continue
		}
		for _, reason := range strings.Split(s.Reason, "; ") {
			key := digits.ReplaceAllString(reason, "N")
			if kinds[key] == nil {
				kinds[key] = &kind{first: fmt.Sprintf("step %d (%s, %.0f rps): %s", s.Index, s.Key(), s.RequestedRPS, reason)}
				order = append(order, key)
			}
			kinds[key].count++
		}
	}
	for _, key := range order {
		k := kinds[key]
		fmt.Fprintf(out, "%d step(s) not valid for this reason, e.g. %s\n", k.count, k.first)
	}
}
