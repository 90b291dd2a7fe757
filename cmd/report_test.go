package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/results"
)

func TestReportBadInput(t *testing.T) {
	nothingRan := savedSweep(t, results.Step{Setting: results.Setting{Concurrency: 1}, RequestedRPS: 100, Status: results.StatusPending})
	tests := append(resultsDirCases(t, "report"),
		badInvocation{"nothing ran", []string{"report", nothingRan}, []string{"results directory " + nothingRan, "no finished step to report"}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

func TestReportWritesEveryFile(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := run(t, "report", sweeptest.HAProxySweep, "--out", out)
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
	if !strings.Contains(stdout, "15 fortio results") {
		t.Errorf("stdout does not count the 15 fortio results:\n%s", stdout)
	}
	if strings.Contains(stdout, "not fitted") {
		t.Errorf("stdout says a fitted sweep is not fitted:\n%s", stdout)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"proxysizer plan --profile " + filepath.Join(out, "profile.yaml") + " --rps-per-pod 348 --outbound-per-request 2 --concurrency 1 --cpu-limit 1",
		"proxysizer sweep --backend local --proxy haproxy --concurrency 1,2 --cpu-limit 500m,1 --rates 200,400,600 --outbound-per-request 2 --duration 2s --warmup 500ms --connections 8 --protocol http1 --out DIR",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks the command %q", want)
		}
	}
}

// The report's pod annotations come from the chosen setting's full plan:
// with only the CPU ones, Istio would drop the sidecar's memory request and
// limit (any resource annotation stops it merging the mesh defaults).
func TestReportAnnotationsSetAllFourResources(t *testing.T) {
	out := t.TempDir()
	if code, _, stderr := run(t, "report", sweeptest.HAProxySweep, "--out", out); code != 0 {
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
	code, stdout, stderr := run(t, "fit", sweeptest.HAProxySweep, "-o", filepath.Join(out, "p.yaml"), "--format", "json")
	if code != 0 {
		t.Fatalf("fit --format json: exit %d: %s", code, stderr)
	}
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
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("fit --format json: %v", err)
	}
	if res.Recommendation.Best == nil {
		t.Fatal("fit --format json: no recommendation")
	}
	// The plan prices the chosen setting with its own measured cost, so its
	// request matches the recommendation's (within rounding of the measured
	// requests per inbound call).
	if d := res.Plan.Sidecar.CPURequestMillicores - res.Recommendation.Best.CPURequestMillicores; d < -2 || d > 2 {
		t.Errorf("plan request %dm vs recommendation %dm", res.Plan.Sidecar.CPURequestMillicores, res.Recommendation.Best.CPURequestMillicores)
	}
	if res.Plan.Sidecar.MemoryRequestBytes <= 0 {
		t.Errorf("plan memory request %d, want > 0", res.Plan.Sidecar.MemoryRequestBytes)
	}
}
