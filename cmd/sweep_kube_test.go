package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSweepKubernetesBadInput(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(token, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	k := []string{"sweep", "--backend", "kubernetes", "-n", "shop"}
	with := func(extra ...string) []string { return append(append([]string{}, k...), extra...) }
	target := []string{"--deployment", "web", "--target", "http://web.shop.svc:8080/"}
	for _, tt := range []badInvocation{
		{name: "unknown backend", args: []string{"sweep", "--backend", "nomad"}, want: []string{"--backend"}},
		{name: "kube flag on local", args: []string{"sweep", "--deployment", "web"}, want: []string{"--deployment"}},
		{name: "no deployment", args: with("--target", "http://web/"), want: []string{"--deployment"}},
		{name: "bad deployment", args: with("--deployment", "Web_1", "--target", "http://web/"), want: []string{"--deployment"}},
		{name: "no target", args: with("--deployment", "web"), want: []string{"--target"}},
		{name: "target not http", args: with("--deployment", "web", "--target", "web.shop.svc:8080"), want: []string{"--target"}},
		{name: "bad namespace", args: []string{"sweep", "--backend", "kubernetes", "-n", "Shop", "--deployment", "web", "--target", "http://web/"}, want: []string{"--namespace"}},
		{name: "local-only flag", args: with(append(target, "--proxy", "haproxy")...), want: []string{"--proxy"}},
		{name: "outbound is measured", args: with(append(target, "--outbound-per-request", "2")...), want: []string{"--outbound-per-request"}},
		{name: "zero generators", args: with(append(target, "--load-generators", "0")...), want: []string{"--load-generators"}},
		{name: "token without prometheus", args: with(append(target, "--prometheus-token-file", token)...), want: []string{"--prometheus-token-file"}},
		{name: "missing token file", args: with(append(target, "--prometheus-url", "http://prom:9090", "--prometheus-token-file", token+".missing")...), want: []string{"--prometheus-token-file"}},
		{name: "bad prometheus url", args: with(append(target, "--prometheus-url", "prom:9090")...), want: []string{"--prometheus-url"}},
		{name: "bad node selector", args: with(append(target, "--load-node-selector", "zone")...), want: []string{"--load-node-selector"}},
		{name: "zero rollout timeout", args: with(append(target, "--rollout-timeout", "0s")...), want: []string{"--rollout-timeout"}},
	} {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}
