//go:build integration

package prom

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/meshfleet"
	"github.com/proxysizer/proxysizer/internal/promtest"
)

// The fleet queries against a real Prometheus holding a day of history
// backfilled by promtool: each workload's per-pod peak, totals, hops and
// usage come back from 9 queries, and match the generator's truth.
func TestFleetQueriesOnBackfilledHistory(t *testing.T) {
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	web := meshfleet.Workload{Namespace: "shop", Name: "web", Pods: []string{"web-7c9bd8f5b4-x2x4z", "web-7c9bd8f5b4-k9wz6"},
		PeakInboundPerPod: 400, Trough: 0.2, PeakHour: 14, Caller: "ingress",
		Calls: []meshfleet.Call{{Service: "cart.shop.svc.cluster.local", Namespace: "shop", Workload: "cart", PerInbound: 2},
			{Service: "authz.auth.svc.cluster.local", Namespace: "auth", Workload: "authz", PerInbound: 1}},
		RetryRatio: 0.05, ProxyIdle: 0.01, ProxyCoresPerKRPS: 0.3, ProxyNoise: 0.05, AppIdle: 0.05, AppCoresPerKRPS: 1,
		ProxyMemory: 60 << 20, AppMemory: 200 << 20, ThrottledAtPeak: 0.4, CPULimited: true}
	// A StatefulSet, and a workload with neither retry counter nor cAdvisor series.
	db := meshfleet.Workload{Namespace: "shop", Name: "db", Pods: []string{"db-0", "db-1", "db-2"},
		PeakInboundPerPod: 100, Trough: 0.5, PeakHour: 3, ProxyIdle: 0.02, ProxyCoresPerKRPS: 0.2, ProxyMemory: 40 << 20, AppMemory: 1 << 30}
	bare := meshfleet.Workload{Namespace: "pay", Name: "ledger", Pods: []string{"ledger-5d8f7b9c6-qwrtz"}, PeakInboundPerPod: 50,
		Trough: 1, Calls: []meshfleet.Call{{Service: "db.shop.svc.cluster.local", Namespace: "shop", Workload: "db", PerInbound: 1}},
		NoCAdvisor: true, NoRetryMetric: true}
	h := meshfleet.History{Workloads: []meshfleet.Workload{web, db, bare}, Start: end.Add(-24 * time.Hour), End: end, Scrape: time.Minute, Seed: 1}
	files, err := h.WriteChunks(t.TempDir(), 12*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := promtest.StartOnBlocks(t, files...)
	c, err := New(Config{URL: p.URL, QueryTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	q := FleetQuery{Window: 24 * time.Hour, RateWindow: 5 * time.Minute, Quantile: 0.99, At: end}
	f, err := c.Fleet(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.QueriesSent(); n != int64(len(FleetQueries(q))) || n != 9 {
		t.Errorf("%d queries sent, want the fixed 9", n)
	}
	near := func(what string, got Figure, want, tol float64) {
		t.Helper()
		if !got.Found {
			t.Errorf("%s: not found, want %.4g", what, want)
			return
		}
		if math.Abs(got.Value-want) > tol*math.Abs(want) {
			t.Errorf("%s = %.4g, want %.4g +/- %.0f%%", what, got.Value, want, tol*100)
		}
	}
	w := f.Of(WorkloadKey{"shop", "web"})
	t.Logf("web: %+v", *w)
	// The p99 of a cosine day is within 0.1% of its top; 5-minute rates
	// smooth it by less than 0.2%.
	near("web inbound per pod at the peak", w.InboundPeakPerPod, 400, 0.01)
	// Over a whole day, the cosine averages to the middle of its range.
	dayMean := (1 + 0.2) / 2
	near("web inbound over the day", w.InboundRequests, 400*dayMean*86400*2, 0.01)
	if got := w.Outbound["cart.shop.svc.cluster.local"] / w.InboundRequests.Value; math.Abs(got-2) > 0.02 {
		t.Errorf("web's calls to cart per inbound request %.3f, want 2", got)
	}
	if got := w.Outbound["authz.auth.svc.cluster.local"] / w.InboundRequests.Value; math.Abs(got-1) > 0.01 {
		t.Errorf("web's authz calls per inbound request %.3f, want 1", got)
	}
	// Retries of the outbound clusters only (the inbound cluster's are left out).
	near("web retries", w.Retries, 0.05*3*400*dayMean*86400*2, 0.02)
	near("web sidecar CPU per pod at the peak", w.ProxyCPUPeak, web.ProxyCores(400), 0.05)
	near("web app CPU per pod at the peak (the pod cgroup not counted)", w.AppCPUPeak, 0.05+400./1000, 0.02)
	near("web throttled share at the peak", w.ThrottledPeak, 0.4, 0.05)
	near("web sidecar memory", w.ProxyMemoryMax, 60<<20, 0)
	near("web app memory", w.AppMemoryMax, 200<<20, 0)

	d := f.Of(WorkloadKey{"shop", "db"})
	near("statefulset db inbound per pod at the peak", d.InboundPeakPerPod, 100, 0.01)
	near("statefulset db sidecar CPU at the peak", d.ProxyCPUPeak, db.ProxyCores(100), 0.02)
	if d.ThrottledPeak.Found {
		t.Errorf("db has no CPU limit, no CFS periods: throttling %v", d.ThrottledPeak)
	}
	l := f.Of(WorkloadKey{"pay", "ledger"})
	near("ledger inbound at the peak", l.InboundPeakPerPod, 50, 0.01)
	if l.Retries.Found || l.ProxyCPUPeak.Found || l.ProxyMemoryMax.Found {
		t.Errorf("ledger has no retry counter nor cAdvisor series, got %+v", l)
	}
	if got := Called(l.Outbound); len(got) != 1 || got[0] != "db.shop.svc.cluster.local" {
		t.Errorf("ledger called %v, want db.shop", got)
	}

	// The namespaces matchers: pay alone.
	q.Namespaces = []string{"pay"}
	f, err = c.Fleet(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Workloads[WorkloadKey{"shop", "web"}]; ok || len(f.Workloads) != 1 {
		t.Errorf("namespace pay alone: %d workloads %v", len(f.Workloads), f.Workloads)
	}
	dest, err := c.Destinations(context.Background(), []string{"shop"}, 24*time.Hour, end)
	if err != nil {
		t.Fatal(err)
	}
	hosts, _ := dest.OutboundHosts("shop", "web")
	if len(hosts) != 2 || hosts[0] != "authz.auth.svc.cluster.local" || hosts[1] != "cart.shop.svc.cluster.local" {
		t.Errorf("web's destinations %v", hosts)
	}
}
