package collect

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/sizing"
)

func TestRequestDefaults(t *testing.T) {
	now := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	r := DefaultRequest()
	r.Prometheus.URL = "http://prometheus.istio-system:9090"
	s, o, err := r.Check(now)
	if err != nil {
		t.Fatal(err)
	}
	q := s.Telemetry
	if q.Window != 7*24*time.Hour || q.RateWindow != 5*time.Minute || q.Quantile != 0.99 || !q.At.Equal(now) {
		t.Errorf("telemetry %+v, want a week of 5m rates at the 99th percentile, ending now", q)
	}
	if s.Namespaces != nil || s.IstioNamespace != cluster.DefaultMeshNamespace || s.ClusterDomain != cluster.DefaultClusterDomain {
		t.Errorf("scope %+v, want the caller's namespace, istio-system, cluster.local", s)
	}
	if o.Headroom != sizing.DefaultHeadroom || o.MemoryLimitRatio != sizing.DefaultMemoryLimitRatio || o.CPULimit.Mode != sizing.CPULimitAuto {
		t.Errorf("options %+v, want plan's knobs", o)
	}
	if r.Prometheus.QueryTimeout != prom.AnalysisQueryTimeout {
		t.Errorf("query timeout %s, want %s", r.Prometheus.QueryTimeout, prom.AnalysisQueryTimeout)
	}
}

func TestRequestChecksIntoScopeAndOptions(t *testing.T) {
	r := DefaultRequest()
	r.Prometheus.URL = "http://p:9090"
	r.Namespace, r.Window, r.RateWindow, r.PeakQuantile, r.At = "shop", "36h", "1m", 1, "2026-01-05T10:00:00Z"
	r.AuthzUpstreams, r.CPULimit, r.ClusterDomain = []string{"ext-authz.auth", "opa.auth.svc.corp.example"}, "1500m", "corp.example"
	s, o, err := r.Check(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Namespaces, []string{"shop"}) || s.Telemetry.Window != 36*time.Hour || s.Telemetry.RateWindow != time.Minute ||
		s.Telemetry.Quantile != 1 || s.Telemetry.At != time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC) {
		t.Errorf("scope %+v", s)
	}
	if want := []string{"ext-authz.auth.svc.corp.example", "opa.auth.svc.corp.example"}; !slices.Equal(o.AuthzUpstreams, want) {
		t.Errorf("authz upstreams %v, want %v", o.AuthzUpstreams, want)
	}
	if o.CPULimit != (sizing.CPULimit{Mode: sizing.CPULimitFixed, Millicores: 1500}) {
		t.Errorf("CPU limit %+v, want 1500m", o.CPULimit)
	}
	r.Namespace, r.Namespaces, r.AllNamespaces, r.CPULimit = "", nil, true, "none"
	if s, o, err = r.Check(time.Now()); err != nil || s.Namespaces != nil || o.CPULimit.Mode != sizing.CPULimitNone {
		t.Errorf("every namespace, no limit: %v %+v %+v", err, s.Namespaces, o.CPULimit)
	}
}

func TestRequestProblemsNameTheirFields(t *testing.T) {
	names := input.Names{FieldNamespace: "-n", FieldNamespaces: "--namespaces", FieldAllNamespaces: "--all-namespaces", FieldWindow: "--window",
		FieldRateWindow: "--rate-window", prom.FieldURL: "--prometheus-url", sizing.FieldCPULimit: "--cpu-limit"}
	with := func(edit func(*Request)) Request {
		r := DefaultRequest()
		r.Prometheus.URL, r.Names, r.Given = "http://p:9090", names, map[input.Field]bool{}
		edit(&r)
		return r
	}
	for _, tt := range []struct {
		name string
		r    Request
		want string
	}{
		{"no Prometheus", with(func(r *Request) { r.Prometheus.URL = "" }), "--prometheus-url: required"},
		{"all with -n", with(func(r *Request) { r.AllNamespaces, r.Given[FieldNamespace] = true, true }),
			"--all-namespaces: plans every namespace: it cannot be combined with -n or --namespaces"},
		{"-n and a list", with(func(r *Request) { r.Given[FieldNamespace], r.Given[FieldNamespaces] = true, true }), "--namespaces: give either -n or --namespaces"},
		{"a bad namespace", with(func(r *Request) { r.Namespaces = []string{"Shop"} }), `--namespaces: expected namespace names, got "Shop"`},
		{"a rate window over the window", with(func(r *Request) { r.Window, r.RateWindow = "1h", "2h" }), "--rate-window: expected a duration > 0 and at most --window"},
		{"a quantile of 99", with(func(r *Request) { r.PeakQuantile = 99 }), "peak quantile: expected a quantile within (0, 1]"},
		{"a bad end", with(func(r *Request) { r.At = "yesterday" }), `end of the window: expected an RFC 3339 time`},
		{"a bad Istio namespace", with(func(r *Request) { r.IstioNamespace = "Istio" }), `Istio namespace: expected a namespace name, got "Istio"`},
		{"a bare authz service", with(func(r *Request) { r.AuthzUpstreams = []string{"authz"} }), "authz upstreams: expected a service as NAME.NAMESPACE"},
		{"a negative headroom", with(func(r *Request) { r.Headroom = -1 }), "headroom: expected a fraction between 0 and 10"},
		{"a memory limit below the request", with(func(r *Request) { r.MemoryLimitRatio = 0.5 }), "memory limit ratio: expected a number within 1..100"},
		{"a window of 9999d", with(func(r *Request) { r.Window = "9999d" }), `--window: expected a duration > 0 and at most 365d, such as 7d or 36h, got "9999d"`},
		{"a CPU limit of lots", with(func(r *Request) { r.CPULimit = "lots" }), `--cpu-limit: expected auto, none, or a CPU quantity within 1m..1000 such as 2 or 1500m, got "lots"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.r.Check(time.Now())
			var bad *input.Error
			if !errors.As(err, &bad) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want an input error starting %q", err, tt.want)
			}
		})
	}
}
