package hpareplay

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/version"

	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/internal/replaytest"
	"github.com/proxysizer/proxysizer/sizing"
)

var podContainers = []hpasim.Container{
	{Name: "app", CPURequestMillicores: 400, HasCPURequest: true},
	{Name: "istio-proxy", CPURequestMillicores: 100, HasCPURequest: true},
}

func hpaSpec(target int32) autoscalingv2.HorizontalPodAutoscalerSpec {
	minReplicas := int32(2)
	return autoscalingv2.HorizontalPodAutoscalerSpec{MinReplicas: &minReplicas, MaxReplicas: 10,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &target}}}}}
}

// stairsSource is the Stairs history as an ideal Prometheus returns it,
// over the replay window (a rate over two 15 s scrapes).
func stairsSource(ksm bool) Source {
	s := replaytest.Stairs(ksm)
	src := Source{Start: replaytest.StairsStart, End: replaytest.StairsStart.Add(30 * time.Minute), Step: 15 * time.Second,
		RateWindow: 20 * time.Second, CPU: s.IdealCPU(), Containers: podContainers, Sidecar: "istio-proxy"}
	if ksm {
		src.States = s.IdealStates()
	}
	return src
}

// recalculate is the HPA core on the pod, with the sidecar's CPU at the
// app's 200m target read off the history's line.
func recalculate(t *testing.T, o *Observed) *sizing.HPA {
	t.Helper()
	h, err := sizing.RecalculateHPA(sizing.PodHPA{AppCPURequestMillicores: 400, SidecarCPURequestMillicores: 100, TargetPercent: 50,
		AppContainer: "app", SidecarCPU: sizing.SidecarCPUGiven(o.Sidecar.At(200), "measured")})
	if err != nil {
		t.Fatal(err)
	}
	return &h
}

// StairsExpected are the replicas after each of the 120 syncs (every 15 s
// from 0:15 to 30:00) of Stairs, worked by hand with the controller's
// defaults (15 s syncs, 0.1 tolerance, 5 min scale-down window, 5 min CPU
// initialisation), min 2, a new pod Ready 30 s after the scale-up
// (DefaultPodStartup) and samples averaged over 20 s (the last scrape
// interval):
//
// App-only reference (Resource 50% of the app's 400m): utilisation
// floor(a/4), scaling up past 1.1 x 50 = 55.
//
//	2 pods, a = 205, 215: 51%, 53%: within the tolerance. 225 (first at
//	  2:15): 56% (1.12): ceil(2.24) = 3, a pod Pending until 2:45.
//	2:30: the Pending pod is unready and counted at 0 on a scale-up:
//	  450/1200 = 37% (0.74), against the direction: stay at 3.
//	2:45, 3:00: 3 ready pods share 450m: 150m each; the new pod's sample
//	  began before it was Ready (within the initialisation period it is
//	  unready until 3:05); the other two at 37%: proposal ceil(1.48) = 2,
//	  held at 3 by the 5 min window.
//	3:15 on: 3 pods at 460/3 = 153.3 -> 154m (38%): ceil(2.28) = 3; 160m
//	  (40%), 170m (42%): 3.
//	15:15 (185m, 370/3 -> 124m, 31%): proposal ceil(1.86) = 2, held until
//	  the last 3 (15:00) leaves the window: 2 from 20:15; 2 pods at 185m
//	  read 46%.
//
// Recommended (Resource 46%: (200 + 30)/500, the usage-aware target):
// utilisation floor((a + 30)/5), up past 1.1 x 46 = 50.6: 47, 49, then 51
// at 225m (2:15): 3, and the same path as the reference (at 3 pods 36%,
// 38%, 40%, all ceil to 3; 30% at 15:15: 2 from 20:15).
//
// Current (Resource 50% with the sidecar): floor((a + 30)/5) = 47, 49, 51,
// 52, 54, then 57 at 255m (5:15): 3, the same unready path, 2 from 20:15.
// It scales up 3 minutes after the reference (12 syncs with one pod fewer).
func stairsExpected() (current, reference []int32) {
	for k := 1; k <= 120; k++ {
		ref, cur := int32(2), int32(2)
		if k >= 9 && k <= 80 {
			ref = 3
		}
		if k >= 21 && k <= 80 {
			cur = 3
		}
		current, reference = append(current, cur), append(reference, ref)
	}
	return current, reference
}

func TestReplayStairsByHand(t *testing.T) {
	for _, ksm := range []bool{true, false} {
		o, err := Observe(stairsSource(ksm))
		if err != nil {
			t.Fatal(err)
		}
		wantLifecycles := LifecyclesInferred
		if ksm {
			wantLifecycles = LifecyclesKubeStateMetrics
		}
		if o.Lifecycles != wantLifecycles || o.Demand.InitialReplicas != 2 || o.PodStartup != DefaultPodStartup || !strings.HasPrefix(o.PodStartupBasis, "assumed") {
			t.Fatalf("ksm %v: lifecycles %q, initial %d, start-up %s (%s)", ksm, o.Lifecycles, o.Demand.InitialReplicas, o.PodStartup, o.PodStartupBasis)
		}
		f := o.Sidecar
		if f == nil || math.Abs(f.IdleMillicores-30) > 1e-9 || f.PerAppMillicore != 0 || f.LoadModelIdleMillicores != 30 || f.Samples != 2*121 || f.AppMinMillicores != 185 || f.AppMaxMillicores != 255 {
			t.Fatalf("ksm %v: sidecar line %+v, want a flat 30m over 242 samples, the app between 185m and 255m", ksm, f)
		}
		h := recalculate(t, o)
		if h.ManifestTargetPercent != 46 {
			t.Fatalf("recommended target %d%%, want (200 + 30)/500 = 46%%", h.ManifestTargetPercent)
		}
		rep, err := Replay(o, Request{Namespace: "shop", HPA: "web", Deployment: "web", Controller: hpasim.DefaultController(),
			Spec: hpaSpec(50), CPUMetric: 0, Recalculation: h, SidecarBasis: "measured", SidecarFromHistory: true, Sidecar: "istio-proxy"})
		if err != nil {
			t.Fatal(err)
		}
		wantCur, wantRef := stairsExpected()
		got := func(f func(SyncRow) int32) []int32 {
			var out []int32
			for _, s := range rep.Syncs {
				out = append(out, f(s))
			}
			return out
		}
		for _, c := range []struct {
			name      string
			got, want []int32
		}{
			{"current", got(func(s SyncRow) int32 { return s.Current }), wantCur},
			{"recommended", got(func(s SyncRow) int32 { return s.Recommended }), wantRef},
			{"reference", got(func(s SyncRow) int32 { return s.Reference }), wantRef},
			{"observed", got(func(s SyncRow) int32 { return int32(s.Observed) }), repeat(2, 120)},
		} {
			if !equal(c.got, c.want) {
				t.Errorf("ksm %v: %s replicas\n got %v\nwant %v", ksm, c.name, c.got, c.want)
			}
		}
		cur, rec := rep.Runs[0], rep.Runs[1]
		if cur.MinutesDiffering != 3 || cur.MinutesBelow != 3 || cur.MinutesAbove != 0 || cur.ExtraPodMinutes != -3 ||
			cur.FirstScaleUpMinutesAfterReference == nil || *cur.FirstScaleUpMinutesAfterReference != 3 {
			t.Errorf("ksm %v: current run %+v, want 3 min below the reference, first scale-up 3 min late", ksm, cur)
		}
		if len(cur.Differing) != 1 || !cur.Differing[0].From.Equal(replaytest.StairsStart.Add(135*time.Second)) ||
			!cur.Differing[0].To.Equal(replaytest.StairsStart.Add(315*time.Second)) || cur.Differing[0].Replicas != 2 || cur.Differing[0].Reference != 3 {
			t.Errorf("ksm %v: current differs %+v, want 2 against 3 from 2:15 to 5:15", ksm, cur.Differing)
		}
		if rec.MinutesDiffering != 0 || rec.Metric != "Resource cpu at 46%" {
			t.Errorf("ksm %v: recommended %+v", ksm, rec)
		}
		for _, want := range []string{"the current target (Resource cpu at 50%) differed from the app-only reference for 3 min: 0 min with more pods",
			"3 min with fewer", "its first scale-up came 3 min after the reference's", "the recommended target (Resource cpu at 46%) ran the same replicas"} {
			if !strings.Contains(rep.Reading, want) {
				t.Errorf("ksm %v: reading lacks %q:\n%s", ksm, want, rep.Reading)
			}
		}
		// The table has a row per change: 0:15, 2:15, 5:15, 20:15.
		if ch := Changes(rep); len(ch) != 4 {
			t.Errorf("ksm %v: %d changes, want 4: %+v", ksm, len(ch), ch)
		}
		var csv bytes.Buffer
		if err := WriteCSV(&csv, rep); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
		if len(lines) != 121 || lines[9] != "2026-01-05T10:02:15Z,2,2,3,3" {
			t.Errorf("ksm %v: CSV %d lines, line 9 %q", ksm, len(lines), lines[9])
		}
	}
}

func repeat(v int32, n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = v
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

// Native sidecars count in the pods' requests from Kubernetes 1.29. On
// 1.28 the Resource metric divides both containers' CPU by the app's 400m
// alone: at 205m + 30m two pods read floor(235/4) = 58% (1.16), and the
// current run scales up at the first sync (0:15) instead of 5:15; the
// reference, without the sidecar, is the same on both.
func TestReplayNativeSidecarByVersion(t *testing.T) {
	for _, tc := range []struct {
		version            string
		firstCur, firstRef time.Duration
	}{{"1.33.4", 315 * time.Second, 135 * time.Second}, {"1.28.9", 15 * time.Second, 135 * time.Second}} {
		src := stairsSource(true)
		src.Containers = []hpasim.Container{podContainers[0], {Name: "istio-proxy", CPURequestMillicores: 100, HasCPURequest: true, NativeSidecar: true}}
		o, err := Observe(src)
		if err != nil {
			t.Fatal(err)
		}
		c := hpasim.DefaultController()
		c.Version = version.MustParseGeneric(tc.version)
		rep, err := Replay(o, Request{Namespace: "shop", HPA: "web", Deployment: "web", Controller: c, Spec: hpaSpec(50), Recalculation: recalculate(t, o),
			SidecarBasis: "measured", SidecarFromHistory: true, Sidecar: "istio-proxy"})
		if err != nil {
			t.Fatal(err)
		}
		cur, ref := rep.Runs[0].FirstScaleUp, rep.Runs[2].FirstScaleUp
		if cur == nil || ref == nil || cur.Sub(replaytest.StairsStart) != tc.firstCur || ref.Sub(replaytest.StairsStart) != tc.firstRef {
			t.Errorf("%s: first scale-ups current %v, reference %v; want %s and %s after the start", tc.version, cur, ref, tc.firstCur, tc.firstRef)
		}
		if rep.Controller.Version != tc.version {
			t.Errorf("report's version %q", rep.Controller.Version)
		}
	}
}
