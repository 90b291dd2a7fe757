//go:build integration

package prom_test

import (
	"context"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/promtest"
	"github.com/proxysizer/proxysizer/internal/replaytest"
)

// A workload's history from backfilled blocks: the CPU rate of its pods'
// two containers, kube-state-metrics' pod series, and a range longer than
// Prometheus' 11,000 points asked in parts. A Deployment named web-api in
// the same namespace, and the pause container and the pod's cgroup, stay
// out.
func TestHistoryFromBackfilledBlocks(t *testing.T) {
	web := replaytest.Stairs(true)
	decoy := replaytest.Stairs(true)
	decoy.Pods = append([]replaytest.Pod{}, decoy.Pods...)
	for i := range decoy.Pods {
		decoy.Pods[i].Name = "web-api-7d9f5c8b6-" + []string{"x2vzq", "k8m4p"}[i]
	}
	dir := t.TempDir()
	var files []string
	for i, s := range []replaytest.Scenario{web, decoy} {
		sub := dir + "/" + []string{"web", "decoy"}[i]
		if err := mkdir(sub); err != nil {
			t.Fatal(err)
		}
		f, err := s.WriteFile(sub)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	start := time.Now()
	p := promtest.StartOnBlocks(t, files...)
	t.Logf("backfilled and started in %s", time.Since(start).Round(time.Millisecond))

	rec := &counter{}
	c, err := prom.New(prom.Config{URL: p.URL, Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sel := prom.Selector{Namespaces: []string{"shop"}, PodPattern: prom.DeploymentPods("web"), Containers: []string{"app", "istio-proxy"}}
	r := promv1.Range{Start: replaytest.StairsStart, End: replaytest.StairsStart.Add(30 * time.Minute), Step: 15 * time.Second}
	var cpu map[prom.Key][]prom.Point
	if n := rec.sent(func() { cpu, err = c.CPURate(ctx, sel, r, 20*time.Second) }); err != nil || n != 1 {
		t.Fatalf("CPURate: %d queries, %v", n, err)
	}
	ideal := web.IdealCPU()
	if len(cpu) != 4 {
		t.Fatalf("%d series, want web's 2 pods x 2 containers: %v", len(cpu), keys(cpu))
	}
	for k, want := range ideal {
		var inWindow []prom.Point
		for _, pt := range want {
			if !pt.Time.Before(r.Start) {
				inWindow = append(inWindow, prom.Point{Time: pt.Time, Value: pt.Value})
			}
		}
		got := cpu[k]
		if len(got) != len(inWindow) {
			t.Fatalf("%v: %d points, want %d", k, len(got), len(inWindow))
		}
		for i := range got {
			if !got[i].Time.Equal(inWindow[i].Time) || math.Abs(got[i].Value-inWindow[i].Value) > 1e-12 {
				t.Fatalf("%v point %d: %v, want %v (the rate over the last scrape interval)", k, i, got[i], inWindow[i])
			}
		}
	}

	var states *prom.PodStates
	if n := rec.sent(func() { states, err = c.PodStates(ctx, sel, r) }); err != nil || n != 4 {
		t.Fatalf("PodStates: %d queries, %v", n, err)
	}
	if !states.Found() || len(states.Start) != 2 || len(states.Ready) != 2 || len(states.Deletion) != 0 || len(states.Requests) != 4 {
		t.Fatalf("states: %d start, %d ready, %d deletion, %d requests series", len(states.Start), len(states.Ready), len(states.Deletion), len(states.Requests))
	}
	for k, points := range states.Start {
		if len(points) != 121 || points[0].Value != float64(replaytest.StairsStart.Add(-time.Hour).Unix()) {
			t.Errorf("%v start time: %d points, first %v", k, len(points), points[0])
		}
	}
	for k, points := range states.Ready {
		for _, pt := range points {
			if pt.Value != 1 {
				t.Fatalf("%v ready %v at %s", k, pt.Value, pt.Time)
			}
		}
	}
	for k, points := range states.Requests {
		want := map[string]float64{"app": 0.4, "istio-proxy": 0.1}[k.Container]
		if points[0].Value != want {
			t.Errorf("%v request %v, want %v", k, points[0].Value, want)
		}
	}

	// 30 min at 150 ms is 12,001 points: two queries.
	fine := promv1.Range{Start: r.Start, End: r.End, Step: 150 * time.Millisecond}
	var long map[prom.Key][]prom.Point
	if n := rec.sent(func() { long, err = c.RangeInParts(ctx, prom.PodStateQueries(sel)["start"], fine) }); err != nil || n != 2 {
		t.Fatalf("RangeInParts: %d queries, %v", n, err)
	}
	for k, points := range long {
		if len(points) != 12001 {
			t.Errorf("%v: %d points, want 12001", k, len(points))
		}
		for i := 1; i < len(points); i++ {
			if points[i].Time.Sub(points[i-1].Time) != fine.Step {
				t.Fatalf("%v: points %d and %d are %s apart", k, i-1, i, points[i].Time.Sub(points[i-1].Time))
			}
		}
	}
}

func keys(m map[prom.Key][]prom.Point) []prom.Key {
	var out []prom.Key
	for k := range m {
		out = append(out, k)
	}
	return out
}

func mkdir(dir string) error { return os.MkdirAll(dir, 0o755) }

// counter counts the queries a client sends.
type counter struct {
	mu      sync.Mutex
	queries int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.Contains(req.URL.Path, "/api/v1/query") {
		c.mu.Lock()
		c.queries++
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// sent is how many queries call sent.
func (c *counter) sent(call func()) int {
	c.mu.Lock()
	before := c.queries
	c.mu.Unlock()
	call()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queries - before
}
