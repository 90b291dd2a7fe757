package fit

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/proxysizer/proxysizer/model"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// ThrottleThreshold is the share of CFS periods throttled from which a step
// counts as throttled: below it the quota is not what limits the proxy.
const ThrottleThreshold = 0.05

// Report is everything fit found.
type Report struct {
	Proxy              results.Proxy    `json:"proxy"`
	Backend            string           `json:"backend"`
	SweepStatus        string           `json:"sweep_status"`
	StepsDone          int              `json:"steps_done"`
	StepsTotal         int              `json:"steps_total"`
	RequestsPerInbound float64          `json:"requests_per_inbound"`
	Settings           []SettingFit     `json:"settings"`
	Overall            CPUFit           `json:"overall"`
	Memory             MemoryFit        `json:"memory"`
	Comparison         []Comparison     `json:"reference_comparison"`
	Profile            profiles.Profile `json:"profile"`
	Warnings           []string         `json:"warnings"`
}

// CPUFit is proxy CPU (cores) against sidecar RPS, in sizing's units.
type CPUFit struct {
	Points         int             `json:"points"`
	IdleCores      float64         `json:"idle_cores"`
	IdleCoresCI    *float64        `json:"idle_cores_ci95,omitempty"` // nil below 3 points
	CoresPerKRPS   float64         `json:"cores_per_krps"`
	CoresPerKRPSCI *float64        `json:"cores_per_krps_ci95,omitempty"`
	R2             float64         `json:"r2"`
	HeldOut        []model.HeldOut `json:"leave_one_rate_out,omitempty"`
	MaxHeldOutErr  float64         `json:"max_held_out_error"`
	line           model.LineFit
}

// SettingFit is one setting's figures.
type SettingFit struct {
	results.Setting
	CPU *CPUFit `json:"cpu,omitempty"`
	// Skipped says why there is no CPU fit.
	Skipped           string        `json:"skipped,omitempty"`
	MaxSidecarRPS     float64       `json:"max_sidecar_rps"`
	MaxInboundRPS     float64       `json:"max_inbound_rps"`
	MaxBasis          string        `json:"max_basis"`
	P99AtMaxMs        float64       `json:"p99_at_max_ms"`
	ThrottlingFromRPS float64       `json:"throttling_from_sidecar_rps"` // 0: not seen
	LatencyAdded      []RateLatency `json:"latency_added"`
	MemoryBytes       float64       `json:"memory_working_set_bytes"`
}

// RateLatency is the latency added over the baseline at one rate.
type RateLatency struct {
	RequestedRPS float64 `json:"requested_rps"`
	SidecarRPS   float64 `json:"sidecar_rps"`
	P50AddedMs   float64 `json:"p50_added_ms"`
	P99AddedMs   float64 `json:"p99_added_ms"`
}

// MemoryFit is working set against worker count.
type MemoryFit struct {
	Points         int     `json:"points"`
	BaseBytes      float64 `json:"base_bytes"`       // at one worker
	PerWorkerBytes float64 `json:"per_worker_bytes"` // each extra worker
	R2             float64 `json:"r2"`
	Note           string  `json:"note,omitempty"`
}

// Comparison sets the measured cost beside a reference profile's.
type Comparison struct {
	Profile       string  `json:"profile"`
	IstioVersions string  `json:"istio_versions"`
	CoresPerKRPS  float64 `json:"cores_per_krps"`
	// Ratio is measured / reference.
	Ratio float64 `json:"ratio"`
}

// ErrNothingToFit means no setting had enough valid points.
var ErrNothingToFit = errors.New("nothing to fit")

// Options name the profile.
type Options struct {
	Name   string
	Source string // where the sweep is, for the provenance
}

// FromSweep fits rec. refs are the reference profiles to compare with.
func FromSweep(rec *results.Sweep, refs []profiles.Profile, o Options) (*Report, error) {
	r := &Report{Proxy: rec.Proxy, Backend: rec.Backend, SweepStatus: rec.Status, StepsTotal: len(rec.Steps), Warnings: []string{}}
	var all []results.Step
	for _, st := range rec.Steps {
		if st.Done() {
			r.StepsDone++
		}
		all = append(all, st)
	}
	for _, s := range rec.Searches {
		all = append(all, s.Steps...)
	}
	if r.StepsDone < r.StepsTotal {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the sweep is %s: %d of %d steps done; fitting what is done", rec.Status, r.StepsDone, r.StepsTotal))
	}
	r.RequestsPerInbound = model.Median(values(okSteps(all), func(s results.Step) float64 { return s.ProxyRequestsPerInbound }))
	for _, s := range settingsOf(rec) {
		r.Settings = append(r.Settings, fitSetting(s, all, rec.Searches, r.RequestsPerInbound))
	}
	fitted := 0
	for _, s := range r.Settings {
		if s.CPU != nil {
			fitted++
		}
	}
	if fitted == 0 {
		return nil, fmt.Errorf("%w: no setting has valid steps at 2 or more rates (%s)", ErrNothingToFit, skipReasons(r.Settings))
	}
	overall, err := fitCPU(unthrottled(okSteps(all)))
	if err != nil {
		return nil, fmt.Errorf("%w: the unthrottled valid steps: %v", ErrNothingToFit, err)
	}
	if overall.CoresPerKRPS <= 0 {
		return nil, fmt.Errorf("the fitted CPU cost is %.4f cores per 1000 RPS: CPU does not grow with the rate in these measurements, so they cannot size anything", overall.CoresPerKRPS)
	}
	r.Overall = *overall
	r.Memory = fitMemory(okSteps(all))
	r.Comparison = compare(r.Overall.CoresPerKRPS, refs)
	r.Profile = r.profile(rec, refs, o)
	if err := r.Profile.Validate(); err != nil {
		return nil, fmt.Errorf("fitted profile: %w", err)
	}
	return r, nil
}

func settingsOf(rec *results.Sweep) []results.Setting {
	seen := map[results.Setting]bool{}
	var out []results.Setting
	for _, st := range rec.Steps {
		s := st.Setting
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func fitSetting(s results.Setting, all []results.Step, searches []results.Search, perInbound float64) SettingFit {
	sf := SettingFit{Setting: s, LatencyAdded: []RateLatency{}}
	mine := filter(all, func(st results.Step) bool {
		return st.Setting == s
	})
	ok := okSteps(mine)
	if cpu, err := fitCPU(ok); err != nil {
		sf.Skipped = fmt.Sprintf("%s: %v", s.Key(), err)
	} else {
		sf.CPU = cpu
	}
	sf.maxThroughput(s, ok, searches, perInbound)
	sf.ThrottlingFromRPS = throttlingStart(mine)
	for _, st := range ok {
		if st.LatencyAddedMs != nil {
			sf.LatencyAdded = append(sf.LatencyAdded, RateLatency{st.RequestedRPS, st.SidecarRPS, st.LatencyAddedMs.P50, st.LatencyAddedMs.P99})
		}
	}
	sort.Slice(sf.LatencyAdded, func(i, j int) bool { return sf.LatencyAdded[i].SidecarRPS < sf.LatencyAdded[j].SidecarRPS })
	sf.MemoryBytes = model.Median(values(ok, func(st results.Step) float64 { return float64(st.MemoryWorkingSetBytes) }))
	return sf
}

// maxThroughput takes the search's maximum where there was one, else the
// highest valid step: the most the setting was shown to carry.
func (sf *SettingFit) maxThroughput(s results.Setting, ok []results.Step, searches []results.Search, perInbound float64) {
	for _, sr := range searches {
		if sr.Setting != s || sr.MaxRPS <= 0 {
			continue
		}
		sf.MaxInboundRPS, sf.MaxSidecarRPS = sr.MaxRPS, sr.MaxRPS*perInbound
		sf.MaxBasis = fmt.Sprintf("max-throughput search (%s)", sr.StopReason)
		for _, st := range sr.Steps {
			if st.RequestedRPS == sr.MaxRPS && st.Status == results.StatusOK {
				sf.MaxSidecarRPS, sf.P99AtMaxMs = st.SidecarRPS, st.LatencyMs.P99
			}
		}
		return
	}
	for _, st := range ok {
		if st.SidecarRPS > sf.MaxSidecarRPS {
			sf.MaxSidecarRPS, sf.MaxInboundRPS, sf.P99AtMaxMs = st.SidecarRPS, st.RequestedRPS, st.LatencyMs.P99
			sf.MaxBasis = "highest valid step (no search: the true maximum may be higher)"
		}
	}
}

// throttlingStart is the lowest sidecar RPS at which a step was throttled.
func throttlingStart(steps []results.Step) float64 {
	first := 0.0
	for _, st := range steps {
		if st.Status == results.StatusPending || st.Status == results.StatusFailed || st.ThrottledRatio < ThrottleThreshold {
			continue
		}
		if first == 0 || st.SidecarRPS < first {
			first = st.SidecarRPS
		}
	}
	return first
}

func fitCPU(steps []results.Step) (*CPUFit, error) {
	var rates, xs, ys []float64
	for _, st := range steps {
		rates = append(rates, st.RequestedRPS)
		xs = append(xs, st.SidecarRPS)
		ys = append(ys, st.ProxyCPUCores)
	}
	if len(model.DistinctValues(rates)) < 2 {
		return nil, fmt.Errorf("%w: %d valid step(s) at %d rate(s), need 2 rates", model.ErrTooFewPoints, len(steps), len(model.DistinctValues(rates)))
	}
	line, err := model.FitLine(xs, ys)
	if err != nil {
		return nil, err
	}
	f := &CPUFit{Points: line.N, IdleCores: line.Intercept, IdleCoresCI: known(line.InterceptCI),
		CoresPerKRPS: line.Slope * 1000, CoresPerKRPSCI: known(line.SlopeCI * 1000), R2: line.R2, line: line}
	if held, err := model.LeaveOneRateOut(rates, xs, ys); err == nil {
		f.HeldOut, f.MaxHeldOutErr = held, model.MaxRelError(held)
	}
	return f, nil
}

// known turns the NaN of an interval that cannot be computed (fewer than
// 3 points) into nil: JSON has no NaN.
func known(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

func fitMemory(steps []results.Step) MemoryFit {
	var xs, ys []float64
	for _, st := range steps {
		if st.MemoryWorkingSetBytes > 0 {
			xs, ys = append(xs, float64(st.Concurrency)), append(ys, float64(st.MemoryWorkingSetBytes))
		}
	}
	m := MemoryFit{Points: len(xs)}
	line, err := model.FitLine(xs, ys)
	if err != nil {
		m.BaseBytes = model.Median(ys)
		m.Note = "one worker count swept: no per-worker term"
		return m
	}
	m.BaseBytes, m.PerWorkerBytes, m.R2 = line.At(1), math.Max(0, line.Slope), line.R2
	return m
}

func compare(measured float64, refs []profiles.Profile) []Comparison {
	var out []Comparison
	for _, p := range refs {
		if p.Component != "sidecar" {
			continue
		}
		out = append(out, Comparison{Profile: p.Name, IstioVersions: p.Provenance.IstioVersions, CoresPerKRPS: p.CPU.CoresPerKRPS, Ratio: measured / p.CPU.CoresPerKRPS})
	}
	return out
}

// MeasuredSettings are the fitted settings as sizing's recommendation reads them.
func (r *Report) MeasuredSettings() []sizing.MeasuredSetting {
	var out []sizing.MeasuredSetting
	for _, s := range r.Settings {
		if s.CPU == nil {
			continue
		}
		out = append(out, sizing.MeasuredSetting{
			Setting:     s.Setting,
			Cost:        model.CPUCost{IdleCores: math.Max(0, s.CPU.IdleCores), CoresPerKRPS: s.CPU.CoresPerKRPS},
			CapacityRPS: s.MaxSidecarRPS, CapacityBasis: s.MaxBasis, P99AtCapacityMs: s.P99AtMaxMs,
			ThrottledFromRPS: s.ThrottlingFromRPS, FitError: s.CPU.MaxHeldOutErr,
		})
	}
	return out
}

// Usable says whether the fit uses a step: valid, with traffic through the
// proxy and its CPU measured.
func Usable(st results.Step) bool {
	return st.Status == results.StatusOK && st.SidecarRPS > 0 && st.ProxyCPUCores > 0
}

// ForSetting is the fit of s, or nil: s was not swept, or r is nil (a sweep
// that could not be fitted).
func (r *Report) ForSetting(s results.Setting) *SettingFit {
	if r == nil {
		return nil
	}
	for i := range r.Settings {
		if r.Settings[i].Setting == s {
			return &r.Settings[i]
		}
	}
	return nil
}

func okSteps(steps []results.Step) []results.Step { return filter(steps, Usable) }

func unthrottled(steps []results.Step) []results.Step {
	return filter(steps, func(st results.Step) bool { return st.ThrottledRatio < ThrottleThreshold })
}

func filter(steps []results.Step, keep func(results.Step) bool) []results.Step {
	var out []results.Step
	for _, st := range steps {
		if keep(st) {
			out = append(out, st)
		}
	}
	return out
}

func values(steps []results.Step, f func(results.Step) float64) []float64 {
	out := make([]float64, 0, len(steps))
	for _, st := range steps {
		out = append(out, f(st))
	}
	return out
}

func skipReasons(settings []SettingFit) string {
	var out []string
	for _, s := range settings {
		if s.Skipped != "" {
			out = append(out, s.Skipped)
		}
	}
	if len(out) > 3 {
		out = append(out[:3], fmt.Sprintf("and %d more", len(out)-3))
	}
	return fmt.Sprint(out)
}
