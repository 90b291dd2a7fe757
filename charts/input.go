package charts

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/analysis"
	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/results"
)

// Input is what the page is drawn from: a sweep's analysis, and the command
// lines the caller gives it to show (they are in the caller's flags).
type Input struct {
	*analysis.Analysis
	// PlanCommand sizes with the fitted profile (empty without a choice);
	// ReproduceCommand measures the same grid again.
	PlanCommand, ReproduceCommand string
	// GeneratedAt stamps the page; zero means now.
	GeneratedAt time.Time
}

// Validate reports an input no page can be drawn from.
func (in Input) Validate() error {
	if in.Analysis == nil || in.Sweep == nil {
		return fmt.Errorf("no sweep")
	}
	if len(FinishedSteps(in.Sweep)) == 0 {
		return fmt.Errorf("the sweep has no finished step to report (status %s, %d steps pending)", in.Sweep.Status, len(in.Sweep.Steps))
	}
	return nil
}

var versionToken = regexp.MustCompile(`\d+\.\d+(\.\d+)?`)

// ProxyLabel names the proxy as every chart and table shows it, e.g.
// "haproxy 2.6.12 (standing in for Envoy)": figures from another proxy must
// never read as Envoy's.
func ProxyLabel(p results.Proxy) string {
	version := versionToken.FindString(p.Version)
	if version == "" {
		version = strings.TrimSpace(p.Version)
		if len(version) > 60 {
			version = version[:60] + "..."
		}
	}
	label := strings.TrimSpace(p.Name + " " + version)
	if p.StandsIn() {
		label += " (standing in for Envoy)"
	}
	return label
}

// FinishedSteps are the grid's steps and the searches' steps that ran.
func FinishedSteps(rec *results.Sweep) []results.Step {
	var out []results.Step
	for _, st := range rec.Steps {
		if st.Done() {
			out = append(out, st)
		}
	}
	for _, s := range rec.Searches {
		for _, st := range s.Steps {
			if st.Done() {
				out = append(out, st)
			}
		}
	}
	return out
}

// Settings are the sweep's concurrency x CPU-limit settings, sorted by
// concurrency then limit (no limit last).
func Settings(rec *results.Sweep) []results.Setting {
	seen := map[results.Setting]bool{}
	var out []results.Setting
	add := func(s results.Setting) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, st := range rec.Steps {
		add(st.Setting)
	}
	for _, s := range rec.Searches {
		add(s.Setting)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Concurrency != out[j].Concurrency {
			return out[i].Concurrency < out[j].Concurrency
		}
		return limitOrder(out[i].CPULimitMillicores) < limitOrder(out[j].CPULimitMillicores)
	})
	return out
}

func limitOrder(m int64) int64 {
	if m == 0 {
		return 1 << 62
	}
	return m
}

// SettingLabel is a setting as legends show it: "c2 · limit 500m".
func SettingLabel(s results.Setting) string {
	return fmt.Sprintf("c%d · limit %s", s.Concurrency, s.LimitString())
}

func stepsAt(steps []results.Step, s results.Setting) []results.Step {
	var out []results.Step
	for _, st := range steps {
		if st.Setting == s {
			out = append(out, st)
		}
	}
	return out
}

// valid are the steps fit uses.
func valid(steps []results.Step) []results.Step {
	var out []results.Step
	for _, st := range steps {
		if fit.Usable(st) {
			out = append(out, st)
		}
	}
	return out
}
