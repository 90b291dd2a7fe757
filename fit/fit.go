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
	Proxy       results.Proxy `json:"proxy"`
	Backend     string        `json:"backend"`
	SweepStatus string        `json:"sweep_status"`
	StepsDone   int           `json:"steps_done"`
	StepsTotal  int           `json:"steps_total"`
	// StandIn is set when the measured proxy is not Envoy: which figures
	// describe it, and which come from Envoy's model instead.
	StandIn            *StandIn         `json:"stand_in,omitempty"`
	RequestsPerInbound float64          `json:"requests_per_inbound"`
	Settings           []SettingFit     `json:"settings"`
	Overall            CPUFit           `json:"overall"`
	Memory             MemoryFit        `json:"memory"`
	Comparison         []Comparison     `json:"reference_comparison"`
	Profile            profiles.Profile `json:"profile"`
	Warnings           []string         `json:"warnings"`
}

// StandIn says what a stand-in's figures are.
type StandIn struct {
	Proxy string `json:"proxy"`
	// Describes lists the figures measured on the stand-in.
	Describes []string `json:"describes_stand_in"`
	// FromEnvoyModel lists the figures taken from Envoy's published model
	// instead of the stand-in's measurements.
	FromEnvoyModel []string `json:"from_envoy_model"`
	Note           string   `json:"note"`
}

// CPUFit is proxy CPU (cores) against sidecar RPS: the line and the concave
// curve, each judged by leave-one-rate-out, and the one chosen.
type CPUFit struct {
	Points int `json:"points"`
	Rates  int `json:"rates"`
	// Repeats is the median number of steps per rate.
	Repeats int        `json:"repeats"`
	Models  []ModelFit `json:"models"`
	// Chosen names the model sizing uses, and ChoiceReason why.
	Chosen       string `json:"chosen_model"`
	ChoiceReason string `json:"chosen_model_reason"`
}

// ModelFit is one cost model fitted to a setting's steps.
type ModelFit struct {
	model.CostFit
	Model string `json:"model"`
	// CI95 are the 95% confidence half-widths of the idle cost, the
	// coefficient and the exponent (nil: held at a bound, or no degree
	// of freedom left).
	IdleCoresCI    *float64 `json:"idle_cores_ci95,omitempty"`
	CoresPerKRPSCI *float64 `json:"cores_per_krps_ci95,omitempty"`
	ExponentCI     *float64 `json:"exponent_ci95,omitempty"`
	// HeldOut are the leave-one-rate-out predictions; Judged is false when
	// too few rates leave none.
	HeldOut       []model.HeldOut `json:"leave_one_rate_out,omitempty"`
	MaxHeldOutErr float64         `json:"max_held_out_error"`
	Judged        bool            `json:"judged"`
	// NotFitted says why the model has no fit (then only Model is set).
	NotFitted string `json:"not_fitted,omitempty"`
}

// SettingFit is one setting's figures.
type SettingFit struct {
	results.Setting
	CPU *CPUFit `json:"cpu,omitempty"`
	// Skipped says why there is no CPU fit.
	Skipped string `json:"skipped,omitempty"`
	// MaxSidecarRPS is the capacity: a max-throughput search's result, or
	// without one the highest valid step, which is only a lower bound.
	MaxSidecarRPS     float64       `json:"max_sidecar_rps"`
	MaxInboundRPS     float64       `json:"max_inbound_rps"`
	MaxBasis          string        `json:"max_basis"`
	MaxIsLowerBound   bool          `json:"max_is_lower_bound"`
	P99AtMaxMs        float64       `json:"p99_at_max_ms"`
	ThrottlingFromRPS float64       `json:"throttling_from_sidecar_rps"` // 0: not seen
	LatencyAdded      []RateLatency `json:"latency_added"`
	MemoryBytes       float64       `json:"memory_working_set_bytes"`
	// DefaultWorkers is what Istio and Envoy would run at this CPU limit
	// without the concurrency annotation.
	DefaultWorkers sizing.DefaultConcurrency `json:"workers_without_annotation"`
}

// RateLatency is the latency added over the baseline at one rate: from
// each call's actual send (service time) and, where both were recorded,
// from its intended send time (free of coordinated omission).
type RateLatency struct {
	RequestedRPS       float64  `json:"requested_rps"`
	SidecarRPS         float64  `json:"sidecar_rps"`
	P50AddedMs         float64  `json:"p50_added_ms"`
	P99AddedMs         float64  `json:"p99_added_ms"`
	IntendedP99AddedMs *float64 `json:"intended_p99_added_ms,omitempty"`
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
	// Ratio is the measured line's slope / the reference's.
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
	rec = rec.WithHopsJudged()
	r := &Report{Proxy: rec.Proxy, Backend: rec.Backend, SweepStatus: rec.Status, StepsTotal: len(rec.Steps), Warnings: []string{}}
	var all, costed []results.Step
	for _, st := range rec.Steps {
		if st.Done() {
			r.StepsDone++
		}
		all = append(all, st)
	}
	costed = append(costed, all...)
	// Search steps shorter than the grid's scatter more: they give the
	// capacity, throttling and latency, but the cost curves and their
	// intervals are fitted on steps of one length.
	shortSearch := rec.Options.SearchDurationSeconds > 0 && rec.Options.SearchDurationSeconds != rec.Options.DurationSeconds
	for _, s := range rec.Searches {
		all = append(all, s.Steps...)
		if !shortSearch {
			costed = append(costed, s.Steps...)
		}
	}
	if r.StepsDone < r.StepsTotal {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the sweep is %s: %d of %d steps done; fitting what is done", rec.Status, r.StepsDone, r.StepsTotal))
	}
	r.Warnings = append(r.Warnings, rec.HopsWarnings()...)
	r.RequestsPerInbound = model.Median(values(okSteps(all), func(s results.Step) float64 { return s.ProxyRequestsPerInbound }))
	for _, s := range settingsOf(rec) {
		r.Settings = append(r.Settings, fitSetting(s, all, costed, rec.Searches, r.RequestsPerInbound))
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
	overall, err := fitCPU(unthrottled(okSteps(costed)))
	if errors.Is(err, model.ErrNoGrowth) {
		return nil, fmt.Errorf("the unthrottled valid steps: %w in these measurements, so they cannot size anything", model.ErrNoGrowth)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: the unthrottled valid steps: %v", ErrNothingToFit, err)
	}
	r.Overall = *overall
	if rec.Proxy.StandsIn() {
		r.StandIn = &StandIn{Proxy: rec.Proxy.Name,
			Describes:      []string{"CPU and its curves", "capacity", "throttling", "latency added", "working set"},
			FromEnvoyModel: []string{"memory request", "memory limit"},
			Note: fmt.Sprintf("measured on %s standing in for Envoy: its CPU, capacity and latency describe %s, not an Istio sidecar; memory follows Envoy's model for the configuration (clusters, endpoints) and workers, never %s's working set",
				rec.Proxy.Name, rec.Proxy.Name, rec.Proxy.Name)}
	}
	r.Memory = fitMemory(okSteps(all))
	r.Comparison = compare(r.Overall.Line().Cost.CoresPerKRPS, refs)
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

func fitSetting(s results.Setting, all, costed []results.Step, searches []results.Search, perInbound float64) SettingFit {
	sf := SettingFit{Setting: s, LatencyAdded: []RateLatency{}, DefaultWorkers: sizing.DefaultWorkers(s.CPULimitMillicores)}
	at := func(st results.Step) bool { return st.Setting == s }
	mine := filter(all, at)
	ok := okSteps(mine)
	if cpu, err := fitCPU(okSteps(filter(costed, at))); err != nil {
		sf.Skipped = fmt.Sprintf("%s: %v", s.Key(), err)
	} else {
		sf.CPU = cpu
	}
	sf.maxThroughput(s, ok, searches, perInbound)
	sf.ThrottlingFromRPS = throttlingStart(mine)
	for _, st := range ok {
		if st.LatencyAddedMs != nil {
			l := RateLatency{RequestedRPS: st.RequestedRPS, SidecarRPS: st.SidecarRPS, P50AddedMs: st.LatencyAddedMs.P50, P99AddedMs: st.LatencyAddedMs.P99}
			if st.IntendedLatencyAddedMs != nil {
				p99 := st.IntendedLatencyAddedMs.P99
				l.IntendedP99AddedMs = &p99
			}
			sf.LatencyAdded = append(sf.LatencyAdded, l)
		}
	}
	sort.Slice(sf.LatencyAdded, func(i, j int) bool { return sf.LatencyAdded[i].SidecarRPS < sf.LatencyAdded[j].SidecarRPS })
	sf.MemoryBytes = model.Median(values(ok, func(st results.Step) float64 { return float64(st.MemoryWorkingSetBytes) }))
	return sf
}

// maxThroughput takes the search's maximum where there was one that also
// saw a rate fail; otherwise the most the setting was shown to carry is a
// lower bound: the search's highest passing rate, or the highest valid step.
func (sf *SettingFit) maxThroughput(s results.Setting, ok []results.Step, searches []results.Search, perInbound float64) {
	for _, sr := range searches {
		if sr.Setting != s || sr.MaxRPS <= 0 {
			continue
		}
		sf.MaxInboundRPS, sf.MaxSidecarRPS = sr.MaxRPS, sr.MaxRPS*perInbound
		sf.MaxBasis = fmt.Sprintf("max-throughput search (%s)", sr.StopReason)
		if sr.LowestFailRPS <= 0 {
			sf.MaxIsLowerBound = true
			sf.MaxBasis = fmt.Sprintf("the search's highest rate, stopped before any rate failed (%s)", sr.StopReason)
		}
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
			sf.MaxIsLowerBound = true
			sf.MaxBasis = "the highest valid step, no search"
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

// fitCPU fits the line and the concave curve to the steps, judges each by
// leave-one-rate-out, and chooses.
func fitCPU(steps []results.Step) (*CPUFit, error) {
	var rates, xs, ys []float64
	for _, st := range steps {
		rates = append(rates, st.RequestedRPS)
		xs = append(xs, st.SidecarRPS)
		ys = append(ys, st.ProxyCPUCores)
	}
	distinct := len(model.DistinctValues(rates))
	if distinct < 2 {
		return nil, fmt.Errorf("%w: %d valid step(s) at %d rate(s), need 2 rates", model.ErrTooFewPoints, len(steps), distinct)
	}
	f := &CPUFit{Points: len(steps), Rates: distinct, Repeats: int(math.Round(float64(len(steps)) / float64(distinct)))}
	stepSeconds := model.Median(values(steps, func(st results.Step) float64 { return st.DurationSeconds }))
	for _, name := range []string{model.ModelLine, model.ModelConcave} {
		mf := fitModel(name, rates, xs, ys)
		if mf.NotFitted == "" && mf.Cost.Uncertainty != nil {
			mf.Cost.Uncertainty.StepSeconds, mf.Cost.Uncertainty.Rates = stepSeconds, distinct
		}
		f.Models = append(f.Models, mf)
	}
	if line := f.Line(); line.NotFitted != "" {
		return nil, errors.New(line.NotFitted)
	}
	f.choose()
	return f, nil
}

func fitModel(name string, rates, xs, ys []float64) ModelFit {
	mf := ModelFit{Model: name}
	cf, err := model.FitCost(name, xs, ys)
	if err != nil {
		mf.NotFitted = err.Error()
		if errors.Is(err, model.ErrNoGrowth) {
			mf.NotFitted = fmt.Sprintf("%s: %v", model.ErrNoGrowth, err)
		}
		return mf
	}
	mf.CostFit = cf
	mf.IdleCoresCI, mf.CoresPerKRPSCI, mf.ExponentCI = confidence(cf.Cost, 0), confidence(cf.Cost, 1), confidence(cf.Cost, 2)
	if held, err := model.LeaveOneCostRateOut(name, rates, xs, ys); err == nil {
		mf.HeldOut, mf.MaxHeldOutErr, mf.Judged = held, model.MaxRelError(held), true
	}
	return mf
}

// confidence is the 95% confidence half-width of parameter i from the
// fit's covariance, or nil when it was not fitted freely.
func confidence(c model.CPUCost, i int) *float64 {
	u := c.Uncertainty
	if u == nil || u.Covariance[i][i] <= 0 {
		return nil
	}
	half := model.TQuantile95(u.DoF) * math.Sqrt(u.Covariance[i][i])
	return &half
}

// heldOutTie is how much smaller the concave curve's held-out error must be
// to be chosen: half a percentage point, below which the two predict
// equally well and the simpler line stands.
const heldOutTie = 0.005

// choose takes the model with the smaller largest held-out error; the line
// when they tie, when the concave fit is the line (its exponent at 1), or
// when the concave curve cannot be judged (it needs a rate more than the
// line): a curve is not preferred on faith.
func (f *CPUFit) choose() {
	line, concave := f.Line(), f.Concave()
	f.Chosen = model.ModelLine
	switch {
	case !line.Judged:
		f.ChoiceReason = fmt.Sprintf("the line, not judged: %d rates leave none to hold out (leave-one-rate-out needs 3)", f.Rates)
	case concave.NotFitted != "":
		f.ChoiceReason = fmt.Sprintf("the line (held-out error %.1f%%): the concave curve could not be fitted (%s)", 100*line.MaxHeldOutErr, concave.NotFitted)
	case !concave.Judged:
		f.ChoiceReason = fmt.Sprintf("the line (held-out error %.1f%%): the concave curve needs 4 rates to be judged on held-out rates, %d measured", 100*line.MaxHeldOutErr, f.Rates)
	case concave.Cost.Model() != model.ModelConcave:
		f.ChoiceReason = fmt.Sprintf("the line (held-out error %.1f%%): the concave fit's exponent went to 1, the line itself", 100*line.MaxHeldOutErr)
	case concave.MaxHeldOutErr < line.MaxHeldOutErr-heldOutTie:
		f.Chosen = model.ModelConcave
		f.ChoiceReason = fmt.Sprintf("the concave curve: held-out error %.1f%% against the line's %.1f%%", 100*concave.MaxHeldOutErr, 100*line.MaxHeldOutErr)
	default:
		f.ChoiceReason = fmt.Sprintf("the line: held-out error %.1f%%, the concave curve's %.1f%% is no better", 100*line.MaxHeldOutErr, 100*concave.MaxHeldOutErr)
	}
}

// Line is the line's fit.
func (f *CPUFit) Line() *ModelFit { return f.byName(model.ModelLine) }

// Concave is the concave curve's fit.
func (f *CPUFit) Concave() *ModelFit { return f.byName(model.ModelConcave) }

// ChosenFit is the chosen model's fit.
func (f *CPUFit) ChosenFit() *ModelFit { return f.byName(f.Chosen) }

func (f *CPUFit) byName(name string) *ModelFit {
	for i := range f.Models {
		if f.Models[i].Model == name {
			return &f.Models[i]
		}
	}
	return &ModelFit{Model: name, NotFitted: "not fitted"}
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
		if p.Component != "sidecar" || p.CPU.CPUCost.Model() != model.ModelLine {
			continue
		}
		out = append(out, Comparison{Profile: p.Name, IstioVersions: p.Provenance.IstioVersions, CoresPerKRPS: p.CPU.CoresPerKRPS, Ratio: measured / p.CPU.CoresPerKRPS})
	}
	return out
}

// MeasuredSettings are the fitted settings as sizing's recommendation reads
// them: each with its chosen curve and that curve's uncertainty.
func (r *Report) MeasuredSettings() []sizing.MeasuredSetting {
	var out []sizing.MeasuredSetting
	for _, s := range r.Settings {
		if s.CPU == nil {
			continue
		}
		chosen := s.CPU.ChosenFit()
		out = append(out, sizing.MeasuredSetting{
			Setting: s.Setting, Cost: chosen.Cost,
			CapacityRPS: s.MaxSidecarRPS, CapacityBasis: s.MaxBasis, CapacityIsLowerBound: s.MaxIsLowerBound, P99AtCapacityMs: s.P99AtMaxMs,
			ThrottledFromRPS: s.ThrottlingFromRPS, FitError: chosen.MaxHeldOutErr,
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
