package hpasim

import (
	"fmt"
	"math"
	"sort"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// Demand is what a workload's pods used together over a window, per
// container: the load, whatever the number of pods that carried it. A
// replay of another target than the one the history ran under
// (ReplayDemand) runs its own pods, and its replica count soon differs
// from the history's: the observed per-pod usage would then be wrong,
// since the same requests spread over more pods make each pod use less.
// So the replay spreads the load over its own ready pods, as a Service
// spreads requests over the endpoints that are ready.
//
// The load model, per container and sample: a ready pod of the replay
// uses IdleMillicores plus an equal share of the rest of the observed
// total,
//
//	idle + max(0, total - idle x observed pods) / ready pods of the replay
//
// so that with as many ready pods as were observed each pod uses the
// observed average, and the total is conserved apart from the idle CPU of
// the pods the replay adds or removes. A pod that is not ready carries no
// load and has no sample.
type Demand struct {
	// Containers are the pod template's, as the HPA counts their requests.
	Containers []Container
	// Times are the samples' evaluation times, ascending; Window is each
	// sample's averaging window (a rate()'s range).
	Times  []time.Time
	Window time.Duration
	// Usage is each container's samples, by container name.
	Usage map[string]ContainerDemand
	// MetricsMaxAge is as History's: how long a sample stands for a pod's
	// current usage.
	MetricsMaxAge time.Duration
	// InitialReplicas are running, ready and past their CPU initialisation
	// when the window opens.
	InitialReplicas int32
	// PodStartup is how long a pod the replay adds takes from the scale-up
	// to Ready (Pending until then).
	PodStartup time.Duration
}

// ContainerDemand is one container's CPU at each of Demand.Times.
type ContainerDemand struct {
	// Millicores[i] is the sum over the Pods[i] pods observed at Times[i];
	// NaN when no pod had a sample then.
	Millicores []float64
	Pods       []int
	// IdleMillicores is what one pod's container uses without load: each
	// ready pod of the replay uses it whatever its share of the load.
	IdleMillicores float64
}

// Without is the demand with one container taken out of the pods (its
// request and its usage): the app-only reference of a pod with a sidecar.
func (d Demand) Without(container string) Demand {
	out := d
	out.Containers = nil
	for _, c := range d.Containers {
		if c.Name != container {
			out.Containers = append(out.Containers, c)
		}
	}
	out.Usage = make(map[string]ContainerDemand, len(d.Usage))
	for name, u := range d.Usage {
		if name != container {
			out.Usage[name] = u
		}
	}
	return out
}

// PerPodMillicores is the load model: what each of ready pods uses of
// container's sample i (false: no sample then, or no ready pod).
func (d Demand) PerPodMillicores(container string, i, ready int) (float64, bool) {
	u, ok := d.Usage[container]
	if !ok || ready <= 0 || math.IsNaN(u.Millicores[i]) {
		return 0, false
	}
	load := math.Max(0, u.Millicores[i]-u.IdleMillicores*float64(u.Pods[i]))
	return u.IdleMillicores + load/float64(ready), true
}

func (d Demand) validate() error {
	switch {
	case d.Window <= 0:
		return fmt.Errorf("hpasim: the samples' window must be > 0")
	case d.MetricsMaxAge <= 0:
		return fmt.Errorf("hpasim: the metrics' max age must be > 0 (the metrics resolution)")
	case d.InitialReplicas < 0:
		return fmt.Errorf("hpasim: initial replicas must be >= 0, got %d", d.InitialReplicas)
	case d.PodStartup < 0:
		return fmt.Errorf("hpasim: the pods' start-up must be >= 0, got %s", d.PodStartup)
	}
	for i := 1; i < len(d.Times); i++ {
		if !d.Times[i].After(d.Times[i-1]) {
			return fmt.Errorf("hpasim: demand: times out of order at %s", d.Times[i])
		}
	}
	for name, u := range d.Usage {
		if len(u.Millicores) != len(d.Times) || len(u.Pods) != len(d.Times) {
			return fmt.Errorf("hpasim: demand of container %s: %d samples and %d pod counts for %d times", name, len(u.Millicores), len(u.Pods), len(d.Times))
		}
		if u.IdleMillicores < 0 {
			return fmt.Errorf("hpasim: demand of container %s: idle CPU must be >= 0", name)
		}
	}
	return nil
}

// ReplayDemand runs the HPA spec on demand with its own pods: a scale-up
// adds pods (Pending for PodStartup, then Ready), a scale-down removes the
// pods the ReplicaSet controller would (not ready ones first, then the
// most recently ready), and each sample spreads the load over the pods
// ready at its time (Demand's load model). The controller sees these pods
// and samples exactly as Replay sees a recorded history.
func ReplayDemand(c Controller, spec autoscalingv2.HorizontalPodAutoscalerSpec, d Demand, syncs []Sync) ([]Decision, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	if err := inOrder(syncs); err != nil {
		return nil, err
	}
	r, err := newReplayer(c, spec, History{MetricsMaxAge: d.MetricsMaxAge, InitialReplicas: d.InitialReplicas})
	if err != nil {
		return nil, err
	}
	w := &demandWorld{d: d, r: r}
	if len(d.Times) > 0 {
		// long enough ago to be past the CPU initialisation period
		w.addPods(int(d.InitialReplicas), d.Times[0].Add(-c.CPUInitializationPeriod-d.Window-time.Minute), 0)
	}
	out := make([]Decision, 0, len(syncs))
	for _, s := range syncs {
		w.sampleUntil(s.At)
		dec := r.reconcile(s)
		w.scale(s.At, int(dec.Replicas))
		out = append(out, dec)
	}
	return out, nil
}

// demandWorld is the replay's pods and their samples, written into the
// replayer's history as time passes.
type demandWorld struct {
	d    Demand
	r    *replayer
	pods []worldPod // the pods that exist, in creation order
	made int        // pods created so far (names)
	next int        // the next sample of d.Times to write
}

type worldPod struct {
	index   int // in r.h.Pods
	created time.Time
	ready   time.Time
}

func (w *demandWorld) addPods(n int, at time.Time, startup time.Duration) {
	for range n {
		name := fmt.Sprintf("replay-%d", w.made)
		w.made++
		ready := at.Add(startup)
		p := Pod{Name: name, Containers: w.d.Containers}
		if startup > 0 {
			p.States = append(p.States, PodState{From: at, Phase: "Pending", StartTime: at})
		}
		p.States = append(p.States, PodState{From: ready, Phase: "Running", StartTime: at, Ready: "True", ReadySince: ready})
		w.r.h.Pods = append(w.r.h.Pods, p)
		series := make([]Series, 0, len(w.d.Containers))
		for _, c := range w.d.Containers {
			series = append(series, Series{Pod: name, Container: c.Name})
		}
		w.r.usage[name] = series
		w.pods = append(w.pods, worldPod{index: len(w.r.h.Pods) - 1, created: at, ready: ready})
	}
}

// sampleUntil writes every sample taken at or before t.
func (w *demandWorld) sampleUntil(t time.Time) {
	for ; w.next < len(w.d.Times) && !w.d.Times[w.next].After(t); w.next++ {
		at := w.d.Times[w.next]
		var ready []worldPod
		for _, p := range w.pods {
			if !p.ready.After(at) {
				ready = append(ready, p)
			}
		}
		for _, p := range ready {
			series := w.r.usage[w.r.h.Pods[p.index].Name]
			for k := range series {
				v, ok := w.d.PerPodMillicores(series[k].Container, w.next, len(ready))
				if !ok {
					continue
				}
				series[k].Points = append(series[k].Points, Point{At: at, Window: w.d.Window, Millicores: MillicoresFromCores(v / 1000)})
			}
		}
	}
}

// scale brings the pods to n at t.
func (w *demandWorld) scale(t time.Time, n int) {
	switch {
	case n > len(w.pods):
		w.addPods(n-len(w.pods), t, w.d.PodStartup)
	case n < len(w.pods):
		// The ReplicaSet controller deletes pods that are not ready first,
		// then those ready for the shortest time.
		sort.SliceStable(w.pods, func(i, j int) bool {
			ri, rj := w.pods[i].ready.After(t), w.pods[j].ready.After(t)
			if ri != rj {
				return !ri
			}
			return w.pods[i].ready.Before(w.pods[j].ready)
		})
		for _, p := range w.pods[n:] {
			w.remove(p, t)
		}
		w.pods = w.pods[:n]
	}
}

// remove ends a pod at t: its later states are dropped, it is gone.
func (w *demandWorld) remove(p worldPod, t time.Time) {
	pod := &w.r.h.Pods[p.index]
	kept := pod.States[:0]
	for _, s := range pod.States {
		if s.From.Before(t) {
			kept = append(kept, s)
		}
	}
	pod.States = append(kept, PodState{From: t, Gone: true})
}
