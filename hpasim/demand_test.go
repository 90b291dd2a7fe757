package hpasim

import (
	"math"
	"testing"
	"time"
)

// demandOf is a demand sampled every 15 s from 0 to until: the app's and
// the sidecar's totals over 2 observed pods, the app's changing at the
// times in appSteps, the sidecar's in sidecarSteps.
func demandOf(appSteps, sidecarSteps map[float64]float64, idle float64, until float64) Demand {
	d := Demand{
		Containers: []Container{
			{Name: "app", CPURequestMillicores: 400, HasCPURequest: true},
			{Name: "istio-proxy", CPURequestMillicores: 100, HasCPURequest: true},
		},
		Window: 15 * time.Second, MetricsMaxAge: 15 * time.Second, InitialReplicas: 2, PodStartup: 20 * time.Second,
		Usage: map[string]ContainerDemand{},
	}
	app := ContainerDemand{}
	sidecar := ContainerDemand{IdleMillicores: idle}
	var a, s float64
	for t := 0.0; t <= until; t += 15 {
		if v, ok := appSteps[t]; ok {
			a = v
		}
		if v, ok := sidecarSteps[t]; ok {
			s = v
		}
		d.Times = append(d.Times, at(t))
		app.Millicores, app.Pods = append(app.Millicores, a), append(app.Pods, 2)
		sidecar.Millicores, sidecar.Pods = append(sidecar.Millicores, s), append(sidecar.Pods, 2)
	}
	d.Usage["app"], d.Usage["istio-proxy"] = app, sidecar
	return d
}

// The load model on numbers worked by hand: 800m of app CPU and 200m of
// sidecar CPU observed on 2 pods, the sidecar idling at 40m per pod.
//
//	2 ready pods: app 800/2 = 400, sidecar 40 + (200 - 2x40)/2 = 100
//	4 ready pods: app 200, sidecar 40 + 120/4 = 70
//	from 60 s, 300m and 120m: 4 pods: app 75, sidecar 40 + 40/4 = 50;
//	  2 pods: app 150, sidecar 60
func TestDemandLoadModel(t *testing.T) {
	d := demandOf(map[float64]float64{0: 800, 60: 300}, map[float64]float64{0: 200, 60: 120}, 40, 150)
	for _, tc := range []struct {
		container string
		sample    int
		ready     int
		want      float64
	}{
		{"app", 0, 2, 400}, {"istio-proxy", 0, 2, 100},
		{"app", 0, 4, 200}, {"istio-proxy", 0, 4, 70},
		{"app", 4, 4, 75}, {"istio-proxy", 4, 4, 50},
		{"app", 4, 2, 150}, {"istio-proxy", 4, 2, 60},
	} {
		got, ok := d.PerPodMillicores(tc.container, tc.sample, tc.ready)
		if !ok || math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s, sample %d, %d ready pods: %vm (%v), want %vm", tc.container, tc.sample, tc.ready, got, ok, tc.want)
		}
	}
	if _, ok := d.PerPodMillicores("app", 0, 0); ok {
		t.Error("no ready pod: a share of the load")
	}
}

// The replay runs its own pods and re-spreads the load over them. With
// Resource 50% on 400m + 100m, syncs every 15 s, new pods Ready 20 s after
// the scale-up, a 30 s CPU initialisation period and a 60 s scale-down
// window:
//
//	15 s: 2 pods at 400 + 100 = 100% (ratio 2.0): ceil(4.0) = 4; 2 pods
//	  added, Pending until 35 s.
//	30 s: the 2 ready pods at 100%, the 2 pending ones unready, counted at
//	  0 on a scale-up: 1000/2000 = 50%, ratio 1.0: stay at 4.
//	45 s: 4 ready pods (started at 15 s, past the 30 s initialisation) at
//	  200 + 70 = 270/500 = 54% (1.08, within the tolerance): 4. Keeping the
//	  observed per-pod 500m instead would read 100% again and ask for 8.
//	60 s to 105 s: 75 + 50 = 125/500 = 25% (0.5): proposal ceil(2.0) = 2,
//	  held at 4 by the window's 4s (the last at 45 s, so up to 105 s).
//	120 s: down to 2 (the two pods ready last are removed).
//	135 s: 2 pods at 150 + 60 = 42% (0.84): ceil(1.68) = 2.
func TestReplayDemandRespreadsTheLoad(t *testing.T) {
	d := demandOf(map[float64]float64{0: 800, 60: 300}, map[float64]float64{0: 200, 60: 120}, 40, 150)
	syncs := SyncsEvery(at(0), at(135), 15*time.Second)
	ds, err := ReplayDemand(testController(), spec(1, 10, resource(50)), d, syncs)
	if err != nil {
		t.Fatal(err)
	}
	want := []int32{4, 4, 4, 4, 4, 4, 4, 2, 2}
	if got := replicasOf(ds); !equal(got, want) {
		t.Fatalf("replicas %v, want %v\n%v", got, want, ds)
	}
	for _, c := range []struct {
		i             int
		util          int32
		ready, unread int
		proposal      int32
	}{{0, 100, 2, 0, 4}, {1, 100, 2, 2, 4}, {2, 54, 4, 0, 4}, {3, 25, 4, 0, 2}, {8, 42, 2, 0, 2}} {
		r := ds[c.i].Readings[0]
		if r.Utilization != c.util || r.Ready != c.ready || r.Unready != c.unread || ds[c.i].Proposal != c.proposal {
			t.Errorf("sync %d: %v, want %d%%, %d ready, %d unready, proposal %d", c.i, ds[c.i], c.util, c.ready, c.unread, c.proposal)
		}
	}
}

// The app-only reference of a demand: the sidecar's request and load
// removed. 800m on 2 pods of 400m is 100% again at 15 s (ceil(4.0) = 4);
// at 4 pods the app alone reads 50%.
func TestDemandWithout(t *testing.T) {
	d := demandOf(map[float64]float64{0: 800}, map[float64]float64{0: 200}, 40, 60)
	ref := d.Without("istio-proxy")
	if len(ref.Containers) != 1 || len(ref.Usage) != 1 || len(d.Usage) != 2 {
		t.Fatalf("Without: %d containers, %d usage; the receiver kept %d", len(ref.Containers), len(ref.Usage), len(d.Usage))
	}
	ds, err := ReplayDemand(testController(), spec(1, 10, resource(50)), ref, SyncsEvery(at(0), at(60), 15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := replicasOf(ds), []int32{4, 4, 4, 4}; !equal(got, want) {
		t.Fatalf("replicas %v, want %v\n%v", got, want, ds)
	}
	if u := ds[2].Readings[0].Utilization; u != 50 {
		t.Errorf("at 45 s: %d%%, want 50%%", u)
	}
}

// A failed metric leaves the target alone: the replay keeps its pods
// (status.desiredReplicas is 0 for a new HPA, the Deployment keeps 2).
func TestReplayDemandKeepsPodsWhenMetricsFail(t *testing.T) {
	d := demandOf(map[float64]float64{0: 800}, map[float64]float64{0: 200}, 40, 60)
	d.Containers[1].HasCPURequest = false
	ds, err := ReplayDemand(testController(), spec(1, 10, resource(50)), d, SyncsEvery(at(0), at(30), 15*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for _, dec := range ds {
		if dec.Proposal != -1 || dec.DesiredReplicas != 0 || dec.Replicas != 2 {
			t.Errorf("%v (replicas %d), want a failed metric and 2 replicas kept", dec, dec.Replicas)
		}
	}
}

func TestDemandInvalid(t *testing.T) {
	d := demandOf(map[float64]float64{0: 800}, map[float64]float64{0: 200}, 40, 30)
	u := d.Usage["app"]
	u.Millicores = u.Millicores[:1]
	d.Usage["app"] = u
	if _, err := ReplayDemand(testController(), spec(1, 10, resource(50)), d, nil); err == nil {
		t.Error("a short series was accepted")
	}
}

func replicasOf(ds []Decision) []int32 {
	out := make([]int32, len(ds))
	for i, d := range ds {
		out[i] = d.Replicas
	}
	return out
}
