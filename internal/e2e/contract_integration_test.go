//go:build integration

package e2e

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/testenv"
)

// A real nginx sweep, read back as plain JSON: the contract's field names,
// the proxy's own request counts, and the files beside sweep.json.
func TestNginxSweepContract(t *testing.T) {
	testenv.RequireBinary(t, "nginx", "apt-get install nginx-light")
	// A relative --out, as a user types it: the proxy runs in another
	// working directory and must still find its configuration.
	cwd := t.TempDir()
	out := filepath.Join(cwd, "results", "sweep")
	code, stdout, stderr := runIn(t, cwd, "sweep", "--proxy", "nginx", "--concurrency", "2", "--cpu-limit", "1",
		"--rates", "150,300", "--outbound-per-request", "1", "--duration", "2s", "--warmup", "500ms",
		"--connections", "4", "--no-progress", "--out", "results/sweep")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "sweep.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	proxy := rec["proxy"].(map[string]any)
	if proxy["name"] != "nginx" || !strings.Contains(proxy["version"].(string), "nginx/") {
		t.Errorf("proxy = %v", proxy)
	}
	steps := rec["steps"].([]any)
	if len(steps) != 2 {
		t.Fatalf("%d steps", len(steps))
	}
	for _, s := range steps {
		st := s.(map[string]any)
		for _, key := range []string{"concurrency", "cpu_limit_millicores", "requested_rps", "actual_rps", "proxy_cpu_cores",
			"proxy_cpu_seconds_per_1k_requests", "proxy_requests_per_inbound", "throttled_ratio", "memory_working_set_bytes", "latency_ms", "status"} {
			if _, ok := st[key]; !ok {
				t.Errorf("step lacks contract field %s", key)
			}
		}
		lat := st["latency_ms"].(map[string]any)
		if _, ok := lat["p50"]; !ok {
			t.Error("latency_ms lacks p50")
		}
		if _, ok := lat["p99"]; !ok {
			t.Error("latency_ms lacks p99")
		}
		// k = 1: two requests through nginx per inbound call, by stub_status.
		if per := st["proxy_requests_per_inbound"].(float64); math.Abs(per-2)/2 > 0.02 {
			t.Errorf("proxy_requests_per_inbound = %v, want 2 within 2%%", per)
		}
		if st["cpu_limit_millicores"].(float64) != 1000 || st["proxy_cpu_cores"].(float64) <= 0 || st["memory_working_set_bytes"].(float64) <= 0 {
			t.Errorf("step = %v", st)
		}
		for _, f := range []string{st["file"].(string), st["fortio_file"].(string)} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Error(err)
			}
		}
	}
	if !strings.Contains(stdout, "Recommendation for") {
		t.Errorf("no recommendation:\n%s", stdout)
	}
}
