// Package replaytest writes a workload's history from a known truth, for
// the HPA replay's tests: its pods (start, Ready, deletion, end) and each
// pod's app and sidecar CPU over every scrape interval, as the OpenMetrics
// text of cAdvisor's and kube-state-metrics' series that `promtool tsdb
// create-blocks-from openmetrics` backfills, and as the series an ideal
// Prometheus would return (a rate over two scrapes, kube-state-metrics
// with staleness), for the tests that need no Prometheus.
package replaytest

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/proxysizer/proxysizer/cluster/prom"
)

// Pod is one pod of the history. Its containers run from Started (their
// CPU counters start at 0 then) until Gone (zero: beyond the end); it is
// Ready from Ready (zero: never) and deleted from Deleting (zero: not in
// the history).
type Pod struct {
	Name                           string
	Started, Ready, Deleting, Gone time.Time
}

// Scenario is the truth.
type Scenario struct {
	Namespace string
	// Start and End bound the samples; Scrape is cAdvisor's scrape
	// interval, KSMScrape kube-state-metrics' (0: not scraped).
	Start, End        time.Time
	Scrape, KSMScrape time.Duration
	Pods              []Pod
	// The containers' CPU requests, as kube-state-metrics shows them.
	AppRequestMillicores, SidecarRequestMillicores int64
	// CPU is pod i's app and sidecar CPU (millicores) over the scrape
	// interval ending at t.
	CPU func(i int, t time.Time) (app, sidecar float64)
}

// The containers' names.
const (
	App     = "app"
	Sidecar = "istio-proxy"
)

func (p Pod) runs(t time.Time) bool {
	return !t.Before(p.Started) && (p.Gone.IsZero() || t.Before(p.Gone))
}

func (p Pod) ready(t time.Time) bool {
	return p.runs(t) && !p.Ready.IsZero() && !t.Before(p.Ready) && (p.Deleting.IsZero() || t.Before(p.Deleting))
}

// counters are a pod's CPU counters in nanoseconds, exact.
type counters struct{ app, sidecar int64 }

func nanos(millicores float64, d time.Duration) int64 {
	return int64(math.Round(millicores * d.Seconds() * 1e6))
}

// WriteOpenMetrics writes the history: cAdvisor's
// container_cpu_usage_seconds_total of both containers, the pause
// container ("POD") and the pod's cgroup (container ""), every Scrape;
// kube-state-metrics' kube_pod_start_time, kube_pod_status_ready (true
// and false), kube_pod_deletion_timestamp and
// kube_pod_container_resource_requests every KSMScrape; ending with # EOF.
// A pod started before Start has counted from its start at the CPU of its
// first interval; one started later shows one interval's CPU at its first
// sample (what its containers used while starting), so that Prometheus'
// rate() does not take its counter for one that just crossed zero.
func (s Scenario) WriteOpenMetrics(out io.Writer) error {
	w := bufio.NewWriterSize(out, 1<<20)
	c := make([]counters, len(s.Pods))
	for i, p := range s.Pods {
		since := s.Scrape
		at := p.Started
		if p.Started.Before(s.Start) {
			since, at = s.Start.Sub(p.Started), s.Start
		}
		app, sc := s.CPU(i, at)
		c[i] = counters{nanos(app, since), nanos(sc, since)}
	}
	for t := s.Start; !t.After(s.End); t = t.Add(s.Scrape) {
		ts := strconv.FormatInt(t.Unix(), 10)
		for i, p := range s.Pods {
			if !p.runs(t) {
				continue
			}
			if t.After(s.Start) && t.Sub(p.Started) >= s.Scrape {
				app, sc := s.CPU(i, t)
				c[i].app += nanos(app, s.Scrape)
				c[i].sidecar += nanos(sc, s.Scrape)
			}
			l := fmt.Sprintf(`namespace=%q,pod=%q`, s.Namespace, p.Name)
			fmt.Fprintf(w, "container_cpu_usage_seconds_total{%s,container=%q} %s %s\n", l, App, seconds(c[i].app), ts)
			fmt.Fprintf(w, "container_cpu_usage_seconds_total{%s,container=%q} %s %s\n", l, Sidecar, seconds(c[i].sidecar), ts)
			fmt.Fprintf(w, "container_cpu_usage_seconds_total{%s,container=\"POD\"} %s %s\n", l, seconds(c[i].app/100), ts)
			fmt.Fprintf(w, "container_cpu_usage_seconds_total{%s,container=\"\"} %s %s\n", l, seconds(c[i].app+c[i].sidecar), ts)
		}
		if s.KSMScrape > 0 && t.Sub(s.Start)%s.KSMScrape == 0 {
			s.writeKSM(w, t, ts)
		}
	}
	if _, err := io.WriteString(w, "# EOF\n"); err != nil {
		return err
	}
	return w.Flush()
}

func (s Scenario) writeKSM(w io.Writer, t time.Time, ts string) {
	for _, p := range s.Pods {
		if !p.runs(t) {
			continue
		}
		l := fmt.Sprintf(`namespace=%q,pod=%q,uid="uid-%s"`, s.Namespace, p.Name, p.Name)
		fmt.Fprintf(w, "kube_pod_start_time{%s} %d %s\n", l, p.Started.Unix(), ts)
		ready := 0
		if p.ready(t) {
			ready = 1
		}
		fmt.Fprintf(w, "kube_pod_status_ready{%s,condition=\"true\"} %d %s\n", l, ready, ts)
		fmt.Fprintf(w, "kube_pod_status_ready{%s,condition=\"false\"} %d %s\n", l, 1-ready, ts)
		if !p.Deleting.IsZero() && !t.Before(p.Deleting) {
			fmt.Fprintf(w, "kube_pod_deletion_timestamp{%s} %d %s\n", l, p.Deleting.Unix(), ts)
		}
		for _, c := range []struct {
			name string
			m    int64
		}{{App, s.AppRequestMillicores}, {Sidecar, s.SidecarRequestMillicores}} {
			fmt.Fprintf(w, "kube_pod_container_resource_requests{%s,container=%q,node=\"node-1\",resource=\"cpu\",unit=\"core\"} %s %s\n",
				l, c.name, strconv.FormatFloat(float64(c.m)/1000, 'g', -1, 64), ts)
		}
	}
}

func seconds(ns int64) string { return strconv.FormatFloat(float64(ns)/1e9, 'g', -1, 64) }

// WriteFile writes the OpenMetrics text to dir/history.om.
func (s Scenario) WriteFile(dir string) (string, error) {
	path := dir + "/history.om"
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := s.WriteOpenMetrics(f); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// IdealCPU is what Prometheus returns for
// rate(container_cpu_usage_seconds_total[W]) of the two containers at
// every scrape from Start to End, with W holding exactly two scrapes: a
// pod's CPU over the scrape interval ending at each step, from its second
// sample on.
func (s Scenario) IdealCPU() map[prom.Key][]prom.Point {
	out := map[prom.Key][]prom.Point{}
	for i, p := range s.Pods {
		for t := s.Start; !t.After(s.End); t = t.Add(s.Scrape) {
			if !p.runs(t) || !p.runs(t.Add(-s.Scrape)) {
				continue
			}
			app, sc := s.CPU(i, t)
			out[prom.Key{Namespace: s.Namespace, Pod: p.Name, Container: App}] = append(out[prom.Key{Namespace: s.Namespace, Pod: p.Name, Container: App}], prom.Point{Time: t, Value: app / 1000})
			out[prom.Key{Namespace: s.Namespace, Pod: p.Name, Container: Sidecar}] = append(out[prom.Key{Namespace: s.Namespace, Pod: p.Name, Container: Sidecar}], prom.Point{Time: t, Value: sc / 1000})
		}
	}
	return out
}

// IdealStates is what Prometheus returns for the kube-state-metrics
// queries at every scrape from Start to End: each step shows the latest
// kube-state-metrics scrape at or before it, and nothing of a pod that
// scrape did not see (staleness).
func (s Scenario) IdealStates() *prom.PodStates {
	out := &prom.PodStates{Start: map[prom.Key][]prom.Point{}, Ready: map[prom.Key][]prom.Point{}, Deletion: map[prom.Key][]prom.Point{}, Requests: map[prom.Key][]prom.Point{}}
	if s.KSMScrape <= 0 {
		return out
	}
	for t := s.Start; !t.After(s.End); t = t.Add(s.Scrape) {
		scrape := s.Start.Add(t.Sub(s.Start) / s.KSMScrape * s.KSMScrape)
		for _, p := range s.Pods {
			if !p.runs(scrape) {
				continue
			}
			k := prom.Key{Namespace: s.Namespace, Pod: p.Name}
			out.Start[k] = append(out.Start[k], prom.Point{Time: t, Value: float64(p.Started.Unix())})
			ready := 0.0
			if p.ready(scrape) {
				ready = 1
			}
			out.Ready[k] = append(out.Ready[k], prom.Point{Time: t, Value: ready})
			if !p.Deleting.IsZero() && !scrape.Before(p.Deleting) {
				out.Deletion[k] = append(out.Deletion[k], prom.Point{Time: t, Value: float64(p.Deleting.Unix())})
			}
			for _, c := range []struct {
				name string
				m    int64
			}{{App, s.AppRequestMillicores}, {Sidecar, s.SidecarRequestMillicores}} {
				kc := prom.Key{Namespace: s.Namespace, Pod: p.Name, Container: c.name}
				out.Requests[kc] = append(out.Requests[kc], prom.Point{Time: t, Value: float64(c.m) / 1000})
			}
		}
	}
	return out
}

// StairsStart is where the replay window of Stairs opens.
var StairsStart = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// Stairs is a step pattern on two pods that run throughout (the history
// was recorded with a fixed replica count), for hand-worked replays:
// each pod's app CPU climbs by minute from the window's start, 205m,
// 215m, 225m, 230m, 240m, then 255m from minute 5 to 14, and falls to 185m
// from minute 15; the sidecar uses a flat 30m. The app requests 400m, the
// sidecar 100m. Samples run from 2 minutes before StairsStart to 30
// minutes after, every 15 s; kube-state-metrics is scraped every 30 s when
// ksm is set.
//
// A sample at t is the CPU over (t-15s, t]: minute m's level shows first
// at m:15.
func Stairs(ksm bool) Scenario {
	levels := []float64{205, 215, 225, 230, 240, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255}
	s := Scenario{
		Namespace: "shop", Start: StairsStart.Add(-2 * time.Minute), End: StairsStart.Add(30 * time.Minute),
		Scrape: 15 * time.Second, AppRequestMillicores: 400, SidecarRequestMillicores: 100,
		CPU: func(_ int, t time.Time) (float64, float64) {
			m := int(math.Floor(float64(t.Add(-15*time.Second).Sub(StairsStart)) / float64(time.Minute)))
			switch {
			case m < 0:
				return levels[0], 30
			case m < len(levels):
				return levels[m], 30
			}
			return 185, 30
		},
	}
	if ksm {
		s.KSMScrape = 30 * time.Second
	}
	for _, name := range []string{"web-7d9f5c8b6-x2vzq", "web-7d9f5c8b6-k8m4p"} {
		s.Pods = append(s.Pods, Pod{Name: name, Started: StairsStart.Add(-time.Hour), Ready: StairsStart.Add(-time.Hour + 30*time.Second)})
	}
	return s
}
