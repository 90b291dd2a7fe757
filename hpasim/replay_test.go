package hpasim

import (
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/version"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func at(seconds float64) time.Time { return t0.Add(time.Duration(seconds * float64(time.Second))) }

// testController: 15 s syncs, 10% tolerance, a 60 s scale-down window, a
// 30 s CPU initialisation period.
func testController() Controller {
	return Controller{SyncPeriod: 15 * time.Second, Tolerance: 0.1, DownscaleStabilization: 60 * time.Second,
		CPUInitializationPeriod: 30 * time.Second, InitialReadinessDelay: 10 * time.Second}
}

// sidecarPod is a pod of app (400m) and istio-proxy (100m) that started
// and turned Ready at startedAt.
func sidecarPod(name string, startedAt time.Time, native bool) Pod {
	return Pod{
		Name: name,
		Containers: []Container{
			{Name: "app", CPURequestMillicores: 400, HasCPURequest: true},
			{Name: "istio-proxy", CPURequestMillicores: 100, HasCPURequest: true, NativeSidecar: native},
		},
		States: []PodState{{From: startedAt, Phase: "Running", StartTime: startedAt, Ready: "True", ReadySince: startedAt}},
	}
}

// usage gives each listed pod's app and sidecar the same CPU at each
// scrape time (10 s windows).
func usage(pods []string, scrapes []time.Time, app, sidecar int64) []Series {
	var out []Series
	for _, p := range pods {
		a := Series{Pod: p, Container: "app"}
		s := Series{Pod: p, Container: "istio-proxy"}
		for _, t := range scrapes {
			a.Points = append(a.Points, Point{At: t, Window: 10 * time.Second, Millicores: app})
			s.Points = append(s.Points, Point{At: t, Window: 10 * time.Second, Millicores: sidecar})
		}
		out = append(out, a, s)
	}
	return out
}

func resource(target int32) []autoscalingv2.MetricSpec {
	return []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}
}

func containerResource(container string, target int32) []autoscalingv2.MetricSpec {
	return []autoscalingv2.MetricSpec{{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
		Name: corev1.ResourceCPU, Container: container, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}
}

func spec(minReplicas, maxReplicas int32, metrics []autoscalingv2.MetricSpec) autoscalingv2.HorizontalPodAutoscalerSpec {
	return autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &minReplicas, MaxReplicas: maxReplicas, Metrics: metrics}
}

func replay(t *testing.T, c Controller, s autoscalingv2.HorizontalPodAutoscalerSpec, h History, syncs []Sync) []Decision {
	t.Helper()
	d, err := Replay(c, s, h, syncs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func desired(ds []Decision) []int32 {
	out := make([]int32, len(ds))
	for i, d := range ds {
		out[i] = d.DesiredReplicas
	}
	return out
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// twoPods: two pods started long ago, app 200m and sidecar 100m each,
// scraped at 0 s.
func twoPods(app, sidecar int64) History {
	names := []string{"web-a", "web-b"}
	return History{
		Pods:            []Pod{sidecarPod("web-a", at(-600), false), sidecarPod("web-b", at(-600), false)},
		Usage:           usage(names, []time.Time{at(0)}, app, sidecar),
		MetricsMaxAge:   10 * time.Second,
		InitialReplicas: 2,
	}
}

// The Resource metric averages over all containers: (200 + 100) / (400 +
// 100) = 60% against a 50% target is a ratio of 1.2, past the 10%
// tolerance: ceil(1.2 x 2) = 3. The app alone is at 200/400 = 50%.
func TestResourceMetricCountsTheSidecar(t *testing.T) {
	d := replay(t, testController(), spec(1, 10, resource(50)), twoPods(200, 100), []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 3 || d[0].Readings[0].Utilization != 60 || d[0].Readings[0].AverageMillicores != 300 {
		t.Fatalf("Resource 50%%: %v, want 3 replicas at 60%% and 300m", d[0])
	}
	d = replay(t, testController(), spec(1, 10, containerResource("app", 50)), twoPods(200, 100), []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 2 || d[0].Readings[0].Utilization != 50 || d[0].Reason != "desired within range" {
		t.Fatalf("ContainerResource app 50%%: %v, want 2 at 50%%", d[0])
	}
}

// 270/500 = 54%: ratio 1.08 is within the tolerance, no change. 280/500 =
// 56%: 1.12, ceil(2.24) = 3.
func TestTolerance(t *testing.T) {
	if d := replay(t, testController(), spec(1, 10, resource(50)), twoPods(180, 90), []Sync{{At: at(1)}}); d[0].DesiredReplicas != 2 {
		t.Errorf("54%%: %v, want 2", d[0])
	}
	if d := replay(t, testController(), spec(1, 10, resource(50)), twoPods(190, 90), []Sync{{At: at(1)}}); d[0].DesiredReplicas != 3 {
		t.Errorf("56%%: %v, want 3", d[0])
	}
}

// Utilisation is truncated: 2 x (199 + 100) / 1000 = 59.8% reads 59.
func TestUtilizationTruncated(t *testing.T) {
	d := replay(t, testController(), spec(1, 10, resource(50)), twoPods(199, 100), []Sync{{At: at(1)}})
	if d[0].Readings[0].Utilization != 59 {
		t.Fatalf("%v, want 59%%", d[0])
	}
}

// A third pod without a metric: on a scale-up it counts as 0%. The two
// measured pods are at 2 x 400 / 1000 = 80% (ratio 1.6); with the third at 0:
// 800 / 1500 = 53% (ratio 1.06), within the tolerance: stay at 3. On a
// scale-down it counts as 100% of its request: 2 x 100 / 1000 = 20% (0.4),
// then (200 + 500) / 1500 = 46% (0.92): stay at 3.
func TestMissingPods(t *testing.T) {
	for _, tc := range []struct {
		app, sidecar int64
		util         int32
	}{{300, 100, 80}, {50, 50, 20}} {
		h := twoPods(tc.app, tc.sidecar)
		h.Pods = append(h.Pods, sidecarPod("web-c", at(-600), false))
		h.InitialReplicas = 3
		d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
		if r := d[0].Readings[0]; d[0].DesiredReplicas != 3 || r.Missing != 1 || r.Utilization != tc.util {
			t.Errorf("app %dm: %v, want 3 replicas, 1 missing, %d%%", tc.app, d[0], tc.util)
		}
	}
	// Without the third pod the same readings ask for ceil(1.6 x 2) = 4 and
	// ceil(0.4 x 2) = 1.
	for _, tc := range []struct {
		app, sidecar int64
		want         int32
	}{{300, 100, 4}, {50, 50, 1}} {
		d := replay(t, testController(), spec(1, 10, resource(50)), twoPods(tc.app, tc.sidecar), []Sync{{At: at(1)}})
		if d[0].Proposal != tc.want {
			t.Errorf("app %dm, two pods: proposal %d, want %d", tc.app, d[0].Proposal, tc.want)
		}
	}
}

// A pod within the CPU initialisation period whose sample began before it
// turned Ready is unready: left out, and counted at 0% on a scale-up. The
// two old pods read 80% (ratio 1.6); with the new one at 0: 53%, within the
// tolerance. Past the initialisation period the same sample counts: 3 pods at
// 80% ask for ceil(1.6 x 3) = 5.
func TestCPUInitializationPeriod(t *testing.T) {
	h := twoPods(300, 100)
	newPod := sidecarPod("web-c", at(-5), false) // Ready at -5 s; the sample at 0 s covers -10..0 s
	h.Pods = append(h.Pods, newPod)
	h.Usage = append(h.Usage, usage([]string{"web-c"}, []time.Time{at(0)}, 300, 100)...)
	h.InitialReplicas = 3
	d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if r := d[0].Readings[0]; d[0].DesiredReplicas != 3 || r.Unready != 1 || r.Ready != 2 {
		t.Fatalf("within the initialisation period: %v, want 3 replicas, 1 unready", d[0])
	}
	c := testController()
	c.CPUInitializationPeriod = 2 * time.Second
	d = replay(t, c, spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if r := d[0].Readings[0]; d[0].DesiredReplicas != 5 || r.Ready != 3 {
		t.Fatalf("past the initialisation period: %v, want 5 replicas, 3 ready", d[0])
	}
}

// Native sidecars count in the requests from 1.29: 4 pods at (200 + 100) /
// 500 = 60% ask for ceil(1.2 x 4) = 5; on 1.28 the request is the app's
// 400m alone, the usage still both containers': 75%, ceil(1.5 x 4) = 6.
func TestNativeSidecarRequests(t *testing.T) {
	var pods []Pod
	var names []string
	for _, n := range []string{"a", "b", "c", "d"} {
		pods = append(pods, sidecarPod(n, at(-600), true))
		names = append(names, n)
	}
	h := History{Pods: pods, Usage: usage(names, []time.Time{at(0)}, 200, 100), MetricsMaxAge: 10 * time.Second, InitialReplicas: 4}
	d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 5 || d[0].Readings[0].Utilization != 60 {
		t.Errorf("1.33: %v, want 5 at 60%%", d[0])
	}
	c := testController()
	c.Version = version.MustParseGeneric("1.28.3")
	d = replay(t, c, spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 6 || d[0].Readings[0].Utilization != 75 {
		t.Errorf("1.28: %v, want 6 at 75%%", d[0])
	}
}

// A container without a CPU request fails the Resource metric: the status
// keeps its desired replicas (0 for a new HPA) and nothing scales; a
// ContainerResource metric on the other container is unaffected.
func TestMissingRequest(t *testing.T) {
	h := twoPods(200, 100)
	for i := range h.Pods {
		h.Pods[i].Containers[1].HasCPURequest = false
	}
	d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 0 || d[0].Proposal != -1 || !strings.Contains(d[0].Reason, "missing request for cpu in container istio-proxy") {
		t.Errorf("Resource: %v", d[0])
	}
	d = replay(t, testController(), spec(1, 10, containerResource("app", 50)), h, []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 2 {
		t.Errorf("ContainerResource: %v", d[0])
	}
}

// stepHistory: pods web-0..web-(n-1) that exist throughout, each reading
// the given app CPU (sidecar 0) at scrapes every 15 s from 0 s; the usage
// changes at the times in steps.
func stepHistory(n int, steps map[float64]int64, until float64) History {
	h := History{MetricsMaxAge: 15 * time.Second, InitialReplicas: int32(n)}
	for i := range n {
		name := "web-" + string(rune('0'+i))
		h.Pods = append(h.Pods, sidecarPod(name, at(-600), false))
		a := Series{Pod: name, Container: "app"}
		var cur int64
		for s := 0.0; s <= until; s += 15 {
			if v, ok := steps[s]; ok {
				cur = v
			}
			a.Points = append(a.Points, Point{At: at(s), Window: 15 * time.Second, Millicores: cur})
		}
		h.Usage = append(h.Usage, a)
	}
	return h
}

// Without behavior, a scale-down waits for the highest recommendation of
// the stabilisation window (60 s) to age out. 4 pods at 300m of 500m (60%,
// target 50%) ask for 5; from 30 s 100m (20%) asks for ceil(0.4 x 5) = 2,
// held at 5 while the 5s of the last 60 s last: the last 5 was recommended
// at 16 s, so the scale-down comes at the first sync after 76 s (91 s).
// Pods do not follow the replica count here: it only counts the decisions.
func TestScaleDownStabilization(t *testing.T) {
	h := stepHistory(4, map[float64]int64{0: 300, 30: 100}, 120)
	syncs := SyncsEvery(at(1), at(121), 15*time.Second) // 16, 31, ..., 121
	d := replay(t, testController(), spec(1, 10, resource(50)), h, syncs)
	want := []int32{5, 5, 5, 5, 5, 2, 2, 2}
	if got := desired(d); !equal(got, want) {
		t.Fatalf("desired %v, want %v\n%v", got, want, d)
	}
	if d[1].Reason != "scale-down stabilised" || d[1].Proposal != 2 {
		t.Errorf("sync at 31 s: %v", d[1])
	}
}

// Without behavior, one sync adds at most max(2 x current, 4) replicas:
// 2 pods at 100% ask for ceil(2 x 2) = 4, 2 at 250%: ceil(5 x 2) = 10, capped
// at 4; the next sync (the two pods still ask for 10) caps at 2 x 4 = 8.
func TestLegacyScaleUpLimit(t *testing.T) {
	h := stepHistory(2, map[float64]int64{0: 1250}, 30)
	d := replay(t, testController(), spec(1, 20, resource(50)), h, SyncsEvery(at(1), at(31), 15*time.Second))
	if got, want := desired(d), []int32{4, 8}; !equal(got, want) {
		t.Fatalf("desired %v, want %v\n%v", got, want, d)
	}
	if d[0].Reason != "scale-up limit" {
		t.Errorf("%v", d[0])
	}
}

// With behavior (the defaults: 4 pods or 100% per 15 s, whichever adds
// more), 2 replicas asking for 10 get max(2+4, 2x2) = 6; 10 s later (syncs
// every 10 s) the 4 added within 15 s count against the period: start 2,
// limit 6 again; after 15 s from 6: max(6+4, 12) = 12, capped by the ask 10.
func TestBehaviorScaleUpPolicies(t *testing.T) {
	h := stepHistory(2, map[float64]int64{0: 1250}, 60)
	s := spec(1, 20, resource(50))
	s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
	c := testController()
	syncs := SyncsEvery(at(0), at(30), 10*time.Second) // 10, 20, 30
	d := replay(t, c, s, h, syncs)
	if got, want := desired(d), []int32{6, 6, 10}; !equal(got, want) {
		t.Fatalf("desired %v, want %v\n%v", got, want, d)
	}
	// The proposals come from 2 pods at 250%: ceil(5 x 2) = 10.
	if d[0].Proposal != 10 || d[0].Reason != "scale-up limit" {
		t.Errorf("%v", d[0])
	}
}

// With behavior, the scale-down window defaults to the controller's flag
// and a policy of 50% per 15 s halves at most each period: 8 replicas
// asking for 1 (min 1) go 8 -> 4 -> 2 -> 1 once the window (20 s) has
// passed the 8 recommended at the first sync.
func TestBehaviorScaleDownPolicy(t *testing.T) {
	h := stepHistory(8, map[float64]int64{0: 10}, 120)
	s := spec(1, 20, resource(50))
	fifty := []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 50, PeriodSeconds: 15}}
	s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{Policies: fifty}}
	c := testController()
	c.DownscaleStabilization = 20 * time.Second
	d := replay(t, c, s, h, SyncsEvery(at(0), at(80), 16*time.Second)) // 16, 32, 48, 64, 80
	// 16 and 32: the 8 recorded at 16 s is within 20 s; 48: 8 -> 4 (50%
	// of 8); 64: the 4 removed at 48 s is past the 15 s period, 4 -> 2;
	// 80: 2 -> 1.
	if got, want := desired(d), []int32{8, 8, 4, 2, 1}; !equal(got, want) {
		t.Fatalf("desired %v, want %v\n%v", got, want, d)
	}
}

// Replicas outside [min, max] are brought inside without reading metrics.
func TestMinMaxReplicas(t *testing.T) {
	h := twoPods(0, 0)
	h.InitialReplicas = 12
	d := replay(t, testController(), spec(3, 10, resource(50)), h, []Sync{{At: at(1)}, {At: at(9)}})
	if d[0].DesiredReplicas != 10 || d[0].Reason != "above maxReplicas" {
		t.Errorf("%v", d[0])
	}
	// Next sync: 10 replicas; the 2 pods at 0% ask for 0, but the initial
	// recommendation (12) is within the stabilisation window, capped at
	// maxReplicas.
	if d[1].DesiredReplicas != 10 || d[1].Proposal != 0 {
		t.Errorf("%v", d[1])
	}
	h.InitialReplicas = 1
	d = replay(t, testController(), spec(3, 10, resource(50)), h, []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 3 || d[0].Reason != "below minReplicas" {
		t.Errorf("%v", d[0])
	}
}

// A sync reads the scrape named by MetricsAt (metrics-server's timestamp of
// what the controller read), else the latest at or before it; a point older
// than MetricsMaxAge is no metric.
func TestMetricsSelection(t *testing.T) {
	h := twoPods(200, 50) // 50%: no change
	for i := range h.Usage {
		if h.Usage[i].Container == "app" {
			h.Usage[i].Points = append(h.Usage[i].Points, Point{At: at(10), Window: 10 * time.Second, Millicores: 400})
		} else {
			h.Usage[i].Points = append(h.Usage[i].Points, Point{At: at(10), Window: 10 * time.Second, Millicores: 100})
		}
	}
	d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(10.01), MetricsAt: at(0)}})
	if d[0].DesiredReplicas != 2 {
		t.Errorf("reading the 0 s scrape: %v", d[0])
	}
	d = replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(10.01)}})
	if d[0].DesiredReplicas != 4 { // 100% of 50%: ceil(2 x 2)
		t.Errorf("reading the 10 s scrape: %v", d[0])
	}
	d = replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(25)}})
	if d[0].Proposal != -1 || !strings.Contains(d[0].Reason, "no metrics returned") {
		t.Errorf("15 s after the last scrape: %v", d[0])
	}
}

// Deleted and failed pods are ignored; a pod that is gone is not listed.
func TestPodLifecycle(t *testing.T) {
	h := twoPods(300, 100) // 80%: 1.6
	h.Pods[1].States = append(h.Pods[1].States, PodState{From: at(0.5), Phase: "Running", Deleting: true, StartTime: at(-600), Ready: "True", ReadySince: at(-600)})
	d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	// one pod counted: ceil(1.6 x 1) = 2
	if r := d[0].Readings[0]; r.Ignored != 1 || r.Ready != 1 || d[0].Proposal != 2 {
		t.Errorf("deleting: %v", d[0])
	}
	h.Pods[1].States[1] = PodState{From: at(0.5), Gone: true}
	d = replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if r := d[0].Readings[0]; r.Ignored != 0 || r.Ready != 1 || d[0].Proposal != 2 {
		t.Errorf("gone: %v", d[0])
	}
}

func TestMillicoresFromCores(t *testing.T) {
	for _, tc := range []struct {
		cores float64
		want  int64
	}{{0.190004165, 191}, {0.2, 200}, {0.1999999999, 200}, {0, 0}, {1.5, 1500}} {
		if got := MillicoresFromCores(tc.cores); got != tc.want {
			t.Errorf("%g cores: %dm, want %dm", tc.cores, got, tc.want)
		}
	}
}

func TestInvalidInput(t *testing.T) {
	h := twoPods(1, 1)
	if _, err := Replay(Controller{}, spec(1, 2, resource(50)), h, nil); err == nil || !strings.Contains(err.Error(), "sync period") {
		t.Errorf("zero controller: %v", err)
	}
	mem := []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory}}}
	if _, err := Replay(testController(), spec(1, 2, mem), h, nil); err == nil || !strings.Contains(err.Error(), "only the cpu resource") {
		t.Errorf("memory metric: %v", err)
	}
	h.MetricsMaxAge = 0
	if _, err := Replay(testController(), spec(1, 2, resource(50)), h, nil); err == nil || !strings.Contains(err.Error(), "max age") {
		t.Errorf("no max age: %v", err)
	}
}

// The app-only reference: the sidecar's request and usage removed, the
// Resource metric reads what ContainerResource on the app reads.
func TestWithout(t *testing.T) {
	h := twoPods(200, 100).Without("istio-proxy")
	d := replay(t, testController(), spec(1, 10, resource(50)), h, []Sync{{At: at(1)}})
	if d[0].Readings[0].Utilization != 50 || d[0].DesiredReplicas != 2 {
		t.Fatalf("%v, want 50%% and 2 replicas", d[0])
	}
	if len(twoPods(200, 100).Pods[0].Containers) != 2 {
		t.Fatal("Without changed its receiver")
	}
}

// An average-value target: 2 pods at 300m against 200m is a ratio of 1.5,
// ceil(3.0) = 3; no requests are needed (the sidecar has none here).
func TestAverageValueTarget(t *testing.T) {
	h := twoPods(200, 100)
	for i := range h.Pods {
		h.Pods[i].Containers[1].HasCPURequest = false
	}
	q := apiresource.MustParse("200m")
	s := spec(1, 10, []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}}})
	d := replay(t, testController(), s, h, []Sync{{At: at(1)}})
	if d[0].DesiredReplicas != 3 || d[0].Readings[0].AverageMillicores != 300 {
		t.Fatalf("%v, want 3 replicas at 300m", d[0])
	}
}

// The behavior's own tolerance counts only with the HPAConfigurableTolerance
// gate: 60% of 50% (1.2) is within a 0.3 scale-up tolerance.
func TestConfigurableTolerance(t *testing.T) {
	s := spec(1, 10, resource(50))
	tol := apiresource.MustParse("0.3")
	s.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{Tolerance: &tol}}
	c := testController()
	if d := replay(t, c, s, twoPods(200, 100), []Sync{{At: at(1)}}); d[0].DesiredReplicas != 3 {
		t.Errorf("gate off: %v, want 3", d[0])
	}
	c.ConfigurableTolerance = true
	if d := replay(t, c, s, twoPods(200, 100), []Sync{{At: at(1)}}); d[0].DesiredReplicas != 2 {
		t.Errorf("gate on: %v, want 2", d[0])
	}
}
