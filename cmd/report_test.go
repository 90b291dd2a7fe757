package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/results"
)

func TestReportBadInput(t *testing.T) {
	empty := t.TempDir()
	newer := t.TempDir()
	os.WriteFile(filepath.Join(newer, results.FileName), []byte(`{"schema_version": 2}`), 0o644)
	nothingRan := t.TempDir()
	results.Save(nothingRan, &results.Sweep{SchemaVersion: 1, Status: results.SweepInterrupted, Steps: []results.Step{
		{Setting: results.Setting{Concurrency: 1}, RequestedRPS: 100, Status: results.StatusPending},
	}})
	tests := []badInvocation{
		{"missing directory", []string{"report", filepath.Join(empty, "nope")}, []string{"results directory", "no such file or directory"}},
		{"empty directory", []string{"report", empty}, []string{"no sweep.json", "not a proxysizer results directory"}},
		{"newer schema", []string{"report", newer}, []string{"schema_version 2 is newer than this build reads (1)", "upgrade proxysizer"}},
		{"nothing ran", []string{"report", nothingRan}, []string{"no finished step to report"}},
		{"no directory", []string{"report"}, []string{"accepts 1 arg"}},
		{"bad target", []string{"report", empty, "--target-rps", "0"}, []string{"--target-rps", "> 0"}},
		{"bad headroom", []string{"report", empty, "--headroom", "-1"}, []string{"--headroom", "between 0 and 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

func TestReportWritesEveryFile(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "report", "../report/testdata/haproxy-sweep", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"report.html", "report.md", "steps.csv", "smp.json", "fortio", "profile.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if f != "profile.yaml" && !strings.Contains(stdout, filepath.Join(out, f)) {
			t.Errorf("stdout does not name %s:\n%s", f, stdout)
		}
	}
	if !strings.Contains(stdout, "15 fortio results") || strings.Contains(stdout, "not fitted") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// The report's pod annotations come from the chosen setting's full plan:
// with only the CPU ones, Istio would drop the sidecar's memory request and
// limit (any resource annotation stops it merging the mesh defaults).
func TestReportAnnotationsSetAllFourResources(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := run(t, "report", "../report/testdata/haproxy-sweep", "--out", out); code != 0 {
		t.Fatalf("report: %s", stderr)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"proxy.istio.io/config", "sidecar.istio.io/proxyCPU:", "sidecar.istio.io/proxyMemory:", "sidecar.istio.io/proxyMemoryLimit:"} {
		if !strings.Contains(string(md), a) {
			t.Errorf("report.md's annotations lack %s", a)
		}
	}
	code, stdout, _ := run(t, "fit", "../report/testdata/haproxy-sweep", "-o", filepath.Join(out, "p.yaml"), "--format", "json")
	var res struct {
		Recommendation struct {
			Best *struct {
				CPURequestMillicores int64 `json:"cpu_request_millicores"`
			} `json:"best"`
		} `json:"recommendation"`
		Plan struct {
			Sidecar struct {
				CPURequestMillicores int64 `json:"cpu_request_millicores"`
				MemoryRequestBytes   int64 `json:"memory_request_bytes"`
			} `json:"sidecar"`
		} `json:"plan"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Recommendation.Best == nil {
		t.Fatalf("fit -o json: exit %d", code)
	}
	// The plan prices the chosen setting with its own measured cost, so its
	// request matches the recommendation's (within rounding of the measured
	// requests per inbound call).
	if d := res.Plan.Sidecar.CPURequestMillicores - res.Recommendation.Best.CPURequestMillicores; d < -2 || d > 2 || res.Plan.Sidecar.MemoryRequestBytes <= 0 {
		t.Errorf("plan request %dm vs recommendation %dm, memory %d", res.Plan.Sidecar.CPURequestMillicores, res.Recommendation.Best.CPURequestMillicores, res.Plan.Sidecar.MemoryRequestBytes)
	}
}
