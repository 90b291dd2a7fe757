package cmd

import "testing"

func TestCapacityBadInput(t *testing.T) {
	prom := []string{"--prometheus-url", "http://127.0.0.1:9090"}
	with := func(args ...string) []string { return append(append([]string{"capacity"}, prom...), args...) }
	for _, tt := range []badInvocation{
		{"no prometheus", []string{"capacity"}, []string{"--prometheus-url", "required"}},
		{"bad prometheus url", []string{"capacity", "--prometheus-url", "prometheus:9090"}, []string{"--prometheus-url", "http(s) URL"}},
		{"missing token file", with("--prometheus-token-file", "/does/not/exist"), []string{"--prometheus-token-file", "readable file"}},
		{"bad window", with("--window", "a week"), []string{"--window", "7d"}},
		{"rate window above the window", with("--window", "1h", "--rate-window", "2h"), []string{"--rate-window", "at most --window"}},
		{"quantile", with("--peak-quantile", "99"), []string{"--peak-quantile", "(0, 1]"}},
		{"at", with("--at", "yesterday"), []string{"--at", "RFC 3339"}},
		{"output", with("-o", "yaml"), []string{"--output", "table, json, csv, markdown, html"}},
		{"-o with --out", with("-o", "json", "--out", "x"), []string{"--out", "either -o or --out"}},
		{"all and namespaces", with("-A", "--namespaces", "a"), []string{"--all-namespaces"}},
		{"-n and --namespaces", with("-n", "a", "--namespaces", "b"), []string{"--namespaces", "either -n"}},
		{"bad namespace", with("--namespaces", "Shop"), []string{"--namespaces", "namespace names"}},
		{"authz", with("--authz-upstreams", "authz"), []string{"--authz-upstreams", "NAME.NAMESPACE"}},
		{"profile", with("--profile", "no-such-profile"), []string{"--profile"}},
		{"headroom", with("--headroom", "-1"), []string{"--headroom"}},
		{"cpu limit", with("--cpu-limit", "lots"), []string{"--cpu-limit", "auto, none"}},
		{"memory ratio", with("--memory-limit-ratio", "0.5"), []string{"--memory-limit-ratio"}},
		{"istio namespace", with("--istio-namespace", "Istio"), []string{"--istio-namespace"}},
		{"arguments", with("web"), []string{"unknown command"}},
		// check's telemetry flags
		{"check telemetry with files", []string{"check", "-f", "../examples/check/shop", "--prometheus-url", "http://127.0.0.1:9090"}, []string{"--prometheus-url", "cannot be combined with -f"}},
		{"check window without prometheus", []string{"check", "--telemetry-window", "1d"}, []string{"--telemetry-window", "needs --prometheus-url"}},
		{"check token without prometheus", []string{"check", "--prometheus-token-file", "x"}, []string{"--prometheus-token-file", "needs --prometheus-url"}},
		{"check bad window", []string{"check", "--prometheus-url", "http://127.0.0.1:9090", "--telemetry-window", "0s"}, []string{"--telemetry-window"}},
	} {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}
