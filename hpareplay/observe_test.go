package hpareplay

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/replaytest"
)

var s0 = replaytest.StairsStart

func at(d time.Duration) time.Time { return s0.Add(d) }

// churn: pod a runs throughout; b starts at 2:00, turns Ready at 2:40 and
// is deleted at 10:00, gone at 10:30; c starts at 5:00 and never turns
// Ready. Each pod's app uses 100m (c 50m), the sidecar 20m + 0.1 x the
// app's.
func churn(ksm bool) Source {
	s := replaytest.Scenario{Namespace: "shop", Start: s0.Add(-2 * time.Minute), End: s0.Add(15 * time.Minute), Scrape: 15 * time.Second,
		AppRequestMillicores: 400, SidecarRequestMillicores: 100,
		Pods: []replaytest.Pod{
			{Name: "web-7d9f5c8b6-aaaaa", Started: s0.Add(-time.Hour), Ready: s0.Add(-time.Hour)},
			{Name: "web-7d9f5c8b6-bbbbb", Started: at(2 * time.Minute), Ready: at(160 * time.Second), Deleting: at(10 * time.Minute), Gone: at(630 * time.Second)},
			{Name: "web-7d9f5c8b6-ccccc", Started: at(5 * time.Minute)},
		},
		CPU: func(i int, _ time.Time) (float64, float64) {
			app := []float64{100, 100, 50}[i]
			return app, 20 + 0.1*app
		},
	}
	if ksm {
		s.KSMScrape = 30 * time.Second
	}
	src := Source{Start: s0, End: s0.Add(15 * time.Minute), Step: 15 * time.Second, RateWindow: 20 * time.Second,
		CPU: s.IdealCPU(), Containers: podContainers, Sidecar: "istio-proxy"}
	if ksm {
		src.States = s.IdealStates()
	}
	return src
}

func TestLifecyclesFromKubeStateMetrics(t *testing.T) {
	o, err := Observe(churn(true))
	if err != nil {
		t.Fatal(err)
	}
	if o.Lifecycles != LifecyclesKubeStateMetrics || len(o.Pods) != 3 {
		t.Fatalf("%s, %d pods", o.Lifecycles, len(o.Pods))
	}
	b := o.Pods[1]
	// Ready at 2:40, seen at kube-state-metrics' next scrape (3:00);
	// deleting from its timestamp; last CPU sample at 10:15.
	if !b.Started.Equal(at(2*time.Minute)) || !b.ReadyAt.Equal(at(3*time.Minute)) || !b.Deleting.Equal(at(10*time.Minute)) || !b.Last.Equal(at(615*time.Second)) || !b.First.Equal(at(2*time.Minute)) {
		t.Errorf("pod b %+v", b)
	}
	if c := o.Pods[2]; !c.ReadyAt.IsZero() {
		t.Errorf("pod c turned ready: %+v", c)
	}
	// One pod ready, two from 3:00 until the deletion at 10:00.
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{0, 1}, {165 * time.Second, 1}, {3 * time.Minute, 2}, {585 * time.Second, 2}, {10 * time.Minute, 1}, {15 * time.Minute, 1}} {
		if got := o.ReadyPods[int(tc.at/(15*time.Second))]; got != tc.want {
			t.Errorf("at %s: %d ready, want %d", tc.at, got, tc.want)
		}
	}
	// Pod b took 60 s from its start to Ready as kube-state-metrics saw it.
	if o.PodStartup != time.Minute || !strings.HasPrefix(o.PodStartupBasis, "measured: the median over 1 pods") {
		t.Errorf("start-up %s (%s)", o.PodStartup, o.PodStartupBasis)
	}
	// The load: the pods ready within the sample's window (20 s: the step
	// before too), so b still counts at 10:00 and 10:15; c never.
	app := o.Demand.Usage["app"]
	for _, tc := range []struct {
		at   time.Duration
		want float64
		pods int
	}{{0, 100, 1}, {3 * time.Minute, 200, 2}, {10 * time.Minute, 200, 2}, {615 * time.Second, 200, 2}, {630 * time.Second, 100, 1}} {
		j := int(tc.at / (15 * time.Second))
		if math.Abs(app.Millicores[j]-tc.want) > 1e-9 || app.Pods[j] != tc.pods {
			t.Errorf("load at %s: %vm over %d pods, want %vm over %d", tc.at, app.Millicores[j], app.Pods[j], tc.want, tc.pods)
		}
	}
	// The sidecar's line: 20m + 0.1 x 100m on every sample kept: the app
	// at one level, so no slope. a's 61 samples; b is ready from 3:00 to
	// 9:45 (28 steps), less the first two, whose 20 s window reaches back
	// before it was seen Ready: 61 + 26.
	if f := o.Sidecar; f == nil || math.Abs(f.IdleMillicores-30) > 1e-9 || f.PerAppMillicore != 0 || f.Samples != 61+26 {
		t.Errorf("sidecar %+v", f)
	}
	if o.Demand.InitialReplicas != 1 {
		t.Errorf("initial replicas %d", o.Demand.InitialReplicas)
	}
}

// Without kube-state-metrics a pod exists and is ready from its first to
// its last CPU sample: b from 2:15 (the rate's first pair) to 10:15, c
// from 5:15: its 50m counts in the load.
func TestLifecyclesInferred(t *testing.T) {
	o, err := Observe(churn(false))
	if err != nil {
		t.Fatal(err)
	}
	if o.Lifecycles != LifecyclesInferred || !strings.HasPrefix(o.PodStartupBasis, "assumed") {
		t.Fatalf("%s, %s", o.Lifecycles, o.PodStartupBasis)
	}
	if b := o.Pods[1]; !b.First.Equal(at(135*time.Second)) || !b.Last.Equal(at(615*time.Second)) || !b.Started.IsZero() {
		t.Errorf("pod b %+v", b)
	}
	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{2 * time.Minute, 1}, {135 * time.Second, 2}, {315 * time.Second, 3}, {615 * time.Second, 3}, {630 * time.Second, 2}} {
		if got := o.ReadyPods[int(tc.at/(15*time.Second))]; got != tc.want {
			t.Errorf("at %s: %d ready, want %d", tc.at, got, tc.want)
		}
	}
	if got := o.Demand.Usage["app"].Millicores[int(6*time.Minute/(15*time.Second))]; got != 250 {
		t.Errorf("load at 6:00: %vm, want 100 + 100 + 50", got)
	}
}

func TestObserveErrors(t *testing.T) {
	src := churn(true)
	src.Start = s0.Add(-30 * time.Minute) // before any sample
	if _, err := Observe(src); err == nil || !strings.Contains(err.Error(), "no pod of the workload was ready at the window's start") {
		t.Errorf("a window before the pods: %v", err)
	}
	src = churn(true)
	src.CPU = nil
	if _, err := Observe(src); err == nil || !strings.Contains(err.Error(), "container_cpu_usage_seconds_total") {
		t.Errorf("no CPU series: %v", err)
	}
}
