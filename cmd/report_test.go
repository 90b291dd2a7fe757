package cmd

import (
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
		{Concurrency: 1, RequestedRPS: 100, Status: results.StatusPending},
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
