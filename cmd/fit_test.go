package cmd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/proxysizer/proxysizer/results"
)

// resultsDirCases are the results directories every command that reads one
// must refuse as bad input.
func resultsDirCases(t *testing.T, command string) []badInvocation {
	empty := t.TempDir()
	newer := t.TempDir()
	if err := os.WriteFile(filepath.Join(newer, results.FileName), []byte(`{"schema_version": 3}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return []badInvocation{
		{"missing directory", []string{command, filepath.Join(empty, "nope")}, []string{"results directory", "no such file or directory"}},
		{"empty directory", []string{command, empty}, []string{"no sweep.json", "not a proxysizer results directory"}},
		{"newer schema", []string{command, newer}, []string{"schema_version 3 is newer than this build reads (2)", "upgrade proxysizer"}},
		{"no directory", []string{command}, []string{"accepts 1 arg"}},
		{"bad target", []string{command, empty, "--target-rps", "0"}, []string{"--target-rps", "> 0"}},
		{"bad headroom", []string{command, empty, "--headroom", "-1"}, []string{"--headroom", "between 0 and 10"}},
		{"bad slo", []string{command, empty, "--slo-p99", "-1ms"}, []string{"--slo-p99", "positive duration"}},
	}
}

// savedSweep is a results directory holding an interrupted sweep of steps.
func savedSweep(t *testing.T, steps ...results.Step) string {
	dir := t.TempDir()
	if err := results.Save(dir, &results.Sweep{SchemaVersion: 1, Status: results.SweepInterrupted, Steps: steps}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFitBadInput(t *testing.T) {
	fewPoints := savedSweep(t,
		results.Step{Setting: results.Setting{Concurrency: 1}, RequestedRPS: 100, SidecarRPS: 300, ProxyCPUCores: 0.03, Status: results.StatusOK},
		results.Step{Setting: results.Setting{Concurrency: 1}, RequestedRPS: 200, Status: results.StatusPending})
	tests := append(resultsDirCases(t, "fit"),
		badInvocation{"too few points", []string{"fit", fewPoints}, []string{fewPoints + ": nothing to fit", "1 valid step(s) at 1 rate(s), need 2 rates"}},
		badInvocation{"bad format", []string{"fit", fewPoints, "--format", "xml"}, []string{"--format", "table or json"}},
		badInvocation{"negative target", []string{"fit", fewPoints, "--target-rps", "-3"}, []string{"--target-rps", "> 0"}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}
