package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"time"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/results"
)

// Input is what the report's files are made from: a sweep's analysis, and
// the command lines the caller gives it to show (they are in the caller's
// flags).
type Input struct {
	*analysis.Analysis
	// PlanCommand sizes with the fitted profile (empty without a choice);
	// ReproduceCommand measures the same grid again.
	PlanCommand, ReproduceCommand string
	// GeneratedAt stamps report.html; zero means now.
	GeneratedAt time.Time
}

// page is the input report.html is drawn from.
func (in Input) page() charts.Input {
	return charts.Input{Analysis: in.Analysis, PlanCommand: in.PlanCommand, ReproduceCommand: in.ReproduceCommand, GeneratedAt: in.GeneratedAt}
}

// Validate reports an input no report can be made from.
func (in Input) Validate() error { return in.page().Validate() }

// File names inside the report directory.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	CSVFile      = "steps.csv"
	SMPFile      = "smp.json"
	FortioDir    = "fortio"
)

// Paths are the files Write wrote.
type Paths struct {
	HTML, Markdown, CSV, SMP, FortioDir string
	// FortioFiles counts the fortio results copied; MissingFortio lists the
	// ones the sweep names but the results directory no longer holds.
	FortioFiles   int
	MissingFortio []string
}

// Write writes every report file into dir. in.Source is where the sweep's
// fortio files are read from; dir may be the same directory.
func Write(dir string, in Input) (Paths, error) {
	if err := in.Validate(); err != nil {
		return Paths{}, err
	}
	p := Paths{HTML: filepath.Join(dir, HTMLFile), Markdown: filepath.Join(dir, MarkdownFile), CSV: filepath.Join(dir, CSVFile),
		SMP: filepath.Join(dir, SMPFile), FortioDir: filepath.Join(dir, FortioDir)}
	copied, err := exportFortio(in, p.FortioDir)
	if err != nil {
		return p, fmt.Errorf("fortio export: %w", err)
	}
	p.FortioFiles, p.MissingFortio = len(copied.files), copied.missing
	var html bytes.Buffer
	if err := charts.Render(&html, in.page()); err != nil {
		return p, err
	}
	smp, err := SMP(in, copied)
	if err != nil {
		return p, err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{
		{p.HTML, html.Bytes()},
		{p.Markdown, []byte(Markdown(in))},
		{p.CSV, StepsCSV(in.Sweep)},
		{p.SMP, smp},
	} {
		if err := results.WriteFileAtomic(f.path, f.data); err != nil {
			return p, err
		}
	}
	return p, nil
}
