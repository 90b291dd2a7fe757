package loadgen

import (
	"context"
	"fmt"
	"strings"
	"time"
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
}

// Do runs the job. With an error it still returns what was measured when
// there is something (an interrupted run, the steps of a search so far),
// and an interrupted job still saves it.
func (j Job) Do(ctx context.Context) (*Report, error) {
	if j.Progress != nil {
		j.Options.Progress = j.Progress.Update
		defer j.Progress.Done()
	}
	if j.Search == nil {
		res, err := Run(ctx, j.Options)
		if res == nil {
			return nil, err
		}
		return &Report{Run: res}, keepFirst(err, j.saveRun(res))
	}
	report, err := j.search(ctx)
	if report == nil {
		return nil, err
	}
	return &Report{Search: report}, keepFirst(err, j.saveSearch(report))
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

func (j Job) saveRun(res *Result) error {
	if j.SaveDir == "" {
		return nil
	}
	if _, err := SaveFortioJSON(j.SaveDir, "", res); err != nil {
		return err
	}
	_, err := SaveJSON(j.SaveDir, "summary.json", res.Summary)
	return err
}

func (j Job) saveSearch(r *SearchReport) error {
	if j.SaveDir == "" {
		return nil
	}
	for _, st := range r.Steps {
		name := fmt.Sprintf("step-%02d-%.0fqps", st.N, st.RequestedQPS)
		if _, err := SaveFortioJSON(j.SaveDir, name, st.Result); err != nil {
			return err
		}
	}
	_, err := SaveJSON(j.SaveDir, "summary.json", r)
	return err
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
