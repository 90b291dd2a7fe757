package report

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/results"
)

// Finish is the end of a sweep whose analysis is in, in its results
// directory in.Source: it prints the steps, each setting's cost and the
// recommendation, and writes the report files beside the results. A sweep
// whose steps cannot be fitted still succeeded: it says why there is no
// recommendation. A report that cannot be written is said, not an error:
// the results are saved. The error is for a sweep with no valid step.
func Finish(out io.Writer, in Input) error {
	dir := in.Source
	if err := WriteSteps(out, in.Sweep, dir); err != nil {
		return err
	}
	if in.Fit == nil {
		fmt.Fprintf(out, "\nNo recommendation: %s\n", in.WhyNotFitted())
		for _, w := range in.Warnings() {
			fmt.Fprintf(out, "warning: %s\n", w)
		}
	} else {
		writeCostSummary(out, in.Fit)
		WriteRecommendation(out, in, filepath.Join(dir, ProfileFile))
		fmt.Fprintf(out, "Full fit: %s\n", in.FitCommand)
	}
	paths, err := Write(dir, in)
	if err != nil {
		fmt.Fprintf(out, "\nReport not written: %v\n", err)
		return nil
	}
	fmt.Fprintln(out)
	WritePaths(out, paths, in)
	if countOK(in.Sweep) == 0 {
		return errors.New("no step of the sweep finished valid: see each step's reason above or in sweep.json")
	}
	return nil
}

func countOK(rec *results.Sweep) int {
	n := 0
	for _, s := range rec.Steps {
		if s.Status == results.StatusOK {
			n++
		}
	}
	return n
}

// writeCostSummary gives each setting's chosen cost curve, its held-out
// error beside the other model's, and its capacity: the CPU model is per
// setting, so that is where its predictions are judged.
func writeCostSummary(out io.Writer, r *fit.Report) {
	if si := r.StandIn; si != nil {
		fmt.Fprintf(out, "\nStand-in: %s\n", si.Note)
	}
	fmt.Fprintln(out, "\nMeasured cost per setting (proxy cores at sidecar RPS; the model that predicts held-out rates better):")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range r.Settings {
		if s.CPU == nil {
			fmt.Fprintf(w, "  %s\tnot fitted: %s\t\t\t\n", s.Key(), s.Skipped)
			continue
		}
		chosen := s.CPU.ChosenFit()
		other := s.CPU.Concave()
		if chosen.Model == other.Model {
			other = s.CPU.Line()
		}
		_, chosenHeld := modelCell(chosen)
		_, otherHeld := modelCell(other)
		switch {
		case strings.Contains(other.NotFitted, "too few"):
			otherHeld = "-, too few rates to fit"
		case other.NotFitted != "":
			otherHeld = "-, its CPU does not grow with the rate"
		}
		fmt.Fprintf(w, "  %s\t%s %s\theld-out %s (%s %s)\tcapacity %s\n", s.Key(), chosen.Model, chosen.Cost.Formula(), chosenHeld, other.Model, otherHeld, charts.CapacityText(s))
	}
	w.Flush()
}

// WriteSteps prints a sweep's measured steps as a table, why steps were
// not valid, the searches' maxima and where the results are.
func WriteSteps(out io.Writer, rec *results.Sweep, dir string) error {
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
