package hpasim

import (
	"fmt"
	"sort"
	"strings"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// Decision is the controller's outcome of one sync.
type Decision struct {
	At time.Time `json:"at"`
	// CurrentReplicas is the scale target's spec.replicas at the sync.
	CurrentReplicas int32 `json:"current_replicas"`
	// Proposal is the metrics' replica count before stabilisation and
	// limits (-1: no metric could be computed).
	Proposal int32 `json:"proposal"`
	// DesiredReplicas is status.desiredReplicas after the sync; the scale
	// target is set to it when it differs from CurrentReplicas.
	DesiredReplicas int32 `json:"desired_replicas"`
	// Replicas is the scale target's spec.replicas after the sync: the
	// desired replicas, except where the metrics failed (the status keeps
	// its last desired replicas, the target is left alone).
	Replicas int32 `json:"replicas"`
	// Readings are the metrics', in the spec's order.
	Readings []Reading `json:"readings"`
	// Reason says what decided: "within tolerance", "scale up",
	// "scale-down stabilised", "scale-up limit", "metrics failed: ...".
	Reason string `json:"reason"`
}

// Replay runs the HPA spec over history, one decision per sync. The syncs
// must be in time order.
func Replay(c Controller, spec autoscalingv2.HorizontalPodAutoscalerSpec, h History, syncs []Sync) ([]Decision, error) {
	if err := h.validate(); err != nil {
		return nil, err
	}
	r, err := newReplayer(c, spec, h)
	if err != nil {
		return nil, err
	}
	if err := inOrder(syncs); err != nil {
		return nil, err
	}
	out := make([]Decision, 0, len(syncs))
	for _, s := range syncs {
		out = append(out, r.reconcile(s))
	}
	return out, nil
}

// newReplayer checks the controller and the spec and sets up the
// controller's memory for history h.
func newReplayer(c Controller, spec autoscalingv2.HorizontalPodAutoscalerSpec, h History) (*replayer, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	metrics, err := cpuMetrics(spec.Metrics)
	if err != nil {
		return nil, err
	}
	if spec.MaxReplicas < 1 {
		return nil, fmt.Errorf("hpasim: maxReplicas must be >= 1, got %d", spec.MaxReplicas)
	}
	r := &replayer{c: c, h: h, spec: spec, metrics: metrics, replicas: h.InitialReplicas, usage: map[string][]Series{}}
	if spec.Behavior != nil {
		r.behavior = defaultBehavior(spec.Behavior, c.DownscaleStabilization)
	}
	for _, s := range h.Usage {
		r.usage[s.Pod] = append(r.usage[s.Pod], s)
	}
	return r, nil
}

func inOrder(syncs []Sync) error {
	for i := 1; i < len(syncs); i++ {
		if syncs[i].At.Before(syncs[i-1].At) {
			return fmt.Errorf("hpasim: syncs out of time order at %s", syncs[i].At)
		}
	}
	return nil
}

// replayer holds what the controller keeps between syncs.
type replayer struct {
	c        Controller
	h        History
	spec     autoscalingv2.HorizontalPodAutoscalerSpec
	metrics  []cpuMetric
	behavior *autoscalingv2.HorizontalPodAutoscalerBehavior
	usage    map[string][]Series

	replicas        int32 // the scale target's spec.replicas
	statusDesired   int32 // status.desiredReplicas
	recommendations []timedReplicas
	scaleUps        []timedReplicas
	scaleDowns      []timedReplicas
}

type timedReplicas struct {
	at       time.Time
	replicas int32
}

// cpuMetric is one CPU metric of the spec.
type cpuMetric struct {
	container string // "" for a Resource metric
	target    cpuTarget
}

func cpuMetrics(specs []autoscalingv2.MetricSpec) ([]cpuMetric, error) {
	if len(specs) == 0 {
		// the API server's default: 80% CPU
		return []cpuMetric{{target: cpuTarget{utilization: 80}}}, nil
	}
	var out []cpuMetric
	for i, m := range specs {
		var name corev1.ResourceName
		var t autoscalingv2.MetricTarget
		var container string
		switch {
		case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
			name, t = m.Resource.Name, m.Resource.Target
		case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
			name, t, container = m.ContainerResource.Name, m.ContainerResource.Target, m.ContainerResource.Container
		default:
			return nil, fmt.Errorf("hpasim: metric %d: only CPU Resource and ContainerResource metrics can be replayed, got %s", i, m.Type)
		}
		if name != corev1.ResourceCPU {
			return nil, fmt.Errorf("hpasim: metric %d: only the cpu resource can be replayed, got %s", i, name)
		}
		switch {
		case t.AverageValue != nil:
			out = append(out, cpuMetric{container: container, target: cpuTarget{averageMillicores: t.AverageValue.MilliValue()}})
		case t.AverageUtilization != nil && *t.AverageUtilization > 0:
			out = append(out, cpuMetric{container: container, target: cpuTarget{utilization: *t.AverageUtilization}})
		default:
			return nil, fmt.Errorf("hpasim: metric %d: neither an average utilization nor an average value target", i)
		}
	}
	return out, nil
}

// listed is the pods the controller's lister returns at t, by name.
func (r *replayer) listed(t time.Time) []listedPod {
	var out []listedPod
	for i := range r.h.Pods {
		p := &r.h.Pods[i]
		if s, ok := p.stateAt(t); ok {
			out = append(out, listedPod{pod: p, state: s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pod.Name < out[j].pod.Name })
	return out
}

// reconcile is reconcileAutoscaler for one sync.
func (r *replayer) reconcile(s Sync) Decision {
	now := s.At
	current := r.replicas
	if r.recommendations == nil {
		r.recommendations = []timedReplicas{{at: now, replicas: current}}
	}
	d := Decision{At: now, CurrentReplicas: current, Proposal: -1}
	minReplicas := int32(1)
	if r.spec.MinReplicas != nil {
		minReplicas = *r.spec.MinReplicas
	}
	var desired int32
	switch {
	case current == 0 && minReplicas != 0:
		d.Reason = "scaling disabled: the target has 0 replicas"
		d.DesiredReplicas = 0
		r.statusDesired = 0
		d.Replicas = r.replicas
		return d
	case current > r.spec.MaxReplicas:
		desired, d.Reason = r.spec.MaxReplicas, "above maxReplicas"
	case current < minReplicas:
		desired, d.Reason = minReplicas, "below minReplicas"
	default:
		metricsAt := s.MetricsAt
		if metricsAt.IsZero() {
			metricsAt = now
		}
		proposal, readings, err := r.computeReplicas(now, metricsAt, current)
		d.Readings = readings
		if proposal < 0 {
			d.Reason = "metrics failed: " + err.Error()
			d.DesiredReplicas = r.statusDesired
			d.Replicas = r.replicas
			return d
		}
		d.Proposal = proposal
		desired = max(proposal, 0)
		if r.behavior == nil {
			desired, d.Reason = r.normalize(now, current, desired, minReplicas)
		} else {
			desired, d.Reason = r.normalizeWithBehavior(now, current, desired, minReplicas)
		}
	}
	if desired != current {
		r.storeScaleEvent(now, current, desired)
		r.replicas = desired
	} else {
		desired = current
	}
	d.DesiredReplicas = desired
	d.Replicas = desired
	r.statusDesired = desired
	return d
}

// computeReplicas is computeReplicasForMetrics: the highest proposal of the
// valid metrics, -1 when none is valid, or when one failed and the others
// would scale down.
func (r *replayer) computeReplicas(now, metricsAt time.Time, current int32) (int32, []Reading, error) {
	pods := r.listed(now)
	tol := r.tolerances()
	var replicas int32
	var firstErr error
	invalid := 0
	readings := make([]Reading, len(r.metrics))
	for i, m := range r.metrics {
		p, reading, err := r.replicasFor(now, metricsAt, pods, current, m.target, m.container, tol)
		readings[i] = reading
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			invalid++
			continue
		}
		if replicas == 0 || p > replicas {
			replicas = p
		}
	}
	if invalid >= len(r.metrics) || (invalid > 0 && replicas < current) {
		return -1, readings, firstErr
	}
	return replicas, readings, nil
}

type tolerances struct{ down, up float64 }

func (t tolerances) within(ratio float64) bool {
	return (1.0-t.down) <= ratio && ratio <= (1.0+t.up)
}

func (r *replayer) tolerances() tolerances {
	t := tolerances{r.c.Tolerance, r.c.Tolerance}
	b := r.spec.Behavior
	if b == nil || !r.c.ConfigurableTolerance {
		return t
	}
	if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
		t.down = b.ScaleDown.Tolerance.AsApproximateFloat64()
	}
	if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
		t.up = b.ScaleUp.Tolerance.AsApproximateFloat64()
	}
	return t
}

// Disagreements lists the syncs where two replays' desired replicas
// differ, as "TIME: A vs B" lines; empty when they agree throughout. The
// replays must be of the same syncs.
func Disagreements(a, b []Decision) []string {
	var out []string
	for i := range min(len(a), len(b)) {
		if a[i].DesiredReplicas != b[i].DesiredReplicas {
			out = append(out, fmt.Sprintf("%s: %d vs %d", a[i].At.Format(time.RFC3339Nano), a[i].DesiredReplicas, b[i].DesiredReplicas))
		}
	}
	if len(a) != len(b) {
		out = append(out, fmt.Sprintf("%d syncs vs %d", len(a), len(b)))
	}
	return out
}

// String renders a decision as one line, for test failures and logs.
func (d Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s current=%d proposal=%d desired=%d", d.At.Format("15:04:05.000"), d.CurrentReplicas, d.Proposal, d.DesiredReplicas)
	for _, r := range d.Readings {
		fmt.Fprintf(&b, " [util=%d%% avg=%dm ready=%d unready=%d missing=%d ignored=%d]", r.Utilization, r.AverageMillicores, r.Ready, r.Unready, r.Missing, r.Ignored)
	}
	fmt.Fprintf(&b, " %s", d.Reason)
	return b.String()
}
