package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/internal/input"
)

// Job is one use of the engine from start to end, as `proxysizer load`
// makes it: a run, or a search for the highest rate that meets an SLO, with
// progress for a person and the results saved to a directory.
type Job struct {
	Options Options
	// Search, when set, searches from Search.StartQPS instead of one run
	// at Options.QPS.
	Search *SearchOptions
	// SaveDir, when set, receives fortio's JSON of every run (`fortio
	// report -data-dir` browses it) and summary.json.
	SaveDir string
	// Progress, when set, shows the runs as they go (it sets
	// Options.Progress, and prints each search step's verdict).
	Progress *ProgressPrinter
	// Names shows the fields a problem with SaveDir names in the caller's
	// words (Request.Names).
	Names input.Names
}

// Report is what a Job measured: Run for one run, Search for a search.
type Report struct {
	Run    *Result
	Search *SearchReport
}

// SearchReport is a search as `load --find-max -o json` reports it: the
// best step's summary fields at the top level (absent when no step passed),
// then the search. Its JSON is proxysizer's contract.
type SearchReport struct {
	*Summary
	// HighestPassQPS is the highest requested rate that passed (0: none).
	HighestPassQPS float64  `json:"max_rps"`
	LowestFailQPS  float64  `json:"lowest_fail_qps"`
	SLOP99Ms       float64  `json:"slo_p99_ms"`
	SLOBasis       string   `json:"slo_basis"`
	Converged      bool     `json:"converged"`
	StopReason     string   `json:"stop_reason"`
	Steps          []Step   `json:"steps"`
	SearchWarnings []string `json:"search_warnings"`
	// Interrupted says the context was cancelled (a signal) before the
	// search ended: the steps are those finished so far.
	Interrupted bool `json:"interrupted"`
}

// RunReport is SummaryFile of a single run: the run's summary, and whether
// the context was cancelled (a signal) before the run ended.
type RunReport struct {
	Summary
	Interrupted bool `json:"interrupted"`
}

// Do runs the job. With an error it still returns what was measured when
// there is something (an interrupted run, the steps of a search so far),
// and an interrupted job still saves it. Before any load it checks SaveDir
// and that the target accepts a connection (an *UnreachableError, within
// Options.ConnectTimeout); a job whose every call failed returns
// ErrEveryCallFailed after saving.
func (j Job) Do(ctx context.Context) (*Report, error) {
	if j.SaveDir != "" {
		if err := CheckSaveDir(j.SaveDir); err != nil {
			return nil, named(j.Names, err)
		}
	}
	if err := CheckReachable(ctx, j.Options.URL, j.Options.ConnectTimeout); err != nil {
		return nil, err
	}
	if j.Progress != nil {
		j.Options.Progress = j.Progress.Update
		defer j.Progress.Done()
	}
	if j.Search == nil {
		res, err := Run(ctx, j.Options)
		if res == nil {
			return nil, err
		}
		report := &Report{Run: res}
		if err == nil && res.Summary.Requests > 0 && res.Summary.Errors == res.Summary.Requests {
			err = ErrEveryCallFailed
		}
		return report, keepFirst(named(j.Names, j.saveRun(res, ctx.Err() != nil)), err)
	}
	report, err := j.search(ctx)
	if report == nil {
		return nil, err
	}
	report.Interrupted = ctx.Err() != nil
	if err == nil && everyCallFailed(report.Steps) {
		err = ErrEveryCallFailed
	}
	return &Report{Search: report}, keepFirst(named(j.Names, j.saveSearch(report)), err)
}

// everyCallFailed: the search made steps and no step had a call succeed.
func everyCallFailed(steps []Step) bool {
	for _, st := range steps {
		if st.Requests == 0 || st.Errors < st.Requests {
			return false
		}
	}
	return len(steps) > 0
}

func (j Job) search(ctx context.Context) (*SearchReport, error) {
	s := *j.Search
	step := 0
	runner := RunnerFor(j.Options, func(qps float64) {
		step++
		if j.Progress != nil {
			j.Progress.SetPrefix(fmt.Sprintf("step %d @ %.0f qps: ", step, qps))
		}
	})
	s.OnStep = func(st Step) {
		if j.Progress != nil {
			j.Progress.Println(fmt.Sprintf("step %d @ %.0f qps: %s", st.N, st.RequestedQPS, st.verdict()))
		}
		if j.Search.OnStep != nil {
			j.Search.OnStep(st)
		}
	}
	res, err := FindMax(ctx, s, runner)
	if res == nil {
		return nil, err
	}
	basis := s.SLO.Basis
	if basis == "" {
		basis = IntendedLatency
	}
	report := &SearchReport{
		HighestPassQPS: res.HighestPassQPS, LowestFailQPS: res.LowestFailQPS,
		SLOP99Ms: float64(s.SLO.P99) / float64(time.Millisecond), SLOBasis: string(basis),
		Converged: res.Converged, StopReason: res.StopReason, Steps: res.Steps, SearchWarnings: res.Warnings,
	}
	if res.Best != nil {
		report.Summary = &res.Best.Summary
	}
	return report, err
}

func (j Job) saveRun(res *Result, interrupted bool) error {
	if j.SaveDir == "" {
		return nil
	}
	return saveRuns(j.SaveDir, map[string]*Result{"": res}, RunReport{res.Summary, interrupted})
}

func (j Job) saveSearch(r *SearchReport) error {
	if j.SaveDir == "" {
		return nil
	}
	runs := map[string]*Result{}
	for _, st := range r.Steps {
		runs[fmt.Sprintf("step-%02d-%.0fqps", st.N, st.RequestedQPS)] = st.Result
	}
	return saveRuns(j.SaveDir, runs, r)
}

func keepFirst(err, next error) error {
	if err != nil {
		return err
	}
	return next
}

// verdict is a step's outcome in a few words.
func (st Step) verdict() string {
	if st.Pass {
		return "pass"
	}
	return "fail: " + strings.Join(st.FailReasons, "; ")
}

// named shows a *FieldError in n's words, as an *input.Error.
func named(n input.Names, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return n.Errorf(fe.Field, "%s", fe.Msg)
	}
	return err
}
