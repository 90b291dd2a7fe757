package cmd

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/proxysizer/proxysizer/analysis"
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
	} else {
		fmt.Fprintf(out, "\nMeasured cost over all unthrottled steps: %.4f cores per 1000 sidecar RPS (R² %.3f) + %.4f idle\n%s\n",
			in.Fit.Overall.CoresPerKRPS, in.Fit.Overall.R2, in.Fit.Overall.IdleCores, looSummary(in.Fit))
		writeRecommendation(out, in.Choice, profile, in.PlanCommand)
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

// looSummary gives each setting's leave-one-rate-out error: the CPU model
// is per setting, so that is where its predictions are judged.
func looSummary(r *fit.Report) string {
	var parts []string
	for _, s := range r.Settings {
		if s.CPU == nil || len(s.CPU.HeldOut) == 0 {
			continue
		}
		key := s.Key()
		parts = append(parts, fmt.Sprintf("%s %.1f%%", key, s.CPU.MaxHeldOutErr*100))
	}
	if len(parts) == 0 {
		return "too few rates for leave-one-rate-out"
	}
	return "leave-one-rate-out max error per setting: " + strings.Join(parts, ", ")
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
