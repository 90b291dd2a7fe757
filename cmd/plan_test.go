package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"sigs.k8s.io/yaml"
)

// planJSON runs plan -o json and decodes it generically, so the test checks
// the contract's field names rather than the Go struct's.
func planJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, stdout, stderr := run(t, append([]string{"plan", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("plan %v: exit %d: %s", args, code, stderr)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatalf("plan -o json is not JSON: %v", err)
	}
	return m
}

// field walks a dotted path such as "hpa.manifest_target_percent".
func field(t *testing.T, m map[string]any, path string) any {
	t.Helper()
	var cur any = m
	for _, key := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", path, cur)
		}
		if cur, ok = obj[key]; !ok {
			t.Fatalf("contract field %s missing", path)
		}
	}
	return cur
}

func TestPlanSeedNumbers(t *testing.T) {
	tests := []struct {
		args               []string
		appPerPod, sidecar float64
		requestsPerCall    float64
	}{
		{[]string{"--rps", "10000", "--replicas", "20", "--requests-per-call", "2"}, 500, 1000, 2},
		{[]string{"--rps", "10000", "--replicas", "10", "--requests-per-call", "5"}, 1000, 5000, 5},
		{[]string{"--rps-per-pod", "1000", "--outbound-per-request", "4"}, 1000, 5000, 5},
	}
	for _, tt := range tests {
		m := planJSON(t, tt.args...)
		if field(t, m, "app_rps_per_pod") != tt.appPerPod || field(t, m, "sidecar_rps_per_pod") != tt.sidecar || field(t, m, "requests_per_call") != tt.requestsPerCall {
			t.Errorf("%v: app %v sidecar %v N %v, want %v %v %v", tt.args, m["app_rps_per_pod"], m["sidecar_rps_per_pod"], m["requests_per_call"], tt.appPerPod, tt.sidecar, tt.requestsPerCall)
		}
	}
}

func TestPlanHPAContract(t *testing.T) {
	m := planJSON(t, "--rps", "10000", "--replicas", "20", "--requests-per-call", "2",
		"--app-cpu-request", "1", "--hpa-target", "70", "--sidecar-cpu-request", "100m", "--k8s-version", "1.26")
	// The seed: 700m / 1100m = 63.6%.
	if got := field(t, m, "hpa.request_weighted_target_percent"); got != 63.6 {
		t.Errorf("request_weighted_target_percent = %v, want 63.6", got)
	}
	// Default profile: 0.20 cores per 1000 RPS x 1000 sidecar RPS = 200m at the planned load.
	if got := field(t, m, "hpa.sidecar_cpu_at_app_target_millicores"); got != 200.0 {
		t.Errorf("sidecar_cpu_at_app_target_millicores = %v, want 200", got)
	}
	// (700 + 200) / 1100 = 81.8%, floored to 81 for the manifest.
	if got := field(t, m, "hpa.usage_aware_target_percent"); got != 81.8 {
		t.Errorf("usage_aware_target_percent = %v, want 81.8", got)
	}
	if got := field(t, m, "hpa.manifest_target_percent"); got != 81.0 {
		t.Errorf("manifest_target_percent = %v, want 81", got)
	}
	if got := field(t, m, "hpa.recommend_container_resource"); got != false {
		t.Errorf("recommend_container_resource = %v on 1.26", got)
	}
	if got := field(t, m, "hpa.metric.type"); got != "Resource" {
		t.Errorf("metric type = %v", got)
	}
	for _, path := range []string{"sidecar.cpu_request_millicores", "sidecar.cpu_limit_millicores", "sidecar.memory_request_bytes", "sidecar.memory_limit_bytes", "concurrency", "assumptions", "warnings"} {
		field(t, m, path)
	}
	// 1000 RPS x 1.15 x 0.20 = 230m; 1 worker; limit one core.
	if field(t, m, "sidecar.cpu_request_millicores") != 230.0 || field(t, m, "concurrency") != 1.0 || field(t, m, "sidecar.cpu_limit_millicores") != 1000.0 {
		t.Errorf("sidecar = %v concurrency = %v", m["sidecar"], m["concurrency"])
	}
}

func TestPlanNoLimitExplainsWhy(t *testing.T) {
	m := planJSON(t, "--rps-per-pod", "300", "--cpu-limit", "none")
	if field(t, m, "sidecar.cpu_limit_millicores") != 0.0 {
		t.Fatalf("cpu limit = %v, want 0", m["sidecar"])
	}
	if why := field(t, m, "sidecar.reasons.cpu_limit").(string); !strings.Contains(why, "no limit") {
		t.Errorf("no reason for no limit: %q", why)
	}
	warnings, _ := json.Marshal(m["warnings"])
	if !strings.Contains(string(warnings), "one worker per node core") {
		t.Errorf("warnings %s lack the node-cores concurrency warning", warnings)
	}
}

func TestPlanOutputs(t *testing.T) {
	base := []string{"plan", "--rps-per-pod", "400", "--outbound-per-request", "3", "--authz-calls", "1", "--retry-ratio", "0.1"}
	code, table, _ := run(t, base...)
	// 1 + 3 + 1 + 0.1 x 4 = 5.4 requests per inbound call; 400 x 5.4 = 2160.
	if code != 0 || !strings.Contains(table, "1 inbound + 3 outbound + 1 authz + 0.4 retries") || !strings.Contains(table, "2160 RPS") {
		t.Errorf("table lacks the decomposition:\n%s", table)
	}
	code, out, _ := run(t, append(base, "-o", "yaml")...)
	var m map[string]any
	if err := yaml.Unmarshal([]byte(out), &m); code != 0 || err != nil || m["sidecar_rps_per_pod"] != 2160.0 {
		t.Errorf("yaml: %d %v %v", code, err, m["sidecar_rps_per_pod"])
	}
	code, out, _ = run(t, append(base, "-o", "manifests", "--app-cpu-request", "500m", "--hpa-target", "80", "--k8s-version", "v1.30.1", "--deployment", "shop")...)
	docs := strings.Split(out, "\n---\n")
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if code != 0 || len(docs) != 2 || yaml.UnmarshalStrict([]byte(docs[1]), &hpa) != nil {
		t.Fatalf("manifests: exit %d, %d documents:\n%s", code, len(docs), out)
	}
	if cr := hpa.Spec.Metrics[0].ContainerResource; cr == nil || cr.Container != "shop" || *cr.Target.AverageUtilization != 80 {
		t.Errorf("HPA metric = %+v, want ContainerResource on shop at 80%%", hpa.Spec.Metrics[0])
	}
	if !strings.Contains(docs[0], "sidecar.istio.io/proxyCPU:") || !strings.Contains(docs[0], "concurrency: ") {
		t.Errorf("patch lacks annotations:\n%s", docs[0])
	}
}

func TestPlanWithMeasuredProfileFile(t *testing.T) {
	code, profile, _ := run(t, "profiles", "show", "istio-1.8-1.16")
	if code != 0 {
		t.Fatal("profiles show failed")
	}
	path := filepath.Join(t.TempDir(), "measured.yaml")
	measured := strings.Replace(strings.Replace(profile, "kind: reference", "kind: measured", 1), "cores_per_krps: 0.35", "cores_per_krps: 0.5", 1)
	if err := os.WriteFile(path, []byte(measured), 0o600); err != nil {
		t.Fatal(err)
	}
	m := planJSON(t, "--rps-per-pod", "1000", "--profile", path)
	// 1000 x 1.15 x 0.5 = 575m
	if field(t, m, "sidecar.cpu_request_millicores") != 575.0 || field(t, m, "profile.kind") != "measured" {
		t.Errorf("plan from a profile file: %v %v", m["sidecar"], m["profile"])
	}
}

func TestPlanBadInput(t *testing.T) {
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.yaml")
	if err := os.WriteFile(malformed, []byte("name: [oops"), 0o600); err != nil {
		t.Fatal(err)
	}
	load := []string{"plan", "--rps-per-pod", "100"}
	hpa := append(load[:len(load):len(load)], "--app-cpu-request", "1", "--hpa-target", "70")
	tests := []badInvocation{
		{"negative rps", []string{"plan", "--rps", "-5", "--replicas", "2"}, []string{"--rps", "> 0"}},
		{"NaN rps", []string{"plan", "--rps", "NaN", "--replicas", "2"}, []string{"--rps", "finite"}},
		{"infinite rps per pod", []string{"plan", "--rps-per-pod", "+Inf"}, []string{"--rps-per-pod", "finite"}},
		{"non-numeric rps", []string{"plan", "--rps", "lots", "--replicas", "2"}, []string{"--rps", "lots"}},
		{"zero replicas", []string{"plan", "--rps", "1000", "--replicas", "0"}, []string{"--replicas", "within 1..1000000"}},
		{"rps without replicas", []string{"plan", "--rps", "1000"}, []string{"--replicas", "required"}},
		{"replicas without rps", []string{"plan", "--replicas", "3"}, []string{"--rps", "required"}},
		{"no load at all", []string{"plan"}, []string{"--rps", "required"}},
		{"rps-per-pod with rps", []string{"plan", "--rps-per-pod", "100", "--rps", "1000", "--replicas", "10"}, []string{"--rps-per-pod", "not both"}},
		{"requests per call below 1", append(load, "--requests-per-call", "0"), []string{"--requests-per-call", "within 1..1000"}},
		{"both fan-out forms", append(load, "--requests-per-call", "3", "--outbound-per-request", "2"), []string{"--outbound-per-request", "not both"}},
		{"negative outbound", append(load, "--outbound-per-request", "-1"), []string{"--outbound-per-request", "within 0..999"}},
		{"negative authz", append(load, "--authz-calls", "-2"), []string{"--authz-calls", "within 0..1000"}},
		{"retry ratio above 1", append(load, "--retry-ratio", "1.5"), []string{"--retry-ratio", "between 0 and 1"}},
		{"unknown profile", append(load, "--profile", "istio-0.1"), []string{"--profile", "not a reference profile"}},
		{"malformed profile file", append(load, "--profile", malformed), []string{"--profile", "not a valid profile"}},
		{"negative clusters", append(load, "--clusters", "-1"), []string{"--clusters", "within 0..1000000"}},
		{"negative endpoints", append(load, "--endpoints", "-3"), []string{"--endpoints", "within 0..10000000"}},
		{"zero concurrency", append(load, "--concurrency", "0"), []string{"--concurrency", "within 1..1024"}},
		{"negative headroom", append(load, "--headroom", "-0.5"), []string{"--headroom", "between 0 and 10"}},
		{"unparsable cpu limit", append(load, "--cpu-limit", "lots"), []string{"--cpu-limit", "auto, none, or a CPU quantity"}},
		{"memory limit below request", append(load, "--memory-limit-ratio", "0.5"), []string{"--memory-limit-ratio", "within 1..100"}},
		{"unparsable app cpu", append(load, "--app-cpu-request", "one", "--hpa-target", "70"), []string{"--app-cpu-request", "CPU quantity"}},
		{"zero app cpu", append(load, "--app-cpu-request", "0", "--hpa-target", "70"), []string{"--app-cpu-request", "within 1m..1000"}},
		{"hpa target 0", append(load, "--app-cpu-request", "1", "--hpa-target", "0"), []string{"--hpa-target", "1..100"}},
		{"hpa target 101", append(load, "--app-cpu-request", "1", "--hpa-target", "101"), []string{"--hpa-target", "1..100"}},
		{"hpa target without request", append(load, "--hpa-target", "70"), []string{"--app-cpu-request", "required"}},
		{"request without target", append(load, "--app-cpu-request", "1"), []string{"--hpa-target", "required"}},
		{"unparsable sidecar cpu", append(hpa, "--sidecar-cpu-request", "100x"), []string{"--sidecar-cpu-request", "CPU quantity"}},
		{"sidecar cpu without hpa", append(load, "--sidecar-cpu-request", "100m"), []string{"--sidecar-cpu-request", "only used for the HPA"}},
		{"negative app cpu per krps", append(hpa, "--app-cpu-per-krps", "-1"), []string{"--app-cpu-per-krps", "> 0"}},
		{"bad k8s version", append(hpa, "--k8s-version", "banana"), []string{"--k8s-version", "1.29"}},
		{"k8s version 2.0", append(hpa, "--k8s-version", "2.0"), []string{"--k8s-version"}},
		{"bad deployment name", append(hpa, "--deployment", "My_App"), []string{"--deployment", "Kubernetes object name"}},
		{"max below min replicas", append(hpa, "--min-replicas", "5", "--max-replicas", "3"), []string{"--max-replicas", ">= --min-replicas"}},
		{"unknown output", append(load, "-o", "xml"), []string{"--output", "table, json, yaml or manifests"}},
		{"unknown flag", append(load, "--rsp", "3"), []string{"unknown flag: --rsp"}},
		{"positional argument", append(load, "extra"), []string{"unknown command", "extra"}},
	}
	if len(tests) < 20 {
		t.Fatalf("the issue asks for at least 20 bad invocations, have %d", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

func TestProfilesCommands(t *testing.T) {
	code, out, _ := run(t, "profiles", "list")
	if code != 0 || strings.Count(out, "istio-") != 8 || !strings.Contains(out, "istio-1.24-sidecar *") || !strings.Contains(out, "2.65 ms p90") {
		t.Errorf("profiles list:\n%s", out)
	}
	code, out, _ = run(t, "profiles", "show", "istio-1.8-1.16", "-o", "json")
	var p map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil || field(t, p, "cpu.cores_per_krps") != 0.35 {
		t.Errorf("profiles show -o json: %d %s", code, out)
	}
	assertBadInput(t, badInvocation{args: []string{"profiles", "show", "nope"}, want: []string{"unknown profile", "nope"}})
	assertBadInput(t, badInvocation{args: []string{"profiles", "show"}, want: []string{"accepts 1 arg"}})
}
