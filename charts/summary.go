package charts

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/proxysizer/proxysizer/fit"
	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/results"
)

// Summary is the report's text, computed once for report.html and report.md.
type Summary struct {
	Proxy        string // ProxyLabel
	ProxyVersion string // as the proxy printed it
	Backend      string
	Status       string
	StepsDone    int
	StepsTotal   int
	StartedAt    string
	Environment  []Fact
	Grid         []Fact
	// NotFitted says why there are no fits and no recommendation.
	NotFitted   string
	Fits        []FitRow
	Overall     *FitRow
	Memory      string
	Comparisons []ComparisonRow
	Card        *Card
	Warnings    []string
	Reproduce   string
}

// Fact is one labelled value.
type Fact struct{ Label, Value string }

// FitRow is one setting's fit, formatted.
type FitRow struct {
	Setting, Points, IdleCores, CoresPerKRPS, R2, LOO, MaxSidecarRPS, MaxBasis, ThrottledFrom, Memory string
	Skipped                                                                                           string
}

// ComparisonRow sets the measured cost beside one of Istio's published figures.
type ComparisonRow struct{ Profile, IstioVersions, Published, Ratio string }

// Card is the recommendation.
type Card struct {
	Target     string
	TargetNote string
	Chosen     string
	ChosenWhy  string
	RunnerUp   string
	RunnerWhy  string
	NoneMeets  string
	NotChosen  []string
	PlanCmd    string
	Annotation []Fact // the figures to put in the manifests
}

// Summarize formats in for the report.
func Summarize(in Input) Summary {
	rec := in.Sweep
	s := Summary{Proxy: ProxyLabel(rec.Proxy), ProxyVersion: rec.Proxy.Version, Backend: rec.Backend, Status: rec.Status,
		StepsTotal: len(rec.Steps), StartedAt: rec.StartedAt.UTC().Format(time.RFC3339), NotFitted: in.WhyNotFitted(),
		Reproduce: in.ReproduceCommand, Warnings: in.Warnings()}
	for _, st := range rec.Steps {
		if st.Done() {
			s.StepsDone++
		}
	}
	env := rec.Environment
	s.Environment = []Fact{
		{"host", fmt.Sprintf("%s, %d cores, kernel %s", orDash(env.Hostname), env.Cores, orDash(env.Kernel))},
		{"cgroups", fmt.Sprintf("%s, CPU limits enforced: %t", env.CgroupVersion, env.CPULimitsEnforced)},
		{"placement", orDash(env.Placement.Note)},
	}
	if c := env.Cluster; c != nil {
		s.Environment = append(s.Environment, Fact{"cluster", fmt.Sprintf("Kubernetes %s, %s/%s, metrics from %s", c.ServerVersion, c.Namespace, c.Deployment, c.MetricsSource)})
	}
	for _, n := range env.Notes {
		s.Environment = append(s.Environment, Fact{"note", n})
	}
	o := rec.Options
	s.Grid = []Fact{
		{"concurrency", joinInts(o.Concurrency)},
		{"CPU limits", joinLimits(o.CPULimitMillicores)},
		{"rates", ratesText(o)},
		{"load", fmt.Sprintf("%s, %d connections, %s payload, %gs per step after %gs warm-up", o.Protocol, o.Connections, payloadText(o.PayloadBytes), o.DurationSeconds, o.WarmupSeconds)},
		{"fan-out", fmt.Sprintf("%d outbound call(s) per inbound request: %d requests through the sidecar per inbound call", o.OutboundPerRequest, 1+o.OutboundPerRequest)},
	}
	if o.FindMax {
		s.Grid = append(s.Grid, Fact{"search", fmt.Sprintf("max-throughput search per setting, p99 SLO %s", sloText(o.SLOP99Ms))})
	}
	if in.Fit != nil {
		s.fits(in.Fit)
		s.Card = card(in)
	}
	return s
}

func (s *Summary) fits(r *fit.Report) {
	for _, sf := range r.Settings {
		key := sf.Setting
		row := FitRow{Setting: SettingLabel(key), MaxSidecarRPS: fmt.Sprintf("%.0f", sf.MaxSidecarRPS), MaxBasis: sf.MaxBasis,
			ThrottledFrom: "not seen", Memory: mebibytes(sf.MemoryBytes)}
		if sf.ThrottlingFromRPS > 0 {
			row.ThrottledFrom = fmt.Sprintf("%.0f RPS", sf.ThrottlingFromRPS)
		}
		if sf.CPU == nil {
			row.Skipped = sf.Skipped
		} else {
			row.fill(sf.CPU)
		}
		s.Fits = append(s.Fits, row)
	}
	overall := FitRow{Setting: "overall (unthrottled valid steps)"}
	overall.fill(&r.Overall)
	s.Overall = &overall
	s.Memory = fmt.Sprintf("working set %s at one worker, %s per extra worker", mebibytes(r.Memory.BaseBytes), mebibytes(r.Memory.PerWorkerBytes))
	if r.Memory.Note != "" {
		s.Memory += " (" + r.Memory.Note + ")"
	}
	for _, c := range r.Comparison {
		s.Comparisons = append(s.Comparisons, ComparisonRow{c.Profile, c.IstioVersions, fmt.Sprintf("%.2f", c.CoresPerKRPS), fmt.Sprintf("%.2fx", c.Ratio)})
	}
}

func (row *FitRow) fill(f *fit.CPUFit) {
	row.Points = strconv.Itoa(f.Points)
	row.IdleCores = PlusMinus(f.IdleCores, f.IdleCoresCI)
	row.CoresPerKRPS = PlusMinus(f.CoresPerKRPS, f.CoresPerKRPSCI)
	row.R2 = fmt.Sprintf("%.3f", f.R2)
	row.LOO = "needs 3 rates"
	if len(f.HeldOut) > 0 {
		row.LOO = fmt.Sprintf("%.1f%%", f.MaxHeldOutErr*100)
	}
}

func card(in Input) *Card {
	r := in.Recommendation
	c := &Card{Target: fmt.Sprintf("%g inbound RPS per pod: %.0f sidecar RPS, %.0f at the peak with headroom", in.TargetInboundRPS, r.TargetSidecarRPS, r.PeakSidecarRPS),
		TargetNote: in.TargetAssumed, NoneMeets: r.NoneMeets, NotChosen: r.Rejected, PlanCmd: in.PlanCommand}
	if r.SLOP99Ms > 0 {
		c.Target += fmt.Sprintf(", p99 within %g ms", r.SLOP99Ms)
	}
	if b := r.Best; b != nil {
		c.Chosen = fmt.Sprintf("concurrency %d, CPU request %s, CPU limit %s", b.Concurrency, quantity.Millicores(b.CPURequestMillicores), b.LimitString())
		c.ChosenWhy = b.Reason
		// The full plan's annotations: setting only the CPU ones would make
		// Istio drop the memory request and limit.
		for _, k := range slices.Sorted(maps.Keys(in.Annotations)) {
			c.Annotation = append(c.Annotation, Fact{k, strings.TrimSpace(in.Annotations[k])})
		}
	}
	if ru := r.RunnerUp; ru != nil {
		c.RunnerUp = fmt.Sprintf("concurrency %d, CPU request %s, CPU limit %s", ru.Concurrency, quantity.Millicores(ru.CPURequestMillicores), ru.LimitString())
		c.RunnerWhy = ru.Reason
	}
	return c
}

// PlusMinus writes a value with its 95% confidence half-width (NaN: fewer
// than 3 points, no interval).
func PlusMinus(v float64, ci *float64) string {
	if ci == nil {
		return fmt.Sprintf("%.4f", v)
	}
	return fmt.Sprintf("%.4f ± %.4f", v, *ci)
}

func joinInts(xs []int) string {
	var out []string
	for _, x := range xs {
		out = append(out, strconv.Itoa(x))
	}
	return strings.Join(out, ",")
}

func joinFloats(xs []float64) string {
	var out []string
	for _, x := range xs {
		out = append(out, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return strings.Join(out, ",")
}

func joinLimits(xs []int64) string {
	var out []string
	for _, x := range xs {
		out = append(out, results.LimitString(x))
	}
	return strings.Join(out, ",")
}

func ratesText(o results.Options) string {
	if o.RatesAreFractions {
		return joinFloats(o.Rates) + " of each setting's maximum"
	}
	return joinFloats(o.Rates) + " inbound RPS"
}

func payloadText(n int) string {
	if n == 0 {
		return "no (GET)"
	}
	return fmt.Sprintf("%d-byte POST", n)
}

func sloText(ms float64) string {
	if ms <= 0 {
		return "none"
	}
	return fmt.Sprintf("%g ms", ms)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

func mebibytes(b float64) string { return fmt.Sprintf("%.1f MiB", b/mib) }
