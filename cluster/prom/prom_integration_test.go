//go:build integration

package prom

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/proxysizer/proxysizer/internal/promtest"
)

// recorder counts the requests a client sends and keeps their
// Authorization headers.
type recorder struct {
	mu      sync.Mutex
	queries int
	auth    []string
}

// sent is how many queries call sent.
func (r *recorder) sent(call func()) int {
	r.mu.Lock()
	before := r.queries
	r.mu.Unlock()
	call()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.queries - before
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if strings.Contains(req.URL.Path, "/api/v1/query") {
		r.queries++
	}
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// fleet is 3 namespaces of 2 pods each, their series counted from 30 s ago.
func fleet() []promtest.Pod {
	created := time.Now().Add(-30 * time.Second)
	var pods []promtest.Pod
	for _, ns := range []string{"shop", "pay", "users"} {
		for i := 1; i <= 2; i++ {
			pods = append(pods, promtest.Pod{Namespace: ns, Name: fmt.Sprintf("web-%d", i), Created: created})
		}
	}
	return pods
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s = %.4f, want %.4f +/- %.0f%%", what, got, want, tol*100)
	}
}

// Many workloads in few queries, against a real Prometheus: the usage of 12
// containers in 3 namespaces comes back keyed by namespace, pod and
// container from 4 queries, and their CPU history from 1.
func TestManyWorkloadsInFewQueries(t *testing.T) {
	pods := fleet()
	exp := promtest.StartExporter(t, func(now time.Time) string { return promtest.CAdvisorText(pods, promtest.Default, "app", now) })
	p := promtest.Start(t, exp.Addr)
	p.WaitForSamples(t, `container_cpu_usage_seconds_total`, 12, 30*time.Second)
	time.Sleep(4200 * time.Millisecond) // 4 s of samples for every series

	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("prom-s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	c, err := New(Config{URL: p.URL, TokenFile: token, Transport: rec})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	iv, err := c.ScrapeInterval(ctx)
	if err != nil || !iv.Found || iv.Interval != time.Second {
		t.Fatalf("scrape interval %+v, %v: want 1 s from the configuration", iv, err)
	}

	sel := Selector{Namespaces: []string{"shop", "pay", "users"}, Containers: []string{"istio-proxy", "app"}}
	var use map[Key]ContainerUsage
	if n := rec.sent(func() { use, err = c.ContainerUsage(ctx, sel, 4*time.Second, time.Now()) }); err != nil || n != 4 {
		t.Fatalf("ContainerUsage sent %d queries for 12 containers (%v), want 4", n, err)
	}
	if len(use) != 12 {
		t.Fatalf("%d containers in the result, want 12 (3 namespaces x 2 pods x 2 containers): %v", len(use), use)
	}
	for _, pod := range pods {
		proxy, ok := use[Key{Namespace: pod.Namespace, Pod: pod.Name, Container: "istio-proxy"}]
		if !ok {
			t.Errorf("no istio-proxy usage for %s/%s", pod.Namespace, pod.Name)
			continue
		}
		what := pod.Namespace + "/" + pod.Name + " istio-proxy"
		near(t, what+" cores", proxy.CPUSeconds/4, promtest.Default.ProxyCores, 0.05)
		near(t, what+" throttled ratio", proxy.ThrottledPeriods/proxy.Periods, 0.1, 0.1)
		if proxy.MaxWorkingSetBytes != float64(promtest.Default.ProxyMemory) {
			t.Errorf("%s working set %.0f, want %d", what, proxy.MaxWorkingSetBytes, promtest.Default.ProxyMemory)
		}
		app := use[Key{Namespace: pod.Namespace, Pod: pod.Name, Container: "app"}]
		near(t, pod.Namespace+"/"+pod.Name+" app cores", app.CPUSeconds/4, promtest.Default.AppCores, 0.05)
	}

	end := time.Now()
	var history map[Key][]Point
	if n := rec.sent(func() {
		history, err = c.CPURate(ctx, Selector{Namespaces: []string{"pay"}, Containers: []string{"app"}},
			promv1.Range{Start: end.Add(-3 * time.Second), End: end, Step: time.Second}, 2*time.Second)
	}); err != nil || n != 1 {
		t.Fatalf("CPURate sent %d queries (%v), want 1", n, err)
	}
	if len(history) != 2 {
		t.Fatalf("CPU history of %d containers, want pay's 2 app containers: %v", len(history), history)
	}
	for k, points := range history {
		if len(points) < 3 {
			t.Errorf("%v: %d points over 3 s at 1 s steps, want at least 3", k, len(points))
		}
		for _, pt := range points {
			near(t, fmt.Sprintf("%v at %s", k, pt.Time.Format(time.StampMilli)), pt.Value, promtest.Default.AppCores, 0.1)
		}
	}
	for _, a := range rec.auth {
		if a != "Bearer prom-s3cret" {
			t.Fatalf("a request carried Authorization %q, want the token file's bearer token", a)
		}
	}
}

func TestTokenFileAndUnreachable(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-token")
	c, err := New(Config{URL: "http://127.0.0.1:1", TokenFile: missing})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ping(context.Background())
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing token file: %v, want an error naming %s", err, missing)
	}
	c, err = New(Config{URL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Instant(context.Background(), "sum by (namespace, pod, container) (up)", time.Now())
	if err == nil || !Unreachable(err) || !strings.Contains(err.Error(), "is unreachable") {
		t.Errorf("closed port: %v, want unreachable", err)
	}
}
