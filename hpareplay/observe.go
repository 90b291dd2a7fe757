package hpareplay

import (
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/internal/quantity"
)

// DefaultPodStartup is how long a pod the replay adds takes to turn Ready
// when the history shows no pod starting (no kube-state-metrics, or no pod
// started within the window): an assumption, said so in the report.
const DefaultPodStartup = 30 * time.Second

// Source is a workload's history as Prometheus returned it: every series
// evaluated at each step from Start to End.
type Source struct {
	Start, End time.Time
	Step       time.Duration
	// RateWindow is the range of the rate() the CPU series come from: each
	// sample's averaging window.
	RateWindow time.Duration
	// CPU is each pod's containers' CPU in cores.
	CPU map[prom.Key][]prom.Point
	// States is kube-state-metrics' view of the pods; nil or empty where it
	// is not scraped, the lifecycles are then inferred from the CPU series.
	States *prom.PodStates
	// Containers are the pod template's, as the HPA counts their requests
	// (native sidecars marked); Sidecar names the mesh's sidecar among them
	// ("" without one).
	Containers []hpasim.Container
	Sidecar    string
	// PodStartup, when > 0, is how long a new pod takes to turn Ready,
	// given; otherwise it is measured from kube-state-metrics, else
	// DefaultPodStartup.
	PodStartup time.Duration
}

// Lifecycle sources.
const (
	LifecyclesKubeStateMetrics = "kube-state-metrics"
	LifecyclesInferred         = "inferred from each pod's first and last CPU sample"
)

// Observed is what the history shows, ready to be replayed.
type Observed struct {
	Times []time.Time
	// ReadyPods is the number of pods observed ready at each time.
	ReadyPods []int
	// Lifecycles says where the pods' lifecycles come from
	// (LifecyclesKubeStateMetrics or LifecyclesInferred).
	Lifecycles string
	Pods       []ObservedPod
	// Demand is the load, with the pod template and the replay's pod
	// start-up; its InitialReplicas are the pods ready at Start.
	Demand hpasim.Demand
	// PodStartup and its basis (given, measured, assumed).
	PodStartup      time.Duration
	PodStartupBasis string
	// Sidecar is the sidecar's CPU per pod as a line in the app's (nil:
	// no sidecar, or too few samples).
	Sidecar *SidecarFit
	Notes   []string
}

// ObservedPod is one pod of the workload in the window.
type ObservedPod struct {
	Name string `json:"name"`
	// First and Last are the steps at which it existed first and last.
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Started is kube_pod_start_time, ReadyAt the first step it was seen
	// Ready (zero: not known).
	Started time.Time `json:"started,omitzero"`
	ReadyAt time.Time `json:"ready_at,omitzero"`
	// Deleting is kube_pod_deletion_timestamp (zero: none seen).
	Deleting time.Time `json:"deleting,omitzero"`
}

// SidecarFit is the sidecar's CPU per pod against the app's, by least
// squares over every sample of a pod ready over the sample's whole window
// that has both.
type SidecarFit struct {
	Container       string  `json:"container"`
	IdleMillicores  float64 `json:"idle_millicores"`
	PerAppMillicore float64 `json:"per_app_millicore"`
	R2              float64 `json:"r2"`
	Samples         int     `json:"samples"`
	// AppMin and AppMax bound the app's CPU per pod the line was fitted
	// over.
	AppMinMillicores float64 `json:"app_min_millicores"`
	AppMaxMillicores float64 `json:"app_max_millicores"`
	// LoadModelIdleMillicores is the idle CPU the load model keeps per pod:
	// the intercept, within [0, the lowest sample].
	LoadModelIdleMillicores float64 `json:"load_model_idle_millicores"`
}

// At is the sidecar's CPU when the app uses app millicores.
func (f SidecarFit) At(app float64) float64 { return f.IdleMillicores + f.PerAppMillicore*app }

// String is the line as the report shows it.
func (f SidecarFit) String() string {
	return fmt.Sprintf("%.1fm + %.3f x the app's CPU (least squares over %d samples of pods ready over the sample's window, R² %.2f, the app between %.0fm and %.0fm per pod)",
		f.IdleMillicores, f.PerAppMillicore, f.Samples, f.R2, f.AppMinMillicores, f.AppMaxMillicores)
}

// minFitSamples is the fewest samples a line is fitted from.
const minFitSamples = 3

// Observe builds the load, the pods' lifecycles and the sidecar's line
// from a workload's history.
func Observe(src Source) (*Observed, error) {
	if err := src.validate(); err != nil {
		return nil, err
	}
	n := int(src.End.Sub(src.Start)/src.Step) + 1
	o := &Observed{Times: make([]time.Time, n), ReadyPods: make([]int, n), Lifecycles: LifecyclesInferred}
	for j := range n {
		o.Times[j] = src.Start.Add(time.Duration(j) * src.Step)
	}
	g := grid{start: src.Start, step: src.Step, n: n}
	pods := g.podSeries(src.CPU)
	ksm := src.States.Found()
	if ksm {
		o.Lifecycles = LifecyclesKubeStateMetrics
	}
	names := sortedNames(pods, src.States)
	ready := make(map[string][]bool, len(names))
	var startups []time.Duration
	for _, name := range names {
		p, r, startup := g.lifecycle(name, pods[name], src.States, ksm)
		if p.First.IsZero() {
			continue
		}
		o.Pods = append(o.Pods, p)
		ready[name] = r
		for j, ok := range r {
			if ok {
				o.ReadyPods[j]++
			}
		}
		if startup >= 0 {
			startups = append(startups, startup)
		}
	}
	if len(o.Pods) == 0 {
		return nil, fmt.Errorf("no pod of the workload has a CPU series (container_cpu_usage_seconds_total) in the window")
	}
	if o.ReadyPods[0] == 0 {
		return nil, fmt.Errorf("no pod of the workload was ready at the window's start (%s): choose a window that starts while it runs", src.Start.UTC().Format(time.RFC3339))
	}
	o.PodStartup, o.PodStartupBasis = podStartup(src.PodStartup, startups)
	o.Demand = hpasim.Demand{
		Containers: src.Containers, Times: o.Times, Window: src.RateWindow, MetricsMaxAge: src.Step,
		Usage: map[string]hpasim.ContainerDemand{}, InitialReplicas: int32(o.ReadyPods[0]), PodStartup: o.PodStartup,
	}
	lag := int((src.RateWindow + src.Step - 1) / src.Step)
	for _, c := range src.Containers {
		o.Demand.Usage[c.Name] = demandOf(c.Name, pods, ready, n, lag)
	}
	if src.Sidecar != "" {
		o.Sidecar = fitSidecar(src.Sidecar, src.Containers, pods, ready, lag)
		if o.Sidecar != nil {
			u := o.Demand.Usage[src.Sidecar]
			u.IdleMillicores = o.Sidecar.LoadModelIdleMillicores
			o.Demand.Usage[src.Sidecar] = u
		}
	}
	o.Notes = append(o.Notes, requestNotes(src)...)
	return o, nil
}

func (src Source) validate() error {
	switch {
	case src.Step <= 0:
		return fmt.Errorf("the step must be > 0")
	case !src.End.After(src.Start):
		return fmt.Errorf("the window must end after it starts")
	case src.RateWindow <= 0:
		return fmt.Errorf("the rate window must be > 0")
	case len(src.Containers) == 0:
		return fmt.Errorf("the pod template has no container")
	}
	return nil
}

// grid places samples on the steps of a range.
type grid struct {
	start time.Time
	step  time.Duration
	n     int
}

// index is the step of t, false when t is not on a step of the range.
func (g grid) index(t time.Time) (int, bool) {
	d := t.Sub(g.start)
	j := int((d + g.step/2) / g.step)
	if d < -g.step/2 || j >= g.n || (d-time.Duration(j)*g.step).Abs() > g.step/4 {
		return 0, false
	}
	return j, true
}

// podSeries is each pod's containers' CPU in millicores at each step
// (NaN: no sample).
func (g grid) podSeries(cpu map[prom.Key][]prom.Point) map[string]map[string][]float64 {
	out := map[string]map[string][]float64{}
	for k, points := range cpu {
		if out[k.Pod] == nil {
			out[k.Pod] = map[string][]float64{}
		}
		v := nanSeries(g.n)
		for _, p := range points {
			if j, ok := g.index(p.Time); ok && !math.IsNaN(p.Value) && p.Value >= 0 {
				v[j] = p.Value * 1000
			}
		}
		out[k.Pod][k.Container] = v
	}
	return out
}

func nanSeries(n int) []float64 {
	v := make([]float64, n)
	for j := range v {
		v[j] = math.NaN()
	}
	return v
}

func sortedNames(pods map[string]map[string][]float64, s *prom.PodStates) []string {
	seen := map[string]bool{}
	for name := range pods {
		seen[name] = true
	}
	if s != nil {
		for k := range s.Start {
			seen[k.Pod] = true
		}
		for k := range s.Ready {
			seen[k.Pod] = true
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// sampled is the first and last step at which any of the pod's containers
// has a sample (-1, -1: none).
func sampled(series map[string][]float64) (int, int) {
	first, last := -1, -1
	for _, v := range series {
		for j, x := range v {
			if math.IsNaN(x) {
				continue
			}
			if first < 0 || j < first {
				first = j
			}
			if j > last {
				last = j
			}
		}
	}
	return first, last
}

// lifecycle is a pod's existence and readiness at each step, and how long
// it took from kube_pod_start_time to Ready (-1: not seen starting). A pod
// exists until its last CPU sample (a pod without any is left out: it
// never ran in the window). With kube-state-metrics it exists from its
// start time, and is ready where its Ready condition is true and no
// deletion timestamp has passed; without, it exists and is ready from its
// first CPU sample.
func (g grid) lifecycle(name string, series map[string][]float64, s *prom.PodStates, ksm bool) (ObservedPod, []bool, time.Duration) {
	p := ObservedPod{Name: name}
	ready := make([]bool, g.n)
	first, last := sampled(series)
	if last < 0 {
		return ObservedPod{}, ready, -1
	}
	var readyVals []float64
	if ksm {
		key := keyOf(s, name)
		readyVals = g.values(s.Ready[key])
		p.Started, _ = firstValueTime(s.Start[key])
		p.Deleting, _ = firstValueTime(s.Deletion[key])
		if !p.Started.IsZero() {
			first = 0
			if j, ok := g.ceilIndex(p.Started); ok {
				first = j
			}
		}
	}
	p.First, p.Last = g.at(first), g.at(last)
	for j := first; j <= last; j++ {
		switch {
		case !ksm:
			ready[j] = true
		case !p.Deleting.IsZero() && !g.at(j).Before(p.Deleting):
		default:
			ready[j] = !math.IsNaN(readyVals[j]) && readyVals[j] >= 0.5
		}
		if ready[j] && p.ReadyAt.IsZero() {
			p.ReadyAt = g.at(j)
		}
	}
	startup := time.Duration(-1)
	if p.Started.After(g.start) && !p.ReadyAt.IsZero() {
		startup = p.ReadyAt.Sub(p.Started)
	}
	return p, ready, startup
}

func (g grid) at(j int) time.Time { return g.start.Add(time.Duration(j) * g.step) }

// ceilIndex is the first step at or after t within the range.
func (g grid) ceilIndex(t time.Time) (int, bool) {
	if t.Before(g.start) {
		return 0, false
	}
	j := int((t.Sub(g.start) + g.step - 1) / g.step)
	return j, j < g.n
}

// values is a series at each step (NaN: none).
func (g grid) values(points []prom.Point) []float64 {
	v := nanSeries(g.n)
	for _, p := range points {
		if j, ok := g.index(p.Time); ok {
			v[j] = p.Value
		}
	}
	return v
}

// keyOf finds the pod's key in the kube-state-metrics series (by name:
// the namespace is the selector's).
func keyOf(s *prom.PodStates, pod string) prom.Key {
	for _, m := range []map[prom.Key][]prom.Point{s.Start, s.Ready, s.Deletion} {
		for k := range m {
			if k.Pod == pod {
				return k
			}
		}
	}
	return prom.Key{Pod: pod}
}

// firstValueTime reads a series whose values are Unix times.
func firstValueTime(points []prom.Point) (time.Time, bool) {
	for _, p := range points {
		if !math.IsNaN(p.Value) && p.Value > 0 {
			sec, frac := math.Modf(p.Value)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
		}
	}
	return time.Time{}, false
}

// podStartup is the given start-up, else the median measured, else the
// default.
func podStartup(given time.Duration, measured []time.Duration) (time.Duration, string) {
	switch {
	case given > 0:
		return given, "given"
	case len(measured) > 0:
		sort.Slice(measured, func(i, j int) bool { return measured[i] < measured[j] })
		m := measured[len(measured)/2]
		if len(measured)%2 == 0 {
			m = (measured[len(measured)/2-1] + m) / 2
		}
		return m, fmt.Sprintf("measured: the median over %d pods that started in the window, from kube_pod_start_time to the first step kube_pod_status_ready was true", len(measured))
	}
	return DefaultPodStartup, "assumed: no pod was seen starting in the window"
}

// demandOf is a container's CPU summed, at each step, over the pods
// ready at some time within the sample's window (lag steps): a pod that
// stopped being ready within it (deleted) still served part of the load
// the sample averages, so that the sum does not dip when a pod leaves.
func demandOf(container string, pods map[string]map[string][]float64, ready map[string][]bool, n, lag int) hpasim.ContainerDemand {
	d := hpasim.ContainerDemand{Millicores: nanSeries(n), Pods: make([]int, n)}
	for name, r := range ready {
		v := pods[name][container]
		if v == nil {
			continue
		}
		for j := range n {
			if !(r[j] || r[max(0, j-lag)]) || math.IsNaN(v[j]) {
				continue
			}
			if d.Pods[j] == 0 {
				d.Millicores[j] = 0
			}
			d.Millicores[j] += v[j]
			d.Pods[j]++
		}
	}
	return d
}

// fitSidecar fits the sidecar's CPU per pod as a line in the app's (the
// other containers' sum), over every step of a pod with both that was
// ready over the whole rate window (lag steps before too): a sample
// averaged over a pod's start-up is not on the line.
func fitSidecar(sidecar string, containers []hpasim.Container, pods map[string]map[string][]float64, ready map[string][]bool, lag int) *SidecarFit {
	var x, y []float64
	names := make([]string, 0, len(ready))
	for name := range ready {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sc := pods[name][sidecar]
		if sc == nil {
			continue
		}
		for j, ok := range ready[name] {
			if !ok || !ready[name][max(0, j-lag)] || math.IsNaN(sc[j]) {
				continue
			}
			app, complete := 0.0, true
			for _, c := range containers {
				if c.Name == sidecar {
					continue
				}
				v := pods[name][c.Name]
				if v == nil || math.IsNaN(v[j]) {
					complete = false
					break
				}
				app += v[j]
			}
			if complete {
				x, y = append(x, app), append(y, sc[j])
			}
		}
	}
	if len(x) < minFitSamples {
		return nil
	}
	f := &SidecarFit{Container: sidecar, Samples: len(x), AppMinMillicores: math.Inf(1), AppMaxMillicores: math.Inf(-1)}
	lowest := math.Inf(1)
	for i := range x {
		f.AppMinMillicores, f.AppMaxMillicores = math.Min(f.AppMinMillicores, x[i]), math.Max(f.AppMaxMillicores, x[i])
		lowest = math.Min(lowest, y[i])
	}
	switch {
	case stat.StdDev(y, nil) < 1e-9:
		// a flat sidecar: the line is exact (R² is 0/0)
		f.IdleMillicores, f.R2 = stat.Mean(y, nil), 1
	case stat.Variance(x, nil) > 0:
		f.IdleMillicores, f.PerAppMillicore = stat.LinearRegression(x, y, nil, false)
		f.R2 = stat.RSquared(x, y, nil, f.IdleMillicores, f.PerAppMillicore)
	default:
		// the app at one level throughout: no slope to fit
		f.IdleMillicores = stat.Mean(y, nil)
	}
	f.LoadModelIdleMillicores = math.Min(math.Max(f.IdleMillicores, 0), lowest)
	return f
}

// requestNotes compares the CPU requests kube-state-metrics saw in the
// window with the pod template's, which the replay uses.
func requestNotes(src Source) []string {
	if src.States == nil {
		return nil
	}
	seen := map[string]float64{}
	for k, points := range src.States.Requests {
		for _, p := range points {
			if !math.IsNaN(p.Value) {
				seen[k.Container] = math.Max(seen[k.Container], p.Value)
			}
		}
	}
	var out []string
	for _, c := range src.Containers {
		v, ok := seen[c.Name]
		if !ok || !c.HasCPURequest {
			continue
		}
		if m := int64(math.Round(v * 1000)); m != c.CPURequestMillicores {
			out = append(out, fmt.Sprintf("container %s requested up to %s in the window (kube_pod_container_resource_requests), the template requests %s now: the replay uses the template's",
				c.Name, quantity.Millicores(m), quantity.Millicores(c.CPURequestMillicores)))
		}
	}
	return out
}
