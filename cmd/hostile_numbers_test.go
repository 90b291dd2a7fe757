package cmd

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/testenv"
)

// Class: numbers. Every numeric input has a range; every figure computed
// from inputs in range is finite and fits its type, or the command fails
// naming the input. Nothing wraps around, overflows or prints +Inf.
func TestHostileNumbers(t *testing.T) {
	base := t.TempDir()
	profile := func(name, cpu, memory string) string {
		path := filepath.Join(base, name+".yaml")
		writeFiles(t, map[string]string{path: "schema_version: 1\nname: " + name + "\nkind: measured\ncomponent: sidecar\nproxy: envoy\n" +
			"provenance: {source: test, setup: test}\ncpu: " + cpu + "\nmemory: " + memory + "\n"})
		return path
	}
	memory := "{base_bytes: 62914560, per_cluster_bytes: 45056, per_endpoint_bytes: 1434, per_worker_per_cluster_bytes: 2253}"
	cpu := "{idle_cores: 0, cores_per_krps: 0.2}"
	profiles := map[string]string{
		"idle_cores 1e308":          profile("idle-huge", "{idle_cores: 1e308, cores_per_krps: 0.2}", memory),
		"idle_cores -1":             profile("idle-negative", "{idle_cores: -1, cores_per_krps: 0.2}", memory),
		"cores_per_krps 1e-300":     profile("cost-tiny", "{idle_cores: 0, cores_per_krps: 1e-300}", memory),
		"cores_per_krps 5000":       profile("cost-huge", "{idle_cores: 0, cores_per_krps: 5000}", memory),
		"max_rps_per_core 1e300":    profile("capacity-huge", "{idle_cores: 0, cores_per_krps: 0.2, max_rps_per_core: 1e300}", memory),
		"concurrency 1e6":           profile("workers-huge", "{idle_cores: 0, cores_per_krps: 0.2, by_concurrency: [{concurrency: 1000000, cpu_limit_millicores: 0, idle_cores: 0, cores_per_krps: 0.2}]}", memory),
		"cpu_limit_millicores 1e18": profile("limit-huge", "{idle_cores: 0, cores_per_krps: 0.2, by_concurrency: [{concurrency: 2, cpu_limit_millicores: 1000000000000000000, idle_cores: 0, cores_per_krps: 0.2}]}", memory),
		"max_rps -5":                profile("max-negative", "{idle_cores: 0, cores_per_krps: 0.2, by_concurrency: [{concurrency: 2, cpu_limit_millicores: 0, idle_cores: 0, cores_per_krps: 0.2, max_rps: -5}]}", memory),
		"base_bytes 1e30":           profile("memory-huge", cpu, "{base_bytes: 1e30}"),
		"per_cluster_bytes 1e13":    profile("cluster-huge", cpu, "{base_bytes: 1000, per_cluster_bytes: 1e13}"),
	}
	tiny := profile("tiny-capacity", "{idle_cores: 0, cores_per_krps: 0.2, max_rps_per_core: 0.001}", memory)
	heavy := profile("heavy-workers", cpu, "{base_bytes: 62914560, per_worker_per_cluster_bytes: 1000000000}")
	trees := []string{base}
	capacity := []string{"capacity", "-n", "shop", "--prometheus-url", "http://127.0.0.1:1"}
	closed := testenv.ClosedPortURL(t)
	load := []string{"plan", "--rps-per-pod", "100"}
	hpa := append(load[:len(load):len(load)], "--app-cpu-request", "1", "--hpa-target", "70")
	with := func(args []string, more ...string) []string { return append(args[:len(args):len(args)], more...) }
	cases := []hostile{
		// The wrong answers with exit 0.
		{name: "plan --rps-per-pod 1e20", args: []string{"plan", "--rps-per-pod", "1e20"}, want: []string{"--rps-per-pod", "at most 1e+06", "1e+20"}},
		{name: "plan --rps-per-pod 1.79e308 -o json", args: []string{"plan", "--rps-per-pod", "1.79e308", "-o", "json"}, want: []string{"--rps-per-pod", "at most 1e+06"}},
		{name: "plan --endpoints 9223372036854775807", args: with(load, "--endpoints", "9223372036854775807"), want: []string{"--endpoints", "within 0..10000000"}},
		{name: "plan --cpu-limit 1Ei", args: with(load, "--cpu-limit", "1Ei"), want: []string{"--cpu-limit", "within 1m..1000", "1Ei"}},
		{name: "sweep --cpu-limit 1Ei", args: []string{"sweep", "--cpu-limit", "1Ei", "--out", filepath.Join(base, "never")}, want: []string{"--cpu-limit", "within 1m..1000", "1Ei"}},
		{name: "plan --max-replicas 3000000000", args: with(hpa, "--max-replicas", "3000000000"), want: []string{"--max-replicas", "within 1..1000000"}},
		{name: "plan --profile with idle_cores: 1e308", args: with(load, "--profile", profiles["idle_cores 1e308"]), want: []string{"--profile", "cpu.idle_cores must be within 0..1000 cores", "1e+308"}},
		// More of the plan's inputs at and past their ends.
		{name: "plan --rps 2e9", args: []string{"plan", "--rps", "2e9", "--replicas", "10"}, want: []string{"--rps", "at most 1e+09"}},
		{name: "plan --rps 1e9 over 10 replicas: 1e8 per pod", args: []string{"plan", "--rps", "1e9", "--replicas", "10"}, want: []string{"--rps", "inbound RPS per pod", "--replicas"}},
		{name: "plan --replicas 9223372036854775807", args: []string{"plan", "--rps", "100", "--replicas", "9223372036854775807"}, want: []string{"--replicas", "within 1..1000000"}},
		{name: "plan --rps-per-pod -0", args: []string{"plan", "--rps-per-pod", "-0"}, want: []string{"--rps-per-pod", "> 0"}},
		{name: "plan --rps-per-pod NaN", args: []string{"plan", "--rps-per-pod", "NaN"}, want: []string{"--rps-per-pod", "finite"}},
		{name: "plan --rps-per-pod -Inf", args: []string{"plan", "--rps-per-pod", "-Inf"}, want: []string{"--rps-per-pod", "finite"}},
		{name: "plan --requests-per-call 1e300", args: with(load, "--requests-per-call", "1e300"), want: []string{"--requests-per-call", "within 1..1000"}},
		{name: "plan --outbound-per-request 1000", args: with(load, "--outbound-per-request", "1000"), want: []string{"--outbound-per-request", "within 0..999"}},
		{name: "plan --authz-calls 1e9", args: with(load, "--authz-calls", "1e9"), want: []string{"--authz-calls", "within 0..1000"}},
		{name: "plan --retry-ratio NaN", args: with(load, "--retry-ratio", "NaN"), want: []string{"--retry-ratio", "between 0 and 1"}},
		{name: "plan --clusters 2000000", args: with(load, "--clusters", "2000000"), want: []string{"--clusters", "within 0..1000000"}},
		{name: "plan --concurrency 100000", args: with(load, "--concurrency", "100000"), want: []string{"--concurrency", "within 1..1024"}},
		{name: "plan --headroom 1e308", args: with(load, "--headroom", "1e308"), want: []string{"--headroom", "between 0 and 10"}},
		{name: "plan --memory-limit-ratio 1e308", args: with(load, "--memory-limit-ratio", "1e308"), want: []string{"--memory-limit-ratio", "within 1..100"}},
		{name: "plan --cpu-limit 1001", args: with(load, "--cpu-limit", "1001"), want: []string{"--cpu-limit", "within 1m..1000"}},
		{name: "plan --cpu-limit 9223372036854775807m", args: with(load, "--cpu-limit", "9223372036854775807m"), want: []string{"--cpu-limit"}},
		{name: "plan --app-cpu-request 1Ei", args: with(load, "--app-cpu-request", "1Ei", "--hpa-target", "70"), want: []string{"--app-cpu-request", "within 1m..1000"}},
		{name: "plan --sidecar-cpu-request 1e20", args: with(hpa, "--sidecar-cpu-request", "1e20"), want: []string{"--sidecar-cpu-request", "within 1m..1000"}},
		{name: "plan --app-cpu-per-krps 1e308", args: with(hpa, "--app-cpu-per-krps", "1e308"), want: []string{"--app-cpu-per-krps", "at most 1000"}},
		{name: "plan --min-replicas 2147483648", args: with(hpa, "--min-replicas", "2147483648"), want: []string{"--min-replicas", "within 1..1000000"}},
		{name: "plan --max-replicas 0", args: with(hpa, "--max-replicas", "0"), want: []string{"--max-replicas", "within 1..1000000"}},
		{name: "plan --max-replicas -1", args: with(hpa, "--max-replicas", "-1"), want: []string{"--max-replicas"}},
		// Inputs each in range whose product is not: the plan checks what it computed.
		{name: "plan: the peak needs more than 1024 workers", args: []string{"plan", "--rps-per-pod", "1e6", "--requests-per-call", "1000"}, want: []string{"--rps-per-pod", "workers", "above the 1024 one proxy runs", "more replicas"}},
		{name: "plan: a profile's tiny capacity needs more than 1024 workers", args: with(load, "--profile", tiny), want: []string{"--rps-per-pod", "above the 1024 one proxy runs"}},
		{name: "plan: more than 1000 cores", args: []string{"plan", "--rps", "1e9", "--replicas", "1000", "--requests-per-call", "1000", "--concurrency", "1024", "--cpu-limit", "none"}, want: []string{"--rps", "cores", "above the 1000"}},
		{name: "plan: memory above 16Ti", args: with(load, "--profile", heavy, "--clusters", "1000000", "--concurrency", "64"), want: []string{"--clusters", "above the 16Ti"}},
		{name: "plan: an HPA target above 10000%", args: with(hpa, "--app-cpu-per-krps", "0.000001", "--app-cpu-request", "1000"), want: []string{"--app-cpu-per-krps", "target", "above 10000%"}},
		// The other commands' numbers.
		{name: "fit --target-rps 1e308", args: []string{"fit", base, "--target-rps", "1e308"}, want: []string{"--target-rps", "at most 1e+06"}},
		{name: "report --headroom 11", args: []string{"report", base, "--headroom", "11"}, want: []string{"--headroom", "between 0 and 10"}},
		{name: "fit --slo-p99 1000h", args: []string{"fit", base, "--slo-p99", "1000h"}, want: []string{"--slo-p99", "at most 1h"}},
		{name: "hpa --sidecar-cpu-usage 1Ei", args: []string{"hpa", "-n", "shop", "web", "--sidecar-cpu-usage", "1Ei"}, want: []string{"--sidecar-cpu-usage", "within 1m..1000"}},
		{name: "sweep --rates 1e300", args: []string{"sweep", "--rates", "1e300"}, want: []string{"--rates", "at most 1e+06"}},
		{name: "sweep --connections 100000000", args: []string{"sweep", "--connections", "100000000"}, want: []string{"--connections", "1..10000"}},
		{name: "sweep --payload-size 99999999999", args: []string{"sweep", "--payload-size", "99999999999"}, want: []string{"--payload-size", "16 MiB"}},
		{name: "sweep --duration 10000h", args: []string{"sweep", "--duration", "10000h"}, want: []string{"--duration", "at most 24h"}},
		{name: "sweep --warmup 2h", args: []string{"sweep", "--warmup", "2h"}, want: []string{"--warmup", "within 0..1h"}},
		{name: "sweep --search-max-steps 0", args: []string{"sweep", "--find-max", "--search-max-steps", "0"}, want: []string{"--search-max-steps", "1..1000"}},
		{name: "sweep --search-max-time 0s", args: []string{"sweep", "--find-max", "--search-max-time", "0s"}, want: []string{"--search-max-time", "> 0"}},
		{name: "sweep --search-start-rps 1e300", args: []string{"sweep", "--find-max", "--search-start-rps", "1e300"}, want: []string{"--search-start-rps", "at most 1e+06"}},
		{name: "sweep --concurrency 2147483648", args: []string{"sweep", "--concurrency", "2147483648"}, want: []string{"--concurrency", "1..64"}},
		{name: "sweep --repeats 1000", args: []string{"sweep", "--repeats", "1000"}, want: []string{"--repeats", "1..10"}},
		{name: "load --payload-size 99999999999", args: []string{"load", closed, "--payload-size", "99999999999"}, want: []string{"--payload-size", "16 MiB"}},
		{name: "load --connections 100000000", args: []string{"load", closed, "--connections", "100000000"}, want: []string{"--connections", "1..10000"}},
		{name: "load --qps 1e300", args: []string{"load", closed, "--qps", "1e300"}, want: []string{"--qps", "positive rate or max"}},
		{name: "load --duration 1000h", args: []string{"load", closed, "--duration", "1000h"}, want: []string{"--duration", "at most 24h"}},
		{name: "load --warmup 2h", args: []string{"load", closed, "--warmup", "2h"}, want: []string{"--warmup", "within 0..1h"}},
		{name: "load --request-timeout 2h", args: []string{"load", closed, "--request-timeout", "2h"}, want: []string{"--request-timeout", "at most 1h"}},
		{name: "load --find-max --max-steps 0", args: []string{"load", closed, "--find-max", "--max-steps", "0"}, want: []string{"--max-steps", "0 is not the default"}},
		{name: "load --find-max --max-time 0s", args: []string{"load", closed, "--find-max", "--max-time", "0s"}, want: []string{"--max-time", "0 is not the default"}},
		{name: "load --find-max --precision 0", args: []string{"load", closed, "--find-max", "--precision", "0"}, want: []string{"--precision", "0 is not the default"}},
		{name: "load --find-max --max-steps 100000", args: []string{"load", closed, "--find-max", "--max-steps", "100000"}, want: []string{"--max-steps", "1..1000"}},
		{name: "load --find-max --start-qps 1e300", args: []string{"load", closed, "--find-max", "--start-qps", "1e300"}, want: []string{"--start-qps", "at most 1e+09"}},
		{name: "load --find-max --max-qps NaN", args: []string{"load", closed, "--find-max", "--max-qps", "NaN"}, want: []string{"--max-qps"}},
		{name: "load --find-max --precision NaN", args: []string{"load", closed, "--find-max", "--precision", "NaN"}, want: []string{"--precision", "between 0 and 1"}},
		{name: "load --find-max --max-time 1000h", args: []string{"load", closed, "--find-max", "--max-time", "1000h"}, want: []string{"--max-time", "at most 24h"}},
		{name: "capacity --headroom 11", args: with(capacity, "--headroom", "11"), want: []string{"--headroom", "between 0 and 10"}},
		{name: "capacity --memory-limit-ratio 1e308", args: with(capacity, "--memory-limit-ratio", "1e308"), want: []string{"--memory-limit-ratio", "within 1..100"}},
		{name: "capacity --cpu-limit 1Ei", args: with(capacity, "--cpu-limit", "1Ei"), want: []string{"--cpu-limit", "within 1m..1000"}},
		{name: "capacity --peak-quantile NaN", args: with(capacity, "--peak-quantile", "NaN"), want: []string{"--peak-quantile", "(0, 1]"}},
		{name: "capacity --window 9999d", args: with(capacity, "--window", "9999d"), want: []string{"--window", "at most 365d"}},
		{name: "capacity --window 99999999999y", args: with(capacity, "--window", "99999999999y"), want: []string{"--window"}},
		{name: "capacity --prometheus-timeout 1000h", args: with(capacity, "--prometheus-timeout", "1000h"), want: []string{"--prometheus-timeout", "at most 1h"}},
		{name: "capacity --profile with idle_cores: 1e308", args: with(capacity, "--profile", profiles["idle_cores 1e308"]), want: []string{"--profile", "cpu.idle_cores"}},
	}
	for what, path := range profiles {
		field := strings.Fields(what)[0]
		if field == "idle_cores" && strings.HasSuffix(what, "-1") {
			field = "idle cores must be a finite number >= 0"
		}
		cases = append(cases, hostile{name: "plan --profile with " + what, args: with(load, "--profile", path), want: []string{"--profile", path, field}})
	}
	for i := range cases {
		cases[i].trees = trees
	}
	runHostile(t, cases)
}

// At the ends of their ranges the inputs still give a plan whose every
// number is finite (JSON cannot even encode +Inf).
func TestPlanAtTheRangesEndsIsFinite(t *testing.T) {
	for _, args := range [][]string{
		{"--rps-per-pod", "1e6", "--concurrency", "1024", "--cpu-limit", "none", "--headroom", "0"},
		{"--rps-per-pod", "1e-300"},
		{"--rps", "1e9", "--replicas", "1000", "--cpu-limit", "1000", "--concurrency", "1024"},
		{"--rps-per-pod", "1", "--clusters", "1000000", "--endpoints", "10000000"},
		{"--rps-per-pod", "1", "--clusters", "1000", "--concurrency", "1024", "--memory-limit-ratio", "100", "--headroom", "10"},
		{"--rps-per-pod", "1000", "--app-cpu-request", "1000", "--hpa-target", "100", "--app-cpu-per-krps", "1000", "--min-replicas", "1000000", "--max-replicas", "1000000"},
		{"--rps-per-pod", "1000", "--app-cpu-request", "1m", "--hpa-target", "1", "--sidecar-cpu-request", "1000"},
	} {
		code, stdout, stderr := run(t, append([]string{"plan", "-o", "json"}, args...)...)
		if code != 0 {
			t.Errorf("plan %v: exit %d: %s", args, code, stderr)
			continue
		}
		var plan any
		if err := json.Unmarshal([]byte(stdout), &plan); err != nil {
			t.Errorf("plan %v: not JSON: %v", args, err)
			continue
		}
		walkNumbers(plan, func(path string, x float64) {
			if math.IsNaN(x) || math.IsInf(x, 0) || x < -1e15 || x > 1e18 {
				t.Errorf("plan %v: %s = %v", args, path, x)
			}
		})
	}
}

func walkNumbers(v any, visit func(string, float64)) {
	var walk func(string, any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		case float64:
			visit(path, v)
		}
	}
	walk("", v)
}

// Class: flag parse errors. Whatever the flag's type, a value that does
// not parse says what the flag expects, never strconv's "invalid syntax".
func TestHostileFlagParsing(t *testing.T) {
	dir := t.TempDir()
	cases := []hostile{
		{name: "float: plan --rps-per-pod abc", args: []string{"plan", "--rps-per-pod", "abc"}, want: []string{"--rps-per-pod: expected a number such as 200 or 1.5e3, got \"abc\""}},
		{name: "float: plan --rps 1,000", args: []string{"plan", "--rps", "1,000", "--replicas", "2"}, want: []string{"--rps: expected a number", "1,000"}},
		{name: "float out of range: plan --headroom 1e999", args: []string{"plan", "--rps-per-pod", "1", "--headroom", "1e999"}, want: []string{"--headroom: expected a number", "(out of range)"}},
		{name: "int: plan --replicas 1.5", args: []string{"plan", "--rps", "100", "--replicas", "1.5"}, want: []string{"--replicas: expected an integer such as 8, got \"1.5\""}},
		{name: "int out of range: plan --endpoints 99999999999999999999", args: []string{"plan", "--rps-per-pod", "1", "--endpoints", "99999999999999999999"}, want: []string{"--endpoints: expected an integer", "(out of range)"}},
		{name: "int: plan --hpa-target 70%", args: []string{"plan", "--rps-per-pod", "1", "--app-cpu-request", "1", "--hpa-target", "70%"}, want: []string{"--hpa-target: expected an integer", "70%"}},
		{name: "missing value: plan --rps-per-pod", args: []string{"plan", "--rps-per-pod"}, want: []string{"--rps-per-pod: expected a number", "after the flag"}},
		{name: "missing value: plan -o", args: []string{"plan", "--rps-per-pod", "1", "-o"}, want: []string{"--output: expected a value after the flag"}},
		{name: "duration: sweep --duration 1xs", args: []string{"sweep", "--duration", "1xs"}, want: []string{"--duration: expected a duration such as 500ms, 30s or 5m, got \"1xs\""}},
		{name: "duration: sweep --warmup 5", args: []string{"sweep", "--warmup", "5"}, want: []string{"--warmup: expected a duration"}},
		{name: "int list: sweep --concurrency 1,x", args: []string{"sweep", "--concurrency", "1,x"}, want: []string{"--concurrency: expected comma-separated integers such as 1,2,4, got \"1,x\""}},
		{name: "float list: sweep --rates a,b", args: []string{"sweep", "--rates", "a,b"}, want: []string{"--rates: expected comma-separated numbers", "\"a,b\""}},
		{name: "bool: sweep --find-max=maybe", args: []string{"sweep", "--find-max=maybe"}, want: []string{"--find-max: expected true or false"}},
		{name: "int: sweep --repeats two", args: []string{"sweep", "--repeats", "two"}, want: []string{"--repeats: expected an integer"}},
		{name: "float: fit --target-rps x", args: []string{"fit", dir, "--target-rps", "x"}, want: []string{"--target-rps: expected a number"}},
		{name: "duration: report --slo-p99 5", args: []string{"report", dir, "--slo-p99", "5"}, want: []string{"--slo-p99: expected a duration"}},
		{name: "duration: hpa --timeout soon", args: []string{"hpa", "web", "--timeout", "soon"}, want: []string{"--timeout: expected a duration"}},
		{name: "duration: restore --timeout -", args: []string{"restore", "--timeout", "x1"}, want: []string{"--timeout: expected a duration"}},
		{name: "int: load --connections many", args: []string{"load", "http://127.0.0.1:1/", "--connections", "many"}, want: []string{"--connections: expected a number of connections or auto"}},
		{name: "int: sweep --connections many", args: []string{"sweep", "--connections", "many"}, want: []string{"--connections: expected a number of connections or auto"}},
		{name: "int: sweep --connections 0", args: []string{"sweep", "--connections", "0"}, want: []string{"--connections: expected 1..10000 connections or auto, got 0"}},
		{name: "float: load --max-error-ratio 1%", args: []string{"load", "http://127.0.0.1:1/", "--max-error-ratio", "1%"}, want: []string{"--max-error-ratio: expected a number"}},
		{name: "int: sweep --load-generators two", args: []string{"sweep", "--backend", "kubernetes", "--load-generators", "two"}, want: []string{"--load-generators: expected an integer"}},
		{name: "duration: sweep --rollout-timeout 5", args: []string{"sweep", "--rollout-timeout", "5"}, want: []string{"--rollout-timeout: expected a duration"}},
		{name: "float: capacity --peak-quantile x", args: []string{"capacity", "--peak-quantile", "x"}, want: []string{"--peak-quantile: expected a number"}},
		{name: "duration: capacity --prometheus-timeout soon", args: []string{"capacity", "--prometheus-timeout", "soon"}, want: []string{"--prometheus-timeout: expected a duration"}},
		{name: "string list: capacity --namespaces", args: []string{"capacity", "--namespaces"}, want: []string{"--namespaces: expected comma-separated values after the flag"}},
		{name: "unknown flag", args: []string{"plan", "--rsp", "3"}, want: []string{"unknown flag: --rsp"}},
		{name: "unknown shorthand", args: []string{"plan", "-z"}, want: []string{"unknown shorthand flag"}},
	}
	for i := range cases {
		cases[i].trees = []string{dir}
	}
	runHostile(t, cases)
}

// Class: commands. A command, subcommand or help topic that does not exist
// is bad input, not a help text with exit 0.
func TestHostileCommands(t *testing.T) {
	runHostile(t, []hostile{
		{name: "profiles lst", args: []string{"profiles", "lst"}, want: []string{`unknown command "lst" for "proxysizer profiles"`, "expected list, show"}},
		{name: "completion tcsh", args: []string{"completion", "tcsh"}, want: []string{`unknown command "tcsh" for "proxysizer completion"`, "bash, fish, powershell, zsh"}},
		{name: "help nosuchcmd", args: []string{"help", "nosuchcmd"}, want: []string{`unknown help topic "nosuchcmd"`}},
		{name: "help profiles lst", args: []string{"help", "profiles", "lst"}, want: []string{`unknown command "lst" for "proxysizer profiles"`}},
		{name: "help plan extra", args: []string{"help", "plan", "extra"}, want: []string{`unknown command "extra" for "proxysizer plan"`}},
		{name: "plna", args: []string{"plna"}, want: []string{`unknown command "plna" for "proxysizer"`}},
		{name: "profiles show without a name", args: []string{"profiles", "show"}, want: []string{"accepts 1 arg"}},
		{name: "profiles list extra", args: []string{"profiles", "list", "extra"}, want: []string{"unknown command", "extra"}},
		{name: "completion bash extra", args: []string{"completion", "bash", "extra"}, want: []string{"extra"}},
		{name: "version extra", args: []string{"version", "extra"}, want: []string{"unknown command", "extra"}},
		{name: "cleanup extra", args: []string{"cleanup", "extra"}, want: []string{"unknown command", "extra"}},
		{name: "fit with two directories", args: []string{"fit", "a", "b"}, want: []string{"accepts 1 arg"}},
	})
	for _, ok := range [][]string{{"profiles"}, {"completion"}, {"help"}, {"help", "plan"}, {"help", "profiles", "list"}, {"completion", "zsh"}} {
		if code, stdout, stderr := run(t, ok...); code != 0 || stdout == "" {
			t.Errorf("%v: exit %d, %d bytes of output, stderr %q", ok, code, len(stdout), stderr)
		}
	}
}
