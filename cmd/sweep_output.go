package cmd

import (
	"fmt"
	"io"
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
		fmt.Fprintf(out, "Proxy: %s (%s); %d outbound call(s) per request; cgroups %s\n\n", rec.Proxy.Name, rec.Proxy.Version, rec.Options.OutboundPerRequest, rec.Environment.CgroupVersion)
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "CONC\tCPU LIMIT\tRPS\tACHIEVED\tPROXY CORES\tCPU-S/1K REQ\tREQ/INBOUND\tTHROTTLED\tMEMORY\tP50 MS\tP99 MS\t+P99 MS\tSTATUS\t")
	for _, s := range rec.Steps {
		added := "-"
		if s.LatencyAddedMs != nil {
			added = fmt.Sprintf("%.2f", s.LatencyAddedMs.P99)
		}
		limit := s.LimitString()
		fmt.Fprintf(w, "%d\t%s\t%.0f\t%.0f\t%.3f\t%.4f\t%.2f\t%.0f%%\t%s\t%.2f\t%.2f\t%s\t%s\t\n",
			s.Concurrency, limit, s.RequestedRPS, s.ActualRPS, s.ProxyCPUCores, s.ProxyCPUSecondsPer1kRequests,
			s.ProxyRequestsPerInbound, s.ThrottledRatio*100, quantity.Bytes(s.MemoryWorkingSetBytes), s.LatencyMs.P50, s.LatencyMs.P99, added, s.Status)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	for _, s := range rec.Searches {
		fmt.Fprintf(out, "max throughput c%d limit %s: %.0f RPS (%s)\n", s.Concurrency, s.LimitString(), s.MaxRPS, s.StopReason)
	}
	fmt.Fprintf(out, "\nResults: %s/%s\n", dir, results.FileName)
	return nil
}
