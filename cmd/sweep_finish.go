package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// finishSweep prints the steps, then fits them and prints the
// recommendation. A sweep whose steps cannot be fitted still succeeded: it
// says why there is no recommendation.
func finishSweep(out io.Writer, rec *results.Sweep, dir string, f sweepFlags) error {
	if err := writeSweepSummary(out, rec, dir); err != nil {
		return err
	}
	a, err := analysis.Analyze(rec, analysis.Options{Source: dir, Headroom: sizing.DefaultHeadroom, SLOP99: f.req.SLOP99, Names: planFlagNames()})
	if err != nil {
		return err
	}
	profile := filepath.Join(dir, analysis.ProfileFile)
	in := reportInput(a, profile)
	if in.Fit == nil {
		fmt.Fprintf(out, "\nNo recommendation: %s\n", in.WhyNotFitted())
		for _, w := range in.Warnings() {
			fmt.Fprintf(out, "warning: %s\n", w)
		}
	} else {
		writeCostSummary(out, in.Fit)
		writeRecommendation(out, in.Analysis, profile, in.PlanCommand)
		fmt.Fprintf(out, "Full fit: proxysizer fit %s\n", dir)
	}
	paths, err := report.Write(dir, in)
	if err != nil {
		fmt.Fprintf(out, "\nReport not written: %v\n", err)
		return nil
	}
	fmt.Fprintln(out)
	printReportPaths(out, paths, in)
	if countOK(rec) == 0 {
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

func countDone(rec *results.Sweep) int {
	n := 0
	for _, s := range rec.Steps {
		if s.Done() {
			n++
		}
	}
	return n
}
