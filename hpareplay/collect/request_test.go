package collect

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/hpasim"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/sizing"
)

func TestRequestOptions(t *testing.T) {
	r := DefaultRequest()
	r.Prometheus.URL, r.End, r.PodStartup = "http://prometheus.monitoring:9090", "2026-01-05T10:30:00Z", 40*time.Second
	r.HPA = cluster.HPARequest{Name: "web", SidecarCPUUsage: "40m", Given: map[input.Field]bool{sizing.FieldSidecarCPUUsage: true}}
	o, err := r.Options()
	if err != nil {
		t.Fatal(err)
	}
	if o.HPA != "web" || o.Window != 24*time.Hour || o.Step != 15*time.Second || o.RateWindow != time.Minute || o.PodStartup != 40*time.Second ||
		!o.End.Equal(time.Date(2026, 1, 5, 10, 30, 0, 0, time.UTC)) || o.Controller != hpasim.DefaultController() {
		t.Errorf("options %+v", o)
	}
	if o.HPAOptions.SidecarCPUAtTargetMillicores != 40 {
		t.Errorf("the sidecar's usage %v, want the 40m given", o.HPAOptions.SidecarCPUAtTargetMillicores)
	}
	if r.Prometheus.QueryTimeout != prom.AnalysisQueryTimeout {
		t.Errorf("query timeout %s", r.Prometheus.QueryTimeout)
	}
}

func TestRequestProblemsNameTheirFields(t *testing.T) {
	names := input.Names{FieldReplay: "--replay", FieldStep: "--replay-step", FieldWindow: "--replay-window", prom.FieldURL: "--prometheus-url"}
	with := func(edit func(*Request)) Request {
		r := DefaultRequest()
		r.Prometheus.URL, r.Names, r.HPA = "http://p:9090", names, cluster.HPARequest{Name: "web"}
		edit(&r)
		return r
	}
	for _, tt := range []struct {
		name string
		r    Request
		want string
	}{
		{"no Prometheus", with(func(r *Request) { r.Prometheus.URL = "" }), "--prometheus-url: required with --replay: the Prometheus holding the pods' CPU"},
		{"a zero step", with(func(r *Request) { r.Step = 0 }), "--replay-step: expected a duration > 0 such as 15s, got 0s"},
		{"a window of one step", with(func(r *Request) { r.Window = 15 * time.Second }), "--replay-window: expected a duration of at least two steps (30s), got 15s"},
		{"too many steps", with(func(r *Request) { r.Window, r.Step = 8760*time.Hour, time.Second }), "--replay-window: expected at most 200000 steps of 1s, got 8760h0m0s: raise --replay-step"},
		{"a zero rate window", with(func(r *Request) { r.RateWindow = 0 }), "rate window: expected a duration > 0"},
		{"a negative start-up", with(func(r *Request) { r.PodStartup = -time.Second }), "pod start-up: expected a duration >= 0"},
		{"a tolerance of 1", with(func(r *Request) { r.Controller.Tolerance = 1 }), "HPA tolerance: expected a ratio within [0, 1) such as 0.1, got 1"},
		{"a zero sync period", with(func(r *Request) { r.Controller.SyncPeriod = 0 }), "HPA sync period: expected a duration > 0"},
		{"a negative stabilization", with(func(r *Request) { r.Controller.DownscaleStabilization = -time.Minute }), "downscale stabilization: expected a duration >= 0"},
		{"a bad end", with(func(r *Request) { r.End = "yesterday" }), `history end: expected an RFC 3339 time such as 2026-01-05T10:30:00Z, got "yesterday"`},
		{"a bad HPA name", with(func(r *Request) { r.HPA.Name = "Web_1" }), `HPA name: expected a Kubernetes object name, got "Web_1"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.r.Options()
			var bad *input.Error
			if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want an input error starting %q", err, tt.want)
			}
		})
	}
}
