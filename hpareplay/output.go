package hpareplay

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"
)

// CSVHeader is the first line of WriteCSV.
var CSVHeader = []string{"at", "observed_ready_pods", "current", "recommended", "reference"}

// WriteCSV writes every sync's replicas of the three runs, one row per
// sync.
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, s := range r.Syncs {
		if err := cw.Write([]string{s.At.UTC().Format(time.RFC3339), strconv.Itoa(s.Observed),
			strconv.Itoa(int(s.Current)), strconv.Itoa(int(s.Recommended)), strconv.Itoa(int(s.Reference))}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Changes are the syncs at which any run's replicas, or the pods observed,
// change: the table's rows, each holding until the next.
func Changes(r *Report) []SyncRow {
	var out []SyncRow
	for i, s := range r.Syncs {
		if i == 0 || s != (SyncRow{At: s.At, Observed: r.Syncs[i-1].Observed, Current: r.Syncs[i-1].Current,
			Recommended: r.Syncs[i-1].Recommended, Reference: r.Syncs[i-1].Reference}) {
			out = append(out, s)
		}
	}
	return out
}

// WriteTable writes the report for a terminal: the settings, the runs'
// summary, the replicas at each change, the reading and the notes.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	c := r.Controller
	fmt.Fprintf(tw, "HPA %s/%s -> deployment %s: replayed from %s to %s, %d syncs\n", r.Namespace, r.HPA, r.Deployment,
		r.Start.UTC().Format(time.RFC3339), r.End.UTC().Format(time.RFC3339), len(r.Syncs))
	fmt.Fprintf(tw, "  controller\tsync %s, tolerance %g, downscale stabilisation %s, CPU initialisation %s, initial readiness delay %s, Kubernetes %s\n",
		c.SyncPeriod, c.Tolerance, c.DownscaleStabilization, c.CPUInitializationPeriod, c.InitialReadinessDelay, c.Version)
	fmt.Fprintf(tw, "  history\tone sample per %s; pod lifecycles %s\n", c.Step, lifecycleWords(r.Lifecycles))
	fmt.Fprintf(tw, "  pod start-up\t%s (%s)\n", c.PodStartup, r.PodStartupBasis)
	if r.Sidecar != nil {
		fmt.Fprintf(tw, "  sidecar CPU\t%s\n", r.Sidecar)
	}
	if rec := r.Recommendation; rec.TargetPercent > 0 {
		fmt.Fprintf(tw, "  recommended\t%d%%: the usage-aware %.1f%% = (the app's %.0fm target + the sidecar's %.0fm) / the pod's requests; sidecar CPU %s\n",
			rec.TargetPercent, rec.UsageAwarePercent, rec.AppTargetMillicores, rec.SidecarAtAppTargetMillicores, rec.SidecarBasis)
		fmt.Fprintf(tw, "  manifest\t%s\n", rec.Manifest)
	}
	fmt.Fprintf(tw, "  load model\t%s\n\n", r.LoadModel)
	fmt.Fprintln(tw, "RUN\tMETRIC\tDIFFERS FROM REFERENCE\tMORE PODS\tFEWER PODS\tEXTRA POD-MINUTES\tFIRST SCALE-UP\tVS REFERENCE\tMAX REPLICAS")
	for _, run := range r.Runs {
		first, vs := "none", "-"
		if run.FirstScaleUp != nil {
			first = run.FirstScaleUp.UTC().Format(time.RFC3339)
		}
		if d := run.FirstScaleUpMinutesAfterReference; d != nil && run.Name != RunReference {
			vs = fmt.Sprintf("%+.2f min", *d)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%+.0f\t%s\t%s\t%d\n", run.Name, run.Metric, minutesWords(run.MinutesDiffering),
			minutesWords(run.MinutesAbove), minutesWords(run.MinutesBelow), run.ExtraPodMinutes, first, vs, run.MaxReplicas)
	}
	fmt.Fprintln(tw, "\nREPLICAS (a row for each change, holding until the next; * differs from the reference)")
	fmt.Fprintln(tw, "FROM\tOBSERVED READY\tCURRENT\tRECOMMENDED\tREFERENCE")
	for _, s := range Changes(r) {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", s.At.UTC().Format(time.RFC3339), s.Observed, marked(s.Current, s.Reference), marked(s.Recommended, s.Reference), s.Reference)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nREADING\n  %s\n", r.Reading)
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNOTES")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "  - %s\n", n)
		}
	}
	return nil
}

func marked(v, ref int32) string {
	if v != ref {
		return fmt.Sprintf("%d*", v)
	}
	return strconv.Itoa(int(v))
}
