package charts

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// Input is what a report is made from: the sweep, and its fit and
// recommendation when the sweep could be fitted.
type Input struct {
	Sweep *results.Sweep
	// Source is the results directory the sweep was read from (its fortio
	// files are there).
	Source string
	// Fit is nil when the sweep could not be fitted; NotFitted says why.
	Fit       *fit.Report
	NotFitted string
	// Recommendation is nil without a fit.
	Recommendation   *sizing.MeasuredRecommendation
	TargetInboundRPS float64
	// TargetAssumed says where the target came from when none was given.
	TargetAssumed string
	// PlanCommand sizes with the fitted profile (empty without a choice).
	PlanCommand string
	// Annotations apply the chosen setting in full (sizing.Annotations of
	// its plan: all four resources and the concurrency).
	Annotations map[string]string
	// GeneratedAt stamps the report; zero means now.
	GeneratedAt time.Time
}

// Validate reports an input no report can be made from.
func (in Input) Validate() error {
	if in.Sweep == nil {
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
	if p.Name != "envoy" {
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
	add := func(c int, l int64) {
		s := results.Setting{Concurrency: c, CPULimitMillicores: l}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, st := range rec.Steps {
		add(st.Concurrency, st.CPULimitMillicores)
	}
	for _, s := range rec.Searches {
		add(s.Concurrency, s.CPULimitMillicores)
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
		if st.Concurrency == s.Concurrency && st.CPULimitMillicores == s.CPULimitMillicores {
			out = append(out, st)
		}
	}
	return out
}

// valid are the steps fit uses: finished, valid, with traffic and CPU.
func valid(steps []results.Step) []results.Step {
	var out []results.Step
	for _, st := range steps {
		if st.Status == results.StatusOK && st.SidecarRPS > 0 && st.ProxyCPUCores > 0 {
			out = append(out, st)
		}
	}
	return out
}

// settingFit is fit's figures for s, or nil.
func settingFit(r *fit.Report, s results.Setting) *fit.SettingFit {
	if r == nil {
		return nil
	}
	for i := range r.Settings {
		if r.Settings[i].Concurrency == s.Concurrency && r.Settings[i].CPULimitMillicores == s.CPULimitMillicores {
			return &r.Settings[i]
		}
	}
	return nil
}
