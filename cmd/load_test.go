package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/testenv"

	"fortio.org/fortio/fhttp"
)

var (
	loadEchoOnce sync.Once
	loadEchoURL  string
)

// loadEcho starts fortio's echo server in process, once: fortio cannot stop it.
func loadEcho(t *testing.T) string {
	t.Helper()
	loadEchoOnce.Do(func() {
		if _, addr := fhttp.ServeTCP("127.0.0.1:0", ""); addr != nil {
			loadEchoURL = "http://" + addr.String() + "/"
		}
	})
	if loadEchoURL == "" {
		t.Fatal("fortio echo server did not start")
	}
	return loadEchoURL
}

func TestLoadBadInput(t *testing.T) {
	echo := loadEcho(t)
	for _, tt := range []badInvocation{
		{"no URL", []string{"load"}, []string{"accepts 1 arg"}},
		{"not a URL", []string{"load", "not a url"}, []string{"URL", "http://"}},
		{"bad scheme", []string{"load", "ftp://127.0.0.1/"}, []string{"URL", "http:// or https://"}},
		{"no host", []string{"load", "http://"}, []string{"URL", "host"}},
		{"negative qps", []string{"load", echo, "--qps", "-5"}, []string{"--qps", "positive rate or max", `"-5"`}},
		{"zero qps", []string{"load", echo, "--qps", "0"}, []string{"--qps", "positive rate"}},
		{"word qps", []string{"load", echo, "--qps", "lots"}, []string{"--qps", "lots"}},
		{"zero connections", []string{"load", echo, "--connections", "0"}, []string{"--connections", "positive"}},
		{"negative connections", []string{"load", echo, "--connections", "-3"}, []string{"--connections", "1..10000"}},
		{"unparsable duration", []string{"load", echo, "--duration", "ten seconds"}, []string{"--duration", "ten seconds"}},
		{"negative warmup", []string{"load", echo, "--warmup", "-1s"}, []string{"--warmup"}},
		{"bad protocol", []string{"load", echo, "--protocol", "spdy"}, []string{"--protocol", "http1, h2c, grpc"}},
		{"bad header", []string{"load", echo, "-H", "nocolon"}, []string{"--header", "Name: value"}},
		{"bad output", []string{"load", echo, "-o", "yaml"}, []string{"--output", "text or json"}},
		{"slo without find-max", []string{"load", echo, "--slo-p99", "5ms"}, []string{"--slo-p99", "only with --find-max"}},
		{"search flag without find-max", []string{"load", echo, "--max-steps", "3"}, []string{"--max-steps", "only with --find-max"}},
		{"qps with find-max", []string{"load", echo, "--find-max", "--qps", "100"}, []string{"--qps", "--find-max"}},
		{"bad slo", []string{"load", echo, "--find-max", "--slo-p99", "-5ms"}, []string{"--slo-p99", "positive"}},
		{"bad precision", []string{"load", echo, "--find-max", "--precision", "1.5"}, []string{"--precision"}},
		{"unreachable", []string{"load", testenv.ClosedPortURL(t), "--connect-timeout", "1s"}, []string{"target http://127.0.0.1:", "connection refused"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			assertBadInput(t, tt)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("bad input took %v to report", took)
			}
		})
	}
}

// TestLoadJSONContract runs a real load against fortio's echo server and
// checks the -o json contract fields and --out's files.
func TestLoadJSONContract(t *testing.T) {
	dir := t.TempDir()
	code, stdout, stderr := run(t, "load", loadEcho(t), "--qps", "200", "--connections", "2",
		"--duration", "1s", "--warmup", "200ms", "-o", "json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	for _, key := range []string{"requested_qps", "actual_qps", "latency_ms", "intended_latency_ms",
		"error_ratio", "valid", "invalid_reasons", "generator_cpu_cores"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON lacks %q", key)
		}
	}
	lat, _ := got["latency_ms"].(map[string]any)
	for _, p := range []string{"p50", "p90", "p99", "p999"} {
		if v, _ := lat[p].(float64); v <= 0 {
			t.Errorf("latency_ms.%s = %v", p, lat[p])
		}
	}
	intended, _ := got["intended_latency_ms"].(map[string]any)
	if v, _ := intended["p99"].(float64); v <= 0 {
		t.Errorf("intended_latency_ms.p99 = %v", intended["p99"])
	}
	if got["requested_qps"] != 200.0 || got["valid"] != true || got["error_ratio"] != 0.0 {
		t.Errorf("requested %v valid %v errors %v (reasons %v)", got["requested_qps"], got["valid"], got["error_ratio"], got["invalid_reasons"])
	}
	if q, _ := got["actual_qps"].(float64); q < 190 || q > 205 {
		t.Errorf("actual_qps = %v, want about 200", q)
	}
	if !strings.Contains(stderr, "measure") && !strings.Contains(stderr, "warm-up") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	var fortioFiles int
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if strings.Contains(string(data), `"RunType": "HTTP"`) && strings.Contains(string(data), `"DurationHistogram"`) {
			fortioFiles++
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "summary.json")); err != nil || fortioFiles != 1 {
		t.Errorf("--out saved %v (fortio results: %d), want summary.json and one fortio JSON", files, fortioFiles)
	}
}

func TestLoadFindMaxJSON(t *testing.T) {
	code, stdout, stderr := run(t, "load", loadEcho(t), "--find-max", "--slo-p99", "50ms", "--start-qps", "200",
		"--max-qps", "400", "--duration", "500ms", "--warmup", "0s", "--no-progress", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stderr != "" {
		t.Errorf("--no-progress still wrote %q", stderr)
	}
	var got struct {
		MaxRPS       float64 `json:"max_rps"`
		StopReason   string  `json:"stop_reason"`
		RequestedQPS float64 `json:"requested_qps"`
		Steps        []struct {
			RequestedQPS float64 `json:"requested_qps"`
			Pass         bool    `json:"pass"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout)
	}
	// 200 passes, then 400 (the cap) passes; on a loaded machine one 400
	// step may miss its schedule and be measured once more (--fail-retries 1).
	last := len(got.Steps) - 1
	if got.MaxRPS != 400 || got.StopReason != "max-qps" || got.RequestedQPS != 400 || len(got.Steps) < 2 || len(got.Steps) > 3 ||
		got.Steps[0].RequestedQPS != 200 || !got.Steps[0].Pass || got.Steps[last].RequestedQPS != 400 || !got.Steps[last].Pass {
		t.Errorf("search report %+v", got)
	}
	for _, st := range got.Steps[1:] {
		if st.RequestedQPS != 400 {
			t.Errorf("step at %v: after 200 the search goes straight to the 400 cap", st.RequestedQPS)
		}
	}
}
