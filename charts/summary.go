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
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
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
	// StandIn says, for a proxy measured in Envoy's place, which figures
	// describe it and which come from Envoy's model; empty for Envoy.
	StandIn string
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

// FitRow is one setting's fits and capacity, formatted.
type FitRow struct {
	Setting, Points string
	// Line and Concave are the two models' formulas with their held-out
	// errors; Chosen names the model sizing uses and why.
	Line, LineLOO, Concave, ConcaveLOO, Chosen, ChosenWhy string
	Capacity, CapacityBasis, ThrottledFrom, WorkingSet    string
	// DefaultWorkers is what Istio and Envoy run at this limit without
	// the concurrency annotation.
	DefaultWorkers string
	Skipped        string
}

// ComparisonRow sets the measured cost beside one of Istio's published figures.
type ComparisonRow struct{ Profile, IstioVersions, Published, Ratio string }

// Card is the recommendation.
type Card struct {
	Target     string
	TargetNote string
	Chosen     string
	ChosenWhy  string
	// Request is the chosen CPU request with the interval behind it.
	Request string
	// DefaultWorkers is what Istio and Envoy would run for the chosen
	// limit if the concurrency annotation were absent.
	DefaultWorkers    string
	RunnerUp          string
	RunnerWhy         string
	Indistinguishable []string
	TieRule           string
	NoneMeets         string
	NotChosen         []string
	PlanCmd           string
	Annotation        []Fact // the figures to put in the manifests
	AnnotationHeading string
	AnnotationNote    string
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
	if in.Fit != nil && in.Fit.StandIn != nil {
		si := in.Fit.StandIn
		s.StandIn = fmt.Sprintf("%s. Figures that describe %s: %s. From Envoy's model: %s.", si.Note, si.Proxy, strings.Join(si.Describes, ", "), strings.Join(si.FromEnvoyModel, ", "))
	} else if rec.Proxy.StandsIn() {
		s.StandIn = fmt.Sprintf("measured on %s standing in for Envoy: every figure here describes %s, not an Istio sidecar", rec.Proxy.Name, rec.Proxy.Name)
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
		{"load", fmt.Sprintf("%s, %s, %s payload, %gs per step after %gs warm-up", o.Protocol, connectionsText(o.Connections), payloadText(o.PayloadBytes), o.DurationSeconds, o.WarmupSeconds)},
		{"arrival process", ArrivalText(o)},
		{"fan-out", fmt.Sprintf("%d outbound call(s) per inbound request: %d requests through the sidecar per inbound call", o.OutboundPerRequest, 1+o.OutboundPerRequest)},
	}
	if o.FindMax {
		search := fmt.Sprintf("max-throughput search per setting, p99 SLO %s", sloText(o.SLOP99Ms))
		if o.SearchDurationSeconds > 0 {
			search += fmt.Sprintf(", %gs search steps", o.SearchDurationSeconds)
		}
		s.Grid = append(s.Grid, Fact{"search", search})
	}
	if in.Fit != nil {
		s.fits(in.Fit)
		s.Card = card(in)
	}
	return s
}

func (s *Summary) fits(r *fit.Report) {
	workingSet := "working set"
	if r.StandIn != nil {
		workingSet = r.StandIn.Proxy + "'s working set (not Envoy's)"
	}
	for _, sf := range r.Settings {
		row := FitRow{Setting: SettingLabel(sf.Setting), Capacity: CapacityText(sf), CapacityBasis: sf.MaxBasis,
			ThrottledFrom: "not seen", WorkingSet: mebibytes(sf.MemoryBytes), DefaultWorkers: sf.DefaultWorkers.Text}
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
	s.Memory = fmt.Sprintf("%s %s at one worker, %s per extra worker", workingSet, mebibytes(r.Memory.BaseBytes), mebibytes(r.Memory.PerWorkerBytes))
	if r.Memory.Note != "" {
		s.Memory += " (" + r.Memory.Note + ")"
	}
	if r.StandIn != nil {
		s.Memory += fmt.Sprintf("; the memory request and limit come from Envoy's model instead (%s)", profiles.DefaultName)
	}
	for _, c := range r.Comparison {
		s.Comparisons = append(s.Comparisons, ComparisonRow{c.Profile, c.IstioVersions, fmt.Sprintf("%.2f", c.CoresPerKRPS), fmt.Sprintf("%.2fx", c.Ratio)})
	}
}

// CapacityText is a setting's capacity, labelled a lower bound unless a
// search measured it.
func CapacityText(sf fit.SettingFit) string {
	if sf.MaxIsLowerBound {
		return fmt.Sprintf("≥ %.0f (lower bound)", sf.MaxSidecarRPS)
	}
	return fmt.Sprintf("%.0f (searched)", sf.MaxSidecarRPS)
}

func (row *FitRow) fill(f *fit.CPUFit) {
	row.Points = fmt.Sprintf("%d (%d rates)", f.Points, f.Rates)
	row.Line, row.LineLOO = modelText(f.Line())
	row.Concave, row.ConcaveLOO = modelText(f.Concave())
	row.Chosen, row.ChosenWhy = f.Chosen, f.ChoiceReason
}

// ModelText is a model's formula, with the 95% confidence half-width of
// its coefficient, and its largest held-out error.
func modelText(m *fit.ModelFit) (formula, heldOut string) {
	if m.NotFitted != "" {
		return "not fitted: " + m.NotFitted, "-"
	}
	formula = m.Cost.Formula()
	if m.CoresPerKRPSCI != nil {
		formula += fmt.Sprintf(" (coefficient ± %.4f)", *m.CoresPerKRPSCI)
	}
	heldOut = "needs more rates"
	if m.Judged {
		heldOut = fmt.Sprintf("%.1f%%", m.MaxHeldOutErr*100)
	}
	return formula, heldOut
}

func card(in Input) *Card {
	r := in.Recommendation
	c := &Card{Target: fmt.Sprintf("%g inbound RPS per pod: %.0f sidecar RPS, %.0f at the peak with headroom", in.TargetInboundRPS, r.TargetSidecarRPS, r.PeakSidecarRPS),
		TargetNote: in.TargetAssumed, NoneMeets: r.NoneMeets, NotChosen: r.Rejected, PlanCmd: in.PlanCommand,
		Indistinguishable: r.Indistinguishable, TieRule: r.TieRule, AnnotationNote: in.AnnotationsNote, AnnotationHeading: AnnotationsHeading(in.Annotations)}
	if r.SLOP99Ms > 0 {
		c.Target += fmt.Sprintf(", p99 within %g ms", r.SLOP99Ms)
	}
	if b := r.Best; b != nil {
		c.Chosen = fmt.Sprintf("concurrency %d, CPU request %s, CPU limit %s", b.Concurrency, quantity.Millicores(b.CPURequestMillicores), b.LimitString())
		c.ChosenWhy = b.Reason
		c.Request = RequestText(b.CPURequest)
		c.DefaultWorkers = "without the concurrency annotation: " + b.DefaultWorkers.Text
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

// AnnotationsHeading says what the annotation block sets: all four
// resources, or three when no CPU limit is recommended (once any is set,
// Istio merges none of the others from the mesh defaults).
func AnnotationsHeading(annotations map[string]string) string {
	if _, limited := annotations[sizing.AnnotationProxyCPULimit]; limited {
		return "all four resources: Istio drops any not annotated"
	}
	return "no CPU limit, on purpose: Istio merges none of the resources not annotated"
}

// RequestText is a CPU request with what it rests on: "160m: the upper end
// of the 95% prediction interval 110m-160m; point estimate 135m".
func RequestText(r sizing.CPURequest) string {
	if !r.HasInterval {
		return fmt.Sprintf("%s: the point estimate (no interval)", quantity.Millicores(r.CPURequestMillicores))
	}
	return fmt.Sprintf("%s: the upper end of the 95%% prediction interval %s at the peak; point estimate %.0fm",
		quantity.Millicores(r.CPURequestMillicores), sizing.Millicores(r.Interval), r.PointMillicores)
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

// ArrivalText names the load's arrival process and what it stands for: the
// proxy's CPU per request depends on it as much as on the rate.
func ArrivalText(o results.Options) string {
	a := o.ArrivalProcess()
	switch {
	case a == "poisson":
		return "poisson: independent clients, the closest to production"
	case strings.HasPrefix(a, "burst:"):
		return a + ": calls sent together in bursts of " + strings.TrimPrefix(a, "burst:")
	case o.Arrival == "":
		return "uniform: evenly spaced (recorded before the arrival process was a choice)"
	}
	return "uniform: evenly spaced, fewer wake-ups of the proxy than independent clients cause"
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

// connectionsText is the recorded pool: 0 is one sized for each step's rate.
func connectionsText(n int) string {
	if n == 0 {
		return "connections sized for each step's rate"
	}
	return fmt.Sprintf("%d connections", n)
}
