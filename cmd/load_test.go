package cmd

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/testenv"
	"github.com/proxysizer/proxysizer/loadgen"

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

// TestLoadBadInputMessages pins the whole message of each bad input: the
// flag (or URL) first, then what was expected. loadgen reports problems in
// its own words (loadgen.Field); these are the command line's.
func TestLoadBadInputMessages(t *testing.T) {
	echo := loadEcho(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--qps", "-5"}, `--qps: expected a positive rate or max, got "-5"`},
		{[]string{"--qps", "0"}, `--qps: expected a positive rate or max, got "0"`},
		{[]string{"--connections", "0"}, "--connections: expected a positive value, got 0 (0 is not the default)"},
		{[]string{"--connections", "-3"}, "--connections: expected 1..10000, got -3"},
		{[]string{"--connections", "lots"}, `--connections: expected a number of connections or auto, got "lots"`},
		{[]string{"--connections", "10001"}, "--connections: expected 1..10000, got 10001"},
		{[]string{"--expected-latency", "-1ms"}, "--expected-latency: expected a positive duration of at most 1h0m0s, got -1ms"},
		{[]string{"--expected-latency", "0"}, "--expected-latency: expected a positive value, got 0 (0 is not the default)"},
		{[]string{"--connections", "8", "--expected-latency", "5ms"}, "--expected-latency: applies only with --connections auto"},
		{[]string{"--warmup", "-1s"}, "--warmup: expected a duration within 0..1h0m0s, got -1s"},
		{[]string{"--protocol", "spdy"}, `--protocol: expected one of http1, h2c, grpc, got "spdy"`},
		{[]string{"-H", "nocolon"}, `--header: expected "Name: value", got "nocolon"`},
		{[]string{"--payload-size", "-1"}, "--payload-size: expected 0..16777216 bytes (16 MiB), got -1"},
		{[]string{"--request-timeout", "-1s"}, "--request-timeout: expected a positive duration of at most 1h0m0s, got -1s"},
		{[]string{"--connect-timeout", "-1s"}, "--connect-timeout: expected a positive duration of at most 1h0m0s, got -1s"},
		{[]string{"--request-timeout", "0"}, "--request-timeout: expected a positive value, got 0 (0 is not the default)"},
		{[]string{"--duration", "0"}, "--duration: expected a positive value, got 0 (0 is not the default)"},
		{[]string{"--duration", "10ms", "--qps", "10"}, "--duration: 10ms at 10 qps makes fewer than 2 calls"},
		{[]string{"--max-error-ratio", "2"}, "--max-error-ratio: expected a ratio between 0 and 1, got 2"},
		{[]string{"--max-error-ratio", "0"}, "--max-error-ratio: expected a positive value, got 0 (0 is not the default)"},
		{[]string{"--arrival", "zigzag"}, `--arrival: expected uniform, poisson or burst:N, got "zigzag"`},
		{[]string{"--arrival", "burst:1"}, `--arrival: expected burst:N with N at least 2 calls per burst, got "burst:1"`},
		{[]string{"--qps", "max", "--arrival", "poisson"}, "--arrival: applies only to a fixed rate, not --qps max"},
		{[]string{"--find-max", "--slo-p99", "-5ms"}, "--slo-p99: expected a positive duration, got -5ms"},
		{[]string{"--find-max", "--slo-basis", "foo"}, `--slo-basis: expected intended or service, got "foo"`},
		{[]string{"--find-max", "--precision", "1.5"}, "--precision: expected a ratio between 0 and 1, got 1.5"},
		{[]string{"--find-max", "--start-qps", "100", "--max-qps", "50"}, "--max-qps: expected at least the start rate (100) and at most 1e+09, got 50"},
		{[]string{"--find-max", "--start-qps", "0"}, "--start-qps: expected a positive rate, got 0"},
		{[]string{"--find-max", "--max-steps", "0"}, "--max-steps: expected a positive value, got 0 (0 is not the default)"},
		{[]string{"--find-max", "--max-time", "-1s"}, "--max-time: expected a positive duration of at most 24h0m0s, got -1s"},
		{[]string{"--find-max", "--fail-retries", "9"}, "--fail-retries: expected 0 to 5, got 9"},
	} {
		code, stdout, stderr := run(t, append([]string{"load", echo}, tc.args...)...)
		if want := "proxysizer: " + tc.want + "\n"; code != exitBadInput || stdout != "" || stderr != want {
			t.Errorf("load %v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "http://"}, `URL: expected a host in "http://"`},
		{[]string{"load", "--protocol", "h2c", "https://127.0.0.1:1/"}, "--protocol: h2c is cleartext HTTP/2 and needs an http:// URL"},
		{[]string{"load", "--serve", "127.0.0.1:0", echo}, "--serve: takes no URL: each run's target comes with its request"},
		{[]string{"load", "--serve", "127.0.0.1:0", "--qps", "5"}, "--qps: not used with --serve (each run's options come with its request)"},
		{[]string{"load", "--serve", "127.0.0.1:99999"}, "--serve: listen tcp: address 99999: invalid port"},
	} {
		code, stdout, stderr := run(t, tc.args...)
		if want := "proxysizer: " + tc.want + "\n"; code != exitBadInput || stdout != "" || stderr != want {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and %q", tc.args, code, stdout, stderr, want)
		}
	}
}

// TestLoadArrivalAndAutoConnections: --arrival poisson makes exactly rate x
// duration calls and is recorded; --connections auto (the default) sizes
// the pool from the rate and --expected-latency (27 connections for 300
// qps at 50 ms).
func TestLoadArrivalAndAutoConnections(t *testing.T) {
	code, stdout, stderr := run(t, "load", loadEcho(t), "--qps", "300", "--arrival", "poisson", "--duration", "1s",
		"--expected-latency", "50ms", "--warmup", "0s", "--no-progress", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		Arrival     string `json:"arrival"`
		Requests    int64  `json:"requests"`
		Connections int    `json:"connections"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if want := loadgen.ConnectionsFor(300, 50*time.Millisecond, loadgen.Arrival{Kind: loadgen.Poisson}); got.Arrival != "poisson" ||
		got.Requests != 300 || got.Connections != want {
		t.Errorf("arrival %q, %d calls, %d connections; want poisson, 300, %d", got.Arrival, got.Requests, got.Connections, want)
	}
}

// loadAgentChildEnv set to 1 makes this test binary the load agent
// (TestLoadServeAgentProcess), without the integration tier's cluster.
const loadAgentChildEnv = "PROXYSIZER_TEST_LOAD_AGENT"

// TestLoadServeAgentProcess runs `proxysizer load --serve` as a process of
// its own (this test binary, re-executed into the command), drives a run
// through it with loadgen's client, and stops it with SIGTERM.
func TestLoadServeAgentProcess(t *testing.T) {
	if os.Getenv(loadAgentChildEnv) == "1" {
		os.Exit(Execute([]string{"load", "--serve", "127.0.0.1:0"}, os.Stdout, os.Stderr))
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadServeAgentProcess$")
	cmd.Env = append(os.Environ(), loadAgentChildEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stderr)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "proxysizer load agent listening on ") {
		t.Fatalf("first line %q, want the address", lines.Text())
	}
	addr := strings.TrimPrefix(lines.Text(), "proxysizer load agent listening on ")
	client := &loadgen.AgentClient{BaseURL: "http://" + addr}
	res, err := client.Run(context.Background(), loadgen.Options{URL: loadEcho(t), QPS: 100, Connections: 2, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary; s.Requests != 100 || s.IntendedLatencyMs == nil || res.Schedule == nil || s.GeneratorCPUCores <= 0 {
		t.Errorf("agent run: %d calls, intended %v, schedule %v, cpu %.3f", s.Requests, s.IntendedLatencyMs, res.Schedule, s.GeneratorCPUCores)
	}
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "run for "+loadEcho(t)+": 100 qps requested") {
		t.Errorf("the agent logged %q, want the run's line", lines.Text())
	}
	go func() { exited <- cmd.Wait() }()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM the agent exited with %v, want status 0", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("the agent did not exit within 5s of SIGTERM")
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
