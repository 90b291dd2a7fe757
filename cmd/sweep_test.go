package cmd

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/internal/sweeptest"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/results"
)

func TestSweepBadInput(t *testing.T) {
	tests := []badInvocation{
		{"fractions without find-max", []string{"sweep", "--rates", "0.5"}, []string{"--rates", "need --find-max"}},
		{"mixed rates", []string{"sweep", "--find-max", "--rates", "0.5,300"}, []string{"--rates", "not both"}},
		{"negative rate", []string{"sweep", "--rates", "-1"}, []string{"--rates", "> 0"}},
		{"bad cpu limit", []string{"sweep", "--cpu-limit", "lots"}, []string{"--cpu-limit", "500m"}},
		{"limit without cgroups", []string{"sweep", "--no-cpu-limit", "--cpu-limit", "1"}, []string{"--cpu-limit", "cannot be enforced with --no-cpu-limit"}},
		{"zero concurrency", []string{"sweep", "--concurrency", "0"}, []string{"--concurrency", "1..64"}},
		{"slo without find-max", []string{"sweep", "--slo-p99", "5ms"}, []string{"--slo-p99", "only used with --find-max"}},
		{"grpc locally", []string{"sweep", "--protocol", "grpc"}, []string{"--protocol", "speaks HTTP"}},
		{"zero duration", []string{"sweep", "--duration", "0s"}, []string{"--duration", "> 0 and at most 24h"}},
		{"unparsable duration", []string{"sweep", "--duration", "soon"}, []string{"--duration", "soon"}},
		{"resume without out", []string{"sweep", "--resume"}, []string{"--resume", "needs --out"}},
		{"unknown proxy", []string{"sweep", "--proxy", "traefik"}, []string{"--proxy", "envoy, haproxy, nginx or auto"}},
		{"unknown backend", []string{"sweep", "--backend", "nomad"}, []string{"--backend", "local"}},
		{"too many outbound", []string{"sweep", "--outbound-per-request", "99"}, []string{"--outbound-per-request", "0..32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

// recordedCopy copies the recorded haproxy sweep (sweep.json and its fortio
// results) into a temporary results directory and loads it.
func recordedCopy(t *testing.T) (string, *results.Sweep) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "sweep")
	if err := os.CopyFS(dir, os.DirFS(sweeptest.HAProxySweep)); err != nil {
		t.Fatal(err)
	}
	return dir, sweeptest.Load(t, dir)
}

// A finished sweep prints its steps and recommendation, and leaves the
// profile and the report in its results directory.
func TestFinishSweepRecommendsAndReports(t *testing.T) {
	dir, rec := recordedCopy(t)
	var out bytes.Buffer
	if err := finishSweep(&out, rec, dir, sweepFlags{}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	profile := filepath.Join(dir, "profile.yaml")
	for _, want := range []string{
		"Results: " + filepath.Join(dir, results.FileName),
		"Stand-in: measured on haproxy standing in for Envoy",
		"Measured cost per setting (proxy cores at sidecar RPS; the model that predicts held-out rates better):",
		"c1-l1     line 0.0202 + 0.0680 x RPS/1000",
		"held-out 24.1% (concave needs more rates)",
		"capacity ≥ 1789 (lower bound)",
		"Recommendation for 348 inbound RPS per pod",
		"chosen:    concurrency 1, CPU limit 1, CPU request 186m",
		"CPU request 186m: the upper end of the 95% prediction interval 18m-186m at the peak; point estimate 102m",
		"# measured on haproxy standing in for Envoy",
		"Warnings (3):",
		"Size with it: proxysizer plan --profile " + profile + " --rps-per-pod 348 --outbound-per-request 2 --concurrency 1 --cpu-limit 1",
		"Full fit: proxysizer fit " + dir,
		"Report of " + dir,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the finish does not print %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "not fitted") {
		t.Errorf("the finish says a fitted sweep is not fitted:\n%s", text)
	}
	data, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.Parse(data); err != nil {
		t.Errorf("the finish's profile does not parse: %v", err)
	}
	for _, f := range []string{"report.html", "report.md", "steps.csv", "smp.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the finish did not write %s: %v", f, err)
		}
	}
}

// A sweep that cannot be fitted still finishes: it says why there is no
// recommendation, writes the report without a fit and no profile.
func TestFinishSweepNotFitted(t *testing.T) {
	dir, rec := recordedCopy(t)
	sweeptest.OnlyRateValid(rec, 200)
	var out bytes.Buffer
	if err := finishSweep(&out, rec, dir, sweepFlags{}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"No recommendation: " + dir + ": nothing to fit", "not fitted: " + dir + ": nothing to fit"} {
		if !strings.Contains(text, want) {
			t.Errorf("the finish does not print %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Recommendation for") {
		t.Errorf("the finish prints a recommendation without a fit:\n%s", text)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.md")); err != nil {
		t.Errorf("no report without a fit: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "profile.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a profile was written without a fit: %v", err)
	}
}
