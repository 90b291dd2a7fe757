//go:build integration

package local

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/driver"
	"github.com/proxysizer/proxysizer/internal/testenv"
	"github.com/proxysizer/proxysizer/loadgen"
	"github.com/proxysizer/proxysizer/results"
)

func newLab(t *testing.T, p Proxy, k int) *Backend {
	t.Helper()
	testenv.RequireBinary(t, p.Binary(), "apt-get install "+p.Binary())
	ctx := context.Background()
	b, err := New(ctx, Config{Proxy: p, OutboundPerRequest: k, Pin: true, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

func load(rps float64, d time.Duration) driver.LoadSpec {
	return driver.LoadSpec{RPS: rps, Duration: d, Connections: 4, Protocol: loadgen.HTTP1}
}

// cgroupFile finds a v1 controller's file for pid from /proc/PID/cgroup,
// independently of the package's own cgroup code.
func cgroupFile(t *testing.T, pid int, controller, file string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[1] == controller {
			return filepath.Join("/sys/fs/cgroup", controller, parts[2], file)
		}
	}
	t.Fatalf("pid %d has no %s cgroup", pid, controller)
	return ""
}

func readNanos(t *testing.T, path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// haproxyCSVRequests reads req_tot of the inbound and outbound frontends
// from haproxy's CSV stats page: a different endpoint and parser from the
// Prometheus exporter the tool reads.
func haproxyCSVRequests(t *testing.T, b *Backend) int64 {
	body, err := fetch(context.Background(), fmt.Sprintf("http://127.0.0.1:%d/stats;csv", b.ports.Admin))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(body), "# "))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := -1
	for i, name := range rows[0] {
		if name == "req_tot" {
			col = i
		}
	}
	var total int64
	for _, r := range rows[1:] {
		if (r[0] == "inbound" || r[0] == "outbound") && r[1] == "FRONTEND" {
			n, _ := strconv.ParseInt(r[col], 10, 64)
			total += n
		}
	}
	return total
}

// The tool's CPU-seconds per 1000 proxied requests agree within 10% with a
// reading the test takes itself around the same run: cpuacct.usage from the
// proxy's cgroup, and request totals from haproxy's CSV page.
func TestCPUPerThousandRequestsAgreesWithIndependentReading(t *testing.T) {
	b := newLab(t, HAProxy{}, 2)
	ctx := context.Background()
	if err := b.Start(ctx, results.Setting{Concurrency: 1, CPULimitMillicores: 1000}); err != nil {
		t.Fatal(err)
	}
	usage := cgroupFile(t, b.proxy.pid(), "cpuacct", "cpuacct.usage")
	cpu0, req0 := readNanos(t, usage), haproxyCSVRequests(t, b)
	m, err := b.Measure(ctx, load(400, 4*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	cpu1, req1 := readNanos(t, usage), haproxyCSVRequests(t, b)
	independent := float64(cpu1-cpu0) / 1e9 / (float64(req1-req0) / 1000)
	tool := m.ProxyCPUSeconds / (float64(m.ProxyRequests) / 1000)
	t.Logf("CPU-seconds per 1000 proxied requests: tool %.4f (%.3f s over %d requests), independent %.4f (%.3f s over %d)",
		tool, m.ProxyCPUSeconds, m.ProxyRequests, independent, float64(cpu1-cpu0)/1e9, req1-req0)
	if math.Abs(tool-independent)/independent > 0.10 {
		t.Errorf("tool %.4f and independent %.4f differ by more than 10%%", tool, independent)
	}
	if m.ProxyCPUSeconds <= 0 || !m.HasThrottling || m.Periods == 0 {
		t.Errorf("no CPU or CFS figures: %+v", m)
	}
}

// With k = 2 the proxy carries 3 requests per inbound call, counted by the
// proxy itself.
func TestRequestsPerInboundFromProxyCounters(t *testing.T) {
	for _, p := range []Proxy{HAProxy{}, Nginx{}} {
		t.Run(p.Name(), func(t *testing.T) {
			b := newLab(t, p, 2)
			ctx := context.Background()
			if err := b.Start(ctx, results.Setting{Concurrency: 2}); err != nil {
				t.Fatal(err)
			}
			m, err := b.Measure(ctx, load(300, 3*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			perInbound := float64(m.ProxyRequests) / float64(m.InboundRequests)
			t.Logf("%s: %d proxied / %d inbound = %.4f (%s); cpu %.3fs; memory %d bytes; errors %v",
				p.Name(), m.ProxyRequests, m.InboundRequests, perInbound, m.Sources["requests"], m.ProxyCPUSeconds, m.MemoryWorkingSetBytes, m.Load.Summary.ErrorRatio)
			if math.Abs(perInbound-3)/3 > 0.02 {
				t.Errorf("requests per inbound = %.4f, want 3 within 2%%", perInbound)
			}
			if m.MemoryWorkingSetBytes <= 0 || m.Load.Summary.ErrorRatio > 0 {
				t.Errorf("memory %d, error ratio %v", m.MemoryWorkingSetBytes, m.Load.Summary.ErrorRatio)
			}
		})
	}
}
