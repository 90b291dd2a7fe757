// Package promtest runs a real Prometheus (the Debian package's
// /usr/bin/prometheus) for tests, scraping a local exporter every second
// that serves cAdvisor-named series growing at known rates, so that the
// PromQL the Kubernetes backend sends is checked against the real engine.
// A missing prometheus binary fails the test: it is never skipped.
package promtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Rates are what the exporter's series grow by, per pod and second.
type Rates struct {
	ProxyCores, AppCores   float64 // container_cpu_usage_seconds_total
	Periods, Throttled     float64 // container_cpu_cfs_{,throttled_}periods_total (both containers)
	ProxyMemory, AppMemory int64   // container_memory_working_set_bytes (constant)
}

// Default is the example: 0.25 cores for istio-proxy, 0.5 for the
// app, 10 of 100 periods a second throttled, 64 MiB working set.
var Default = Rates{ProxyCores: 0.25, AppCores: 0.5, Periods: 100, Throttled: 10, ProxyMemory: 64 << 20, AppMemory: 128 << 20}

// Pod is a pod the exporter has series for: its counters start at zero at
// Created, as cAdvisor's do when a container starts.
type Pod struct {
	Namespace, Name string
	Created         time.Time
	// ExtraProxyCPU is CPU seconds added to the istio-proxy counter, e.g.
	// a cost per request the pod served, so that CPU follows the load.
	ExtraProxyCPU float64
}

// Exporter serves cAdvisor-named series for the pods its function lists.
type Exporter struct {
	Addr string // host:port
	srv  *http.Server
}

// CAdvisorText is the exposition for pods at now.
func CAdvisorText(pods []Pod, r Rates, app string, now time.Time) string {
	var b strings.Builder
	b.WriteString("# TYPE container_cpu_usage_seconds_total counter\n# TYPE container_cpu_cfs_periods_total counter\n")
	b.WriteString("# TYPE container_cpu_cfs_throttled_periods_total counter\n# TYPE container_memory_working_set_bytes gauge\n")
	for _, p := range pods {
		age := now.Sub(p.Created).Seconds()
		if age < 0 {
			age = 0
		}
		for _, c := range []struct {
			name  string
			cores float64
			extra float64
			mem   int64
		}{{"istio-proxy", r.ProxyCores, p.ExtraProxyCPU, r.ProxyMemory}, {app, r.AppCores, 0, r.AppMemory}} {
			l := fmt.Sprintf(`{namespace=%q,pod=%q,container=%q}`, p.Namespace, p.Name, c.name)
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total%s %g\n", l, c.cores*age+c.extra)
			fmt.Fprintf(&b, "container_cpu_cfs_periods_total%s %g\n", l, float64(int64(r.Periods*age)))
			fmt.Fprintf(&b, "container_cpu_cfs_throttled_periods_total%s %g\n", l, float64(int64(r.Throttled*age)))
			fmt.Fprintf(&b, "container_memory_working_set_bytes%s %d\n", l, c.mem)
		}
	}
	return b.String()
}

// StartExporter serves /metrics from text(now) on a loopback port.
func StartExporter(t testing.TB, text func(now time.Time) string) *Exporter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &Exporter{Addr: l.Addr().String(), srv: &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = io.WriteString(w, text(time.Now()))
	})}}
	go e.srv.Serve(l)
	t.Cleanup(func() { e.srv.Close() })
	return e
}

// Prometheus is a running prometheus process.
type Prometheus struct {
	URL string
	cmd *exec.Cmd
	log *lockedBuffer
}

// Binary is the Debian package's prometheus.
const Binary = "/usr/bin/prometheus"

// Start runs prometheus scraping targets every second, with a temporary
// TSDB, on a free loopback port, and waits (30 s at most) until it is
// ready. The process is killed at the end of the test.
func Start(t testing.TB, targets ...string) *Prometheus {
	t.Helper()
	bin := Binary
	if _, err := os.Stat(bin); err != nil {
		var lerr error
		if bin, lerr = exec.LookPath("prometheus"); lerr != nil {
			t.Fatalf("prometheus is not installed (%v): apt-get install prometheus, or run scripts/install-deps.sh", err)
		}
	}
	dir := t.TempDir()
	quoted := make([]string, len(targets))
	for i, x := range targets {
		quoted[i] = fmt.Sprintf("%q", x)
	}
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: kubernetes-cadvisor
  scrape_interval: 1s
  honor_labels: true
  static_configs:
  - targets: [%s]
`, strings.Join(quoted, ", "))
	confPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &Prometheus{URL: "http://" + addr, log: &lockedBuffer{}}
	p.cmd = exec.Command(bin, "--config.file="+confPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+addr, "--log.level=warn")
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-exited:
			t.Fatalf("prometheus exited at start-up: %s", p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within 30s: %v; log: %s", err, p.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitForSamples waits (bounded) until query returns at least n series.
func (p *Prometheus) WaitForSamples(t testing.TB, query string, n int, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?query="+url.QueryEscape(query), nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Count(string(body), `"metric":`) >= n {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("prometheus has not got %d series of %s within %v; log: %s", n, query, timeout, p.log.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() < 64<<10 {
		l.b.Write(p)
	}
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
