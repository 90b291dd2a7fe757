package cmd

import (
	"io"
	"path/filepath"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/report"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// finishSweep analyzes the finished sweep in dir, for the sweep's own
// objective, and hands it to report.Finish.
func finishSweep(out io.Writer, rec *results.Sweep, dir string, f sweepFlags) error {
	a, err := analysis.Analyze(rec, analysis.Options{Source: dir, Headroom: sizing.DefaultHeadroom, SLOP99: f.req.SLOP99, Names: analysisNames()})
	if err != nil {
		return err
	}
	return report.Finish(out, reportInput(a, filepath.Join(dir, analysis.ProfileFile)))
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
