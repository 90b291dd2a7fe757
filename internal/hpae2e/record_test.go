package hpae2e

import (
	"strings"
	"testing"
	"time"
)

// Lines as kube-controller-manager v1.33.4 writes them (--vmodule=horizontal=4).
const controllerLog = `I1201 21:38:06.527526   31950 horizontal.go:204] "Starting HPA controller" logger="horizontal-pod-autoscaler-controller"
E1201 21:39:48.460000   31950 horizontal.go:275] "Unhandled Error" err="failed to compute desired number of replicas based on listed metrics for Deployment/t1/web: invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API" logger="UnhandledError"
I1201 21:39:50.467997   31950 horizontal.go:843] "Proposing desired replicas" logger="horizontal-pod-autoscaler-controller" desiredReplicas=3 metric="cpu resource utilization (percentage of request)" tolerances="[down:10.0%, up:10.0%]" timestamp="2026-12-01 21:39:46 +0000 UTC" scaleTarget="Deployment/t1/web"
I1201 21:39:50.470988   31950 horizontal.go:884] "Successfully rescaled" logger="horizontal-pod-autoscaler-controller" HPA="t1/web" currentReplicas=2 desiredReplicas=3 reason="cpu resource utilization (percentage of request) above target"
I1201 21:39:50.473915   31950 horizontal.go:1392] "Successfully updated status" logger="horizontal-pod-autoscaler-controller" HPA="t1/web"
I1201 21:39:51.100000   31950 horizontal.go:843] "Proposing desired replicas" logger="horizontal-pod-autoscaler-controller" desiredReplicas=9 metric="cpu resource utilization (percentage of request)" tolerances="[down:10.0%, up:10.0%]" timestamp="2026-12-01 21:39:46 +0000 UTC" scaleTarget="Deployment/t2/web"
I1201 21:39:52.482429   31950 horizontal.go:843] "Proposing desired replicas" logger="horizontal-pod-autoscaler-controller" desiredReplicas=3 metric="cpu resource utilization (percentage of request)" tolerances="[down:10.0%, up:10.0%]" timestamp="2026-12-01 21:39:46 +0000 UTC" scaleTarget="Deployment/t1/web"
I1201 21:39:52.482500   31950 horizontal.go:896] "Decided not to scale" logger="horizontal-pod-autoscaler-controller" scaleTarget="Deployment/t1/web" desiredReplicas=3 lastScaleTime="2026-12-01 21:39:50 +0000 UTC"
I1201 21:39:54.490000   31950 horizontal.go:884] "Successfully rescaled" logger="horizontal-pod-autoscaler-controller" HPA="t1/web" currentReplicas=9 desiredReplicas=8 reason="Current number of replicas above Spec.MaxReplicas"
`

func TestParseControllerLog(t *testing.T) {
	syncs, err := ParseControllerLog(strings.NewReader(controllerLog), "t1", "web", "web", 2026)
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse("15:04:05.000000", s)
		if err != nil {
			t.Fatal(err)
		}
		return time.Date(2026, 12, 1, v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
	}
	metrics := time.Date(2026, 12, 1, 21, 39, 46, 0, time.UTC)
	want := []ControllerSync{
		{At: utc("21:39:48.460000"), Proposal: -1, Desired: -1},
		{At: utc("21:39:50.467997"), MetricsAt: metrics, Proposal: 3, Desired: 3},
		{At: utc("21:39:52.482429"), MetricsAt: metrics, Proposal: 3, Desired: 3},
		{At: utc("21:39:54.490000"), Proposal: -1, Desired: 8},
	}
	if len(syncs) != len(want) {
		t.Fatalf("got %d syncs, want %d: %+v", len(syncs), len(want), syncs)
	}
	for i, w := range want {
		g := syncs[i]
		if !g.At.Equal(w.At) || !g.MetricsAt.Equal(w.MetricsAt) || g.Proposal != w.Proposal || g.Desired != w.Desired {
			t.Errorf("sync %d: got %+v, want %+v", i, g, w)
		}
	}
	if !strings.Contains(syncs[0].Failed, "no metrics returned from resource metrics API") {
		t.Errorf("failed sync: %q", syncs[0].Failed)
	}
}

func TestSplitKlog(t *testing.T) {
	msg, kv, ok := splitKlog(`"Decided not to scale" scaleTarget="Deployment/a/b" desiredReplicas=3 note="a \"quoted\" word"`)
	if !ok || msg != "Decided not to scale" || kv["scaleTarget"] != "Deployment/a/b" || kv["desiredReplicas"] != "3" || kv["note"] != `a "quoted" word` {
		t.Fatalf("%q %v %v", msg, kv, ok)
	}
}
