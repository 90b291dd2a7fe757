//go:build integration

package kube

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/promtest"
)

// The PromQL the backend sends, against a real Prometheus scraping series
// with known rates: CPU, throttling and memory come out as set.
func TestPrometheusQueriesAgainstRealPrometheus(t *testing.T) {
	created := time.Now().Add(-30 * time.Second)
	pods := []promtest.Pod{{Namespace: "shop", Name: "web-1", Created: created}, {Namespace: "shop", Name: "web-2", Created: created},
		{Namespace: "other", Name: "web-1", Created: created}}
	exp := promtest.StartExporter(t, func(now time.Time) string { return promtest.CAdvisorText(pods, promtest.Default, "app", now) })
	prom := promtest.Start(t, exp.Addr)
	prom.WaitForSamples(t, `container_cpu_usage_seconds_total{namespace="shop"}`, 4, 20*time.Second)
	start := time.Now()
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("prom-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := newPromSource(ctx, PrometheusConfig{URL: prom.URL, TokenFile: token}, "shop", "app")
	if err != nil {
		t.Fatal(err)
	}
	if src.interval != time.Second || !strings.Contains(src.Describe(), "job kubernetes-cadvisor") {
		t.Fatalf("scrape interval %v (%s)", src.interval, src.Describe())
	}
	time.Sleep(4200 * time.Millisecond) // a 4 s run
	u, err := src.window(ctx, []string{"web-1", "web-2"}, start, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	near := func(what string, got, want, tol float64) {
		if math.Abs(got-want) > tol*want {
			t.Errorf("%s = %.4f, want %.4f +/- %.0f%%", what, got, want, tol*100)
		}
	}
	if u.Window != 4*time.Second || u.Proxy.Pods != 2 || u.App.Pods != 2 {
		t.Fatalf("window %v, pods %d/%d", u.Window, u.Proxy.Pods, u.App.Pods)
	}
	near("istio-proxy cores", u.Proxy.Cores, 0.25, 0.03)
	near("app cores", u.App.Cores, 0.5, 0.03)
	near("throttled ratio", u.Proxy.ThrottledPeriods/u.Proxy.Periods, 0.1, 0.05)
	near("periods per pod", u.Proxy.Periods, 400, 0.05)
	if !u.Proxy.HasThrottling || u.Proxy.WorkingSetBytes != 64<<20 || u.App.WorkingSetBytes != 128<<20 {
		t.Errorf("proxy %+v app %+v", u.Proxy, u.App)
	}
	t.Logf("istio-proxy %.4f cores, throttled %.3f, app %.4f cores over %v", u.Proxy.Cores, u.Proxy.ThrottledPeriods/u.Proxy.Periods, u.App.Cores, u.Window)

	// No series for these pods: a clear error naming what is missing.
	if _, err := src.window(ctx, []string{"web-9"}, start, time.Now()); err == nil || !strings.Contains(err.Error(), "no container_cpu_usage_seconds_total series") {
		t.Errorf("no series: %v", err)
	}
	// Too short a run for the scrape interval.
	if _, err := src.window(ctx, []string{"web-1"}, time.Now().Add(-1500*time.Millisecond), time.Now()); err == nil || !strings.Contains(err.Error(), "too short for Prometheus") {
		t.Errorf("short run: %v", err)
	}
	// Unreachable: fails when connecting, before anything is changed.
	if _, err := newPromSource(ctx, PrometheusConfig{URL: "http://127.0.0.1:1"}, "shop", "app"); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Errorf("unreachable: %v", err)
	}
}
