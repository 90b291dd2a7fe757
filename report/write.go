package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/charts"
	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
)

// Input is what the report's files are made from: a sweep's analysis, and
// the command lines the caller gives it to show (they are in the caller's
// flags).
type Input struct {
	*analysis.Analysis
	// PlanCommand sizes with the fitted profile (empty without a choice);
	// ReproduceCommand measures the same grid again; FitCommand fits it
	// (the text Finish prints names it).
	PlanCommand, ReproduceCommand, FitCommand string
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
	ProfileFile  = analysis.ProfileFile
)

// files and dirs are every name Write replaces in its directory.
var (
	files = []string{HTMLFile, MarkdownFile, CSVFile, SMPFile, ProfileFile}
	dirs  = []string{FortioDir}
)

// Paths are the files Write wrote.
type Paths struct {
	HTML, Markdown, CSV, SMP, FortioDir string
	// Profile is the fitted profile, "" when the sweep could not be fitted.
	Profile string
	// FortioFiles counts the fortio results copied; MissingFortio lists the
	// ones the sweep names but the results directory no longer holds.
	FortioFiles   int
	MissingFortio []string
}

// Check says, before any work, whether Write may write into dir: a new or
// empty directory, or one of ours (a results directory, or one a report
// was written into), where each file Write replaces is a regular file.
func Check(dir string) error { return results.CheckOutputDir(dir, files, dirs) }

// Write writes every report file into dir, all of them or none: they are
// made in a staging directory inside dir, then moved into place, and any
// file a failed move replaced is put back. in.Source is where the sweep's
// fortio files are read from (only from inside it); dir may be the same
// directory. With a fit, the fitted profile goes beside the report.
func Write(dir string, in Input) (Paths, error) {
	if err := in.Validate(); err != nil {
		return Paths{}, err
	}
	p := Paths{HTML: filepath.Join(dir, HTMLFile), Markdown: filepath.Join(dir, MarkdownFile), CSV: filepath.Join(dir, CSVFile),
		SMP: filepath.Join(dir, SMPFile), FortioDir: filepath.Join(dir, FortioDir)}
	var html bytes.Buffer
	if err := charts.Render(&html, in.page()); err != nil {
		return p, err
	}
	made := map[string][]byte{HTMLFile: html.Bytes(), MarkdownFile: []byte(Markdown(in)), CSVFile: StepsCSV(in.Sweep)}
	if in.Fit != nil {
		profile, err := profiles.Marshal(in.Fit.Profile)
		if err != nil {
			return p, err
		}
		made[ProfileFile], p.Profile = profile, filepath.Join(dir, ProfileFile)
	}
	st, err := results.NewStage(dir, files, dirs)
	if err != nil {
		return p, err
	}
	defer st.Discard()
	if err := os.Mkdir(filepath.Join(st.Dir(), FortioDir), 0o755); err != nil {
		return p, err
	}
	copied, err := exportFortio(in, filepath.Join(st.Dir(), FortioDir))
	if err != nil {
		return p, fmt.Errorf("fortio export: %w", err)
	}
	p.FortioFiles, p.MissingFortio = len(copied.files), copied.missing
	if made[SMPFile], err = SMP(in, copied); err != nil {
		return p, err
	}
	for name, data := range made {
		if err := safefile.WriteFile(filepath.Join(st.Dir(), name), data, 0o644); err != nil {
			return p, err
		}
	}
	names := append([]string{FortioDir}, files...)
	if in.Fit == nil {
		names = names[:len(names)-1] // no profile.yaml: an older one stays
	}
	return p, st.Commit(names)
}
