package cmd

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/proxysizer/proxysizer/results"
)

func TestFitBadInput(t *testing.T) {
	empty := t.TempDir()
	newer := t.TempDir()
	os.WriteFile(filepath.Join(newer, results.FileName), []byte(`{"schema_version": 2}`), 0o644)
	fewPoints := t.TempDir()
	results.Save(fewPoints, &results.Sweep{SchemaVersion: 1, Status: results.SweepInterrupted, Steps: []results.Step{
		{Setting: results.Setting{Concurrency: 1}, RequestedRPS: 100, SidecarRPS: 300, ProxyCPUCores: 0.03, Status: results.StatusOK},
		{Setting: results.Setting{Concurrency: 1}, RequestedRPS: 200, Status: results.StatusPending},
	}})
	tests := []badInvocation{
		{"missing directory", []string{"fit", filepath.Join(empty, "nope")}, []string{"results directory", "no such file or directory"}},
		{"empty directory", []string{"fit", empty}, []string{"no sweep.json", "not a proxysizer results directory"}},
		{"newer schema", []string{"fit", newer}, []string{"schema_version 2 is newer than this build reads (1)"}},
		{"too few points", []string{"fit", fewPoints}, []string{"nothing to fit", "1 valid step(s) at 1 rate(s), need 2 rates"}},
		{"no directory", []string{"fit"}, []string{"accepts 1 arg"}},
		{"bad format", []string{"fit", empty, "--format", "xml"}, []string{"--format", "table or json"}},
		{"bad target", []string{"fit", empty, "--target-rps", "-3"}, []string{"--target-rps", "> 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

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
		{"zero duration", []string{"sweep", "--duration", "0s"}, []string{"--duration", "positive"}},
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
