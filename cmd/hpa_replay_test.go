package cmd

import (
	"path/filepath"
	"testing"
)

func TestHPAReplayBadInput(t *testing.T) {
	dir := t.TempDir()
	replay := []string{"hpa", "web", "--replay", "--prometheus-url", "http://127.0.0.1:9"}
	with := func(extra ...string) []string { return append(append([]string{}, replay...), extra...) }
	for _, tt := range []badInvocation{
		{"a replay flag without --replay", []string{"hpa", "web", "--replay-window", "1h"}, []string{"--replay-window", "needs --replay"}},
		{"prometheus without --replay", []string{"hpa", "web", "--prometheus-url", "http://p:9090"}, []string{"--prometheus-url", "needs --replay"}},
		{"a controller flag without --replay", []string{"hpa", "web", "--horizontal-pod-autoscaler-tolerance", "0.2"}, []string{"--horizontal-pod-autoscaler-tolerance", "needs --replay"}},
		{"csv without --replay", []string{"hpa", "web", "-o", "csv"}, []string{"--output", "csv needs --replay"}},
		{"manifests with --replay", with("-o", "manifests"), []string{"--output", "table, json, yaml or csv"}},
		{"no prometheus", []string{"hpa", "web", "--replay"}, []string{"--prometheus-url", "required"}},
		{"bad prometheus url", []string{"hpa", "web", "--replay", "--prometheus-url", "prometheus:9090"}, []string{"--prometheus-url", "http(s) URL"}},
		{"missing token file", with("--prometheus-token-file", filepath.Join(dir, "none")), []string{"--prometheus-token-file", "readable file"}},
		{"zero step", with("--replay-step", "0s"), []string{"--replay-step", "> 0"}},
		{"window of one step", with("--replay-window", "15s"), []string{"--replay-window", "two steps"}},
		{"window of too many steps", with("--replay-window", "8760h", "--replay-step", "1s"), []string{"--replay-window", "raise --replay-step"}},
		{"zero rate window", with("--replay-rate-window", "0s"), []string{"--replay-rate-window"}},
		{"negative start-up", with("--replay-pod-startup", "-1s"), []string{"--replay-pod-startup"}},
		{"bad end", with("--replay-end", "yesterday"), []string{"--replay-end", "RFC 3339"}},
		{"zero sync period", with("--horizontal-pod-autoscaler-sync-period", "0s"), []string{"--horizontal-pod-autoscaler-sync-period"}},
		{"tolerance of 1", with("--horizontal-pod-autoscaler-tolerance", "1"), []string{"--horizontal-pod-autoscaler-tolerance", "[0, 1)"}},
		{"negative window", with("--horizontal-pod-autoscaler-downscale-stabilization", "-1m"), []string{"--horizontal-pod-autoscaler-downscale-stabilization"}},
		{"negative initialisation", with("--horizontal-pod-autoscaler-cpu-initialization-period", "-1m"), []string{"--horizontal-pod-autoscaler-cpu-initialization-period"}},
		{"negative readiness delay", with("--horizontal-pod-autoscaler-initial-readiness-delay", "-1s"), []string{"--horizontal-pod-autoscaler-initial-readiness-delay"}},
		{"page in a missing directory", with("--replay-out", filepath.Join(dir, "none", "replay.html")), []string{"--replay-out", "existing directory"}},
		{"zero query timeout", with("--prometheus-timeout", "0s"), []string{"--prometheus-timeout"}},
	} {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}
