package hpareplay

import (
	"fmt"
	"math"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/sizing"
)

// The three runs, in the report's order.
const (
	RunCurrent     = "current"
	RunRecommended = "recommended"
	RunReference   = "app-only reference"
)

// LoadModel says how every run's pods get their CPU.
const LoadModel = "each run runs its own pods and spreads the observed load over those it has ready, as a Service spreads requests: " +
	"per pod and container, CPU = idle + (observed total - idle x pods observed) / the run's ready pods, " +
	"the observed total being the CPU of the pods observed ready at that step; idle is 0 for the app " +
	"and the sidecar line's intercept for the sidecar (its CPU without load, which every pod keeps); " +
	"new pods are Pending for the pod start-up, then Ready; a scale-down removes the pods ready last"

// Request says what to replay on the observed history.
type Request struct {
	Namespace, HPA, Deployment string
	Controller                 hpasim.Controller
	// Spec is the HPA's spec as it is now; CPUMetric the index of its CPU
	// Resource metric with a utilisation target (-1: none).
	Spec      autoscalingv2.HorizontalPodAutoscalerSpec
	CPUMetric int
	// Recalculation is the HPA core's answer for these pods (nil when the
	// HPA needs none: it already targets the app container alone).
	Recalculation *sizing.HPA
	// SidecarBasis says where the sidecar's CPU at the app's target, which
	// the recalculation used, comes from; SidecarFromHistory that it is the
	// history's line (Observed.Sidecar) at the app's target.
	SidecarBasis       string
	SidecarFromHistory bool
	// Sidecar names the mesh's sidecar container ("" without one).
	Sidecar string
}

// Report is the three runs and what they mean.
type Report struct {
	Namespace  string        `json:"namespace"`
	HPA        string        `json:"hpa"`
	Deployment string        `json:"deployment"`
	Start      time.Time     `json:"start"`
	End        time.Time     `json:"end"`
	Step       time.Duration `json:"-"`
	Controller Controller    `json:"controller"`
	// Lifecycles says where the pods' lifecycles come from.
	Lifecycles      string        `json:"pod_lifecycles"`
	PodStartup      time.Duration `json:"-"`
	PodStartupBasis string        `json:"pod_startup_basis"`
	LoadModel       string        `json:"load_model"`
	Sidecar         *SidecarFit   `json:"sidecar_cpu_line,omitempty"`
	Recommendation  Recommended   `json:"recommendation"`
	Runs            []Run         `json:"runs"`
	Syncs           []SyncRow     `json:"syncs"`
	Reading         string        `json:"reading"`
	Notes           []string      `json:"notes"`
	// Queries are the PromQL expressions the history came from, by what
	// they read (set by whoever read it).
	Queries map[string]string `json:"queries,omitempty"`
	// Load is the observed load at each step, for the charts.
	Load []LoadRow `json:"-"`
}

// LoadRow is the CPU of the pods observed ready at one step, summed.
type LoadRow struct {
	At                time.Time
	AppMillicores     float64
	SidecarMillicores float64
	ReadyPods         int
}

// Controller is the controller settings the runs used, for the report.
type Controller struct {
	SyncPeriod              string  `json:"sync_period"`
	Tolerance               float64 `json:"tolerance"`
	DownscaleStabilization  string  `json:"downscale_stabilization"`
	CPUInitializationPeriod string  `json:"cpu_initialization_period"`
	InitialReadinessDelay   string  `json:"initial_readiness_delay"`
	Version                 string  `json:"kubernetes_version"`
	PodStartup              string  `json:"pod_startup"`
	Step                    string  `json:"step"`
}

// Recommended is the recommended run's target and where it comes from.
type Recommended struct {
	// TargetPercent is the Resource metric's target the run uses: the HPA
	// core's manifest target (the floor of the usage-aware target).
	TargetPercent int32 `json:"target_percent"`
	// OriginalTargetPercent and AppTargetMillicores: the HPA's target now,
	// taken as chosen for the app alone, and the app's CPU at it.
	OriginalTargetPercent int32   `json:"original_target_percent"`
	AppTargetMillicores   float64 `json:"app_target_millicores"`
	// SidecarAtAppTargetMillicores is the sidecar's CPU per pod when the
	// app is at its target, and its basis.
	SidecarAtAppTargetMillicores float64 `json:"sidecar_at_app_target_millicores"`
	SidecarBasis                 string  `json:"sidecar_basis"`
	SidecarFromHistory           bool    `json:"sidecar_from_history"`
	UsageAwarePercent            float64 `json:"usage_aware_target_percent"`
	// Manifest is the metric proxysizer's corrected HPA uses, and why.
	Manifest string `json:"manifest"`
}

// Run is one replay of the HPA on the observed load.
type Run struct {
	Name   string `json:"name"`
	Metric string `json:"metric"`
	// MinutesDiffering is the time its replicas differ from the
	// reference's; Above when it runs more pods, Below fewer.
	MinutesDiffering float64 `json:"minutes_differing"`
	MinutesAbove     float64 `json:"minutes_above_reference"`
	MinutesBelow     float64 `json:"minutes_below_reference"`
	// PodMinutes is the sum of its replicas over time, ExtraPodMinutes
	// that less the reference's.
	PodMinutes      float64 `json:"pod_minutes"`
	ExtraPodMinutes float64 `json:"extra_pod_minutes"`
	// FirstScaleUp is its first sync above the initial replicas (nil:
	// none); FirstScaleUpMinutesAfterReference how much later than the
	// reference's it came (negative: earlier; nil: one of them never
	// scaled up).
	FirstScaleUp                      *time.Time `json:"first_scale_up,omitempty"`
	FirstScaleUpMinutesAfterReference *float64   `json:"first_scale_up_minutes_after_reference,omitempty"`
	MaxReplicas                       int32      `json:"max_replicas"`
	// Differing are the intervals of its disagreement with the reference.
	Differing []Interval `json:"differing"`
	// Decisions are the controller's, one per sync.
	Decisions []hpasim.Decision `json:"-"`
}

// Interval is a stretch of syncs over which a run and the reference hold
// the same replicas, apart.
type Interval struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Replicas  int32     `json:"replicas"`
	Reference int32     `json:"reference"`
}

// SyncRow is every run's replicas after one sync.
type SyncRow struct {
	At          time.Time `json:"at"`
	Observed    int       `json:"observed_ready_pods"`
	Current     int32     `json:"current"`
	Recommended int32     `json:"recommended"`
	Reference   int32     `json:"reference"`
}

// Replay replays the current, the recommended and the app-only reference
// HPA on the observed load.
func Replay(o *Observed, in Request) (*Report, error) {
	if len(o.Times) < 2 {
		return nil, fmt.Errorf("the window holds fewer than two steps")
	}
	start, end := o.Times[0], o.Times[len(o.Times)-1]
	step := o.Times[1].Sub(o.Times[0])
	current, notes, err := replayable(in.Spec)
	if err != nil {
		return nil, err
	}
	rep := &Report{Namespace: in.Namespace, HPA: in.HPA, Deployment: in.Deployment, Start: start, End: end, Step: step,
		Lifecycles: o.Lifecycles, PodStartup: o.PodStartup, PodStartupBasis: o.PodStartupBasis, LoadModel: LoadModel,
		Sidecar: o.Sidecar, Notes: append(append([]string{}, o.Notes...), notes...)}
	rep.Controller = controllerOf(in.Controller, o.PodStartup, step)
	recommended, rec := recommendedSpec(current, in)
	rep.Recommendation = rec
	if in.Recalculation == nil {
		rep.Notes = append(rep.Notes, "the HPA already targets the app container alone: the recommended run is the current one")
	}
	if in.Sidecar == "" {
		rep.Notes = append(rep.Notes, "no sidecar in the pods: the three runs see the same pods")
	}
	syncs := hpasim.SyncsEvery(start, end, in.Controller.SyncPeriod)
	if len(syncs) == 0 {
		return nil, fmt.Errorf("the window (%s) is shorter than one sync period (%s)", end.Sub(start), in.Controller.SyncPeriod)
	}
	for _, r := range []struct {
		name   string
		spec   autoscalingv2.HorizontalPodAutoscalerSpec
		demand hpasim.Demand
	}{
		{RunCurrent, current, o.Demand},
		{RunRecommended, recommended, o.Demand},
		{RunReference, current, o.Demand.Without(in.Sidecar)},
	} {
		ds, err := hpasim.ReplayDemand(in.Controller, r.spec, r.demand, syncs)
		if err != nil {
			return nil, fmt.Errorf("replaying the %s HPA: %w", r.name, err)
		}
		rep.Runs = append(rep.Runs, Run{Name: r.name, Metric: MetricString(r.spec.Metrics), Decisions: ds})
	}
	rep.Runs[2].Metric += " on the pods without the sidecar"
	rep.Syncs = rows(o, rep.Runs, syncs)
	rep.Load = loadRows(o, in.Sidecar)
	period := in.Controller.SyncPeriod
	for i := range rep.Runs {
		compare(&rep.Runs[i], rep.Runs[2], syncs, period, o.Demand.InitialReplicas)
	}
	rep.Reading = reading(rep, end.Sub(start), len(syncs))
	return rep, nil
}

// replayable keeps the spec's CPU metrics, the ones a replay of CPU
// history can compute, and says which others it left out.
func replayable(spec autoscalingv2.HorizontalPodAutoscalerSpec) (autoscalingv2.HorizontalPodAutoscalerSpec, []string, error) {
	out := *spec.DeepCopy()
	out.Metrics = nil
	var notes []string
	for i, m := range spec.Metrics {
		if cpuMetric(m) {
			out.Metrics = append(out.Metrics, m)
			continue
		}
		notes = append(notes, fmt.Sprintf("the HPA's metric %d (%s) is not replayed: the runs' replicas are what its CPU metrics alone ask for", i, MetricString([]autoscalingv2.MetricSpec{m})))
	}
	if len(spec.Metrics) > 0 && len(out.Metrics) == 0 {
		return out, nil, fmt.Errorf("the HPA has no CPU metric (Resource or ContainerResource cpu): there is nothing the CPU history can replay")
	}
	return out, notes, nil
}

func cpuMetric(m autoscalingv2.MetricSpec) bool {
	switch {
	case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
		return m.Resource.Name == corev1.ResourceCPU
	case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
		return m.ContainerResource.Name == corev1.ResourceCPU
	}
	return false
}

// recommendedSpec is the current spec with its CPU Resource metric at the
// HPA core's manifest target, the rest unchanged.
func recommendedSpec(current autoscalingv2.HorizontalPodAutoscalerSpec, in Request) (autoscalingv2.HorizontalPodAutoscalerSpec, Recommended) {
	h := in.Recalculation
	if h == nil || in.CPUMetric < 0 {
		return current, Recommended{Manifest: "the HPA's own metric: nothing to correct"}
	}
	rec := Recommended{TargetPercent: h.ManifestTargetPercent, OriginalTargetPercent: int32(h.OriginalTargetPercent),
		AppTargetMillicores: h.OriginalAbsoluteTargetMillicores, SidecarAtAppTargetMillicores: h.SidecarCPUAtAppTargetMillicores,
		SidecarBasis: in.SidecarBasis, SidecarFromHistory: in.SidecarFromHistory, UsageAwarePercent: h.UsageAwareTargetPercent, Manifest: h.MetricReason}
	out := *current.DeepCopy()
	target := h.ManifestTargetPercent
	resource := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}
	// The same metric in the replayable spec: the CPU Resource metric with a
	// utilisation target.
	for i, m := range out.Metrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil {
			out.Metrics[i] = resource
			break
		}
	}
	return out, rec
}

// MetricString names the CPU metrics of a spec, e.g. "Resource cpu at 50%".
func MetricString(metrics []autoscalingv2.MetricSpec) string {
	if len(metrics) == 0 {
		return "Resource cpu at 80% (the API server's default)"
	}
	var parts []string
	for _, m := range metrics {
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			parts = append(parts, fmt.Sprintf("Resource %s at %s", m.Resource.Name, targetString(m.Resource.Target)))
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			parts = append(parts, fmt.Sprintf("ContainerResource %s of container %s at %s", m.ContainerResource.Name, m.ContainerResource.Container, targetString(m.ContainerResource.Target)))
		default:
			parts = append(parts, string(m.Type))
		}
	}
	return strings.Join(parts, " and ")
}

func targetString(t autoscalingv2.MetricTarget) string {
	switch {
	case t.AverageUtilization != nil:
		return fmt.Sprintf("%d%%", *t.AverageUtilization)
	case t.AverageValue != nil:
		return t.AverageValue.String() + " per pod"
	case t.Value != nil:
		return t.Value.String()
	}
	return "no target"
}

func controllerOf(c hpasim.Controller, startup, step time.Duration) Controller {
	v := "1.33 (assumed)"
	if c.Version != nil {
		v = c.Version.String()
	}
	return Controller{SyncPeriod: c.SyncPeriod.String(), Tolerance: c.Tolerance, DownscaleStabilization: c.DownscaleStabilization.String(),
		CPUInitializationPeriod: c.CPUInitializationPeriod.String(), InitialReadinessDelay: c.InitialReadinessDelay.String(),
		Version: v, PodStartup: startup.String(), Step: step.String()}
}

// rows are the runs' replicas after each sync, beside the pods observed
// ready at the latest step at or before it.
func rows(o *Observed, runs []Run, syncs []hpasim.Sync) []SyncRow {
	out := make([]SyncRow, len(syncs))
	j := 0
	for i, s := range syncs {
		for j+1 < len(o.Times) && !o.Times[j+1].After(s.At) {
			j++
		}
		out[i] = SyncRow{At: s.At, Observed: o.ReadyPods[j], Current: runs[0].Decisions[i].Replicas,
			Recommended: runs[1].Decisions[i].Replicas, Reference: runs[2].Decisions[i].Replicas}
	}
	return out
}

// loadRows sums the app containers' and the sidecar's observed CPU at each
// step.
func loadRows(o *Observed, sidecar string) []LoadRow {
	out := make([]LoadRow, len(o.Times))
	for j, t := range o.Times {
		out[j] = LoadRow{At: t, ReadyPods: o.ReadyPods[j], AppMillicores: math.NaN(), SidecarMillicores: math.NaN()}
		for name, u := range o.Demand.Usage {
			v := u.Millicores[j]
			if math.IsNaN(v) {
				continue
			}
			if name == sidecar {
				out[j].SidecarMillicores = v
				continue
			}
			if math.IsNaN(out[j].AppMillicores) {
				out[j].AppMillicores = 0
			}
			out[j].AppMillicores += v
		}
	}
	return out
}

// compare fills a run's disagreement with the reference: each sync's
// replicas hold until the next sync.
func compare(r *Run, ref Run, syncs []hpasim.Sync, period time.Duration, initial int32) {
	minutes := period.Minutes()
	r.Differing = []Interval{}
	for i, d := range r.Decisions {
		mine, theirs := d.Replicas, ref.Decisions[i].Replicas
		r.PodMinutes += float64(mine) * minutes
		r.ExtraPodMinutes += float64(mine-theirs) * minutes
		r.MaxReplicas = max(r.MaxReplicas, mine)
		if r.FirstScaleUp == nil && mine > initial {
			at := syncs[i].At
			r.FirstScaleUp = &at
		}
		if mine == theirs {
			continue
		}
		r.MinutesDiffering += minutes
		if mine > theirs {
			r.MinutesAbove += minutes
		} else {
			r.MinutesBelow += minutes
		}
		to := syncs[i].At.Add(period)
		if n := len(r.Differing); n > 0 && r.Differing[n-1].To.Equal(syncs[i].At) && r.Differing[n-1].Replicas == mine && r.Differing[n-1].Reference == theirs {
			r.Differing[n-1].To = to
			continue
		}
		r.Differing = append(r.Differing, Interval{From: syncs[i].At, To: to, Replicas: mine, Reference: theirs})
	}
	var refFirst *time.Time
	for i, d := range ref.Decisions {
		if d.Replicas > initial {
			at := syncs[i].At
			refFirst = &at
			break
		}
	}
	if r.FirstScaleUp != nil && refFirst != nil {
		m := r.FirstScaleUp.Sub(*refFirst).Minutes()
		r.FirstScaleUpMinutesAfterReference = &m
	}
}

// reading is the one-paragraph account of the result.
func reading(r *Report, window time.Duration, syncs int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Over the %s from %s to %s (%d syncs every %s), ", durationWords(window),
		r.Start.UTC().Format("2006-01-02 15:04"), r.End.UTC().Format("2006-01-02 15:04 MST"), syncs, r.Controller.SyncPeriod)
	cur, rec := r.Runs[0], r.Runs[1]
	fmt.Fprintf(&b, "the current target (%s) %s", cur.Metric, runWords(cur))
	if rec.Metric == cur.Metric {
		b.WriteString("; the recommended run is the same HPA. ")
	} else {
		fmt.Fprintf(&b, "; the recommended target (%s) %s. ", rec.Metric, runWords(rec))
	}
	if f := r.Sidecar; f != nil && r.Recommendation.TargetPercent > 0 && r.Recommendation.SidecarFromHistory {
		fmt.Fprintf(&b, "The sidecar's CPU per pod was %s, %.0fm when the app is at its %.0fm target: the usage-aware target is %.1f%%, applied as %d%%. ",
			f, r.Recommendation.SidecarAtAppTargetMillicores, r.Recommendation.AppTargetMillicores, r.Recommendation.UsageAwarePercent, r.Recommendation.TargetPercent)
	} else if r.Recommendation.TargetPercent > 0 {
		fmt.Fprintf(&b, "The sidecar's CPU at the app's %.0fm target is %.0fm (%s): the recommended target is %d%%. ",
			r.Recommendation.AppTargetMillicores, r.Recommendation.SidecarAtAppTargetMillicores, r.Recommendation.SidecarBasis, r.Recommendation.TargetPercent)
	}
	fmt.Fprintf(&b, "Every run spreads the observed load over its own ready pods (pod lifecycles %s; a new pod is ready %s after the scale-up, %s).",
		lifecycleWords(r.Lifecycles), r.PodStartup, r.PodStartupBasis)
	return b.String()
}

func runWords(r Run) string {
	if r.MinutesDiffering == 0 {
		return "ran the same replicas as the app-only reference at every sync"
	}
	s := fmt.Sprintf("differed from the app-only reference for %s: %s with more pods (scaling up early or down late), %s with fewer (up late or down early), %+.0f pod-minutes",
		minutesWords(r.MinutesDiffering), minutesWords(r.MinutesAbove), minutesWords(r.MinutesBelow), r.ExtraPodMinutes)
	if d := r.FirstScaleUpMinutesAfterReference; d != nil && *d != 0 {
		when := "after"
		if *d < 0 {
			when = "before"
		}
		s += fmt.Sprintf("; its first scale-up came %s %s the reference's", minutesWords(abs(*d)), when)
	}
	return s
}

func lifecycleWords(l string) string {
	if l == LifecyclesKubeStateMetrics {
		return "from kube-state-metrics"
	}
	return l
}

func minutesWords(m float64) string {
	if m == float64(int64(m)) {
		return fmt.Sprintf("%d min", int64(m))
	}
	return fmt.Sprintf("%.2f min", m)
}

func durationWords(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%.0f min", d.Minutes())
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
