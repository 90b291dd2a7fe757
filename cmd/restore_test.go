package cmd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKubeCommandsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []badInvocation{
		{"restore without a journal", []string{"restore"}, []string{"--journal", "required"}},
		{"restore journal and deployment", []string{"restore", "--journal", bad, "--deployment", "web"}, []string{"--deployment", "not both"}},
		{"restore deployment without namespace", []string{"restore", "--deployment", "web"}, []string{"--namespace", "required"}},
		{"restore missing journal", []string{"restore", "--journal", filepath.Join(dir, "none.json")}, []string{"--journal", "no journal"}},
		{"restore unreadable journal", []string{"restore", "--journal", bad}, []string{"journal"}},
		{"restore bad timeout", []string{"restore", "--journal", bad, "--timeout", "0s"}, []string{"--timeout"}},
		{"restore bad kubeconfig", []string{"restore", "--journal", bad, "--kubeconfig", filepath.Join(dir, "nope")}, []string{"--kubeconfig"}},
		{"hpa without a name", []string{"hpa"}, []string{"accepts 1 arg"}},
		{"hpa bad name", []string{"hpa", "Web_1"}, []string{"HPA name"}},
		{"hpa bad namespace", []string{"hpa", "-n", "Shop!", "web"}, []string{"--namespace"}},
		{"hpa bad output", []string{"hpa", "web", "-o", "xml"}, []string{"--output", "table, json, yaml or manifests"}},
		{"hpa bad usage", []string{"hpa", "web", "--sidecar-cpu-usage", "lots"}, []string{"--sidecar-cpu-usage", "CPU quantity"}},
		{"hpa negative request", []string{"hpa", "web", "--sidecar-cpu-request", "-1"}, []string{"--sidecar-cpu-request"}},
		{"hpa bad container", []string{"hpa", "web", "--app-container", "A B"}, []string{"--app-container"}},
		{"inventory bad output", []string{"inventory", "-o", "manifests"}, []string{"--output", "table, json or yaml"}},
		{"inventory bad concurrency", []string{"inventory", "--concurrency", "0"}, []string{"--concurrency", "1..256"}},
		{"inventory bad domain", []string{"inventory", "--cluster-domain", "-x"}, []string{"--cluster-domain"}},
		{"inventory bad profile", []string{"inventory", "--profile", filepath.Join(dir, "none.yaml")}, []string{"--profile"}},
		{"inventory extra arg", []string{"inventory", "shop"}, []string{"unknown command"}},
	} {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

func TestKubeCommandsUnreachableClusterExit1(t *testing.T) {
	// A kubeconfig pointing at a closed loopback port: a runtime failure.
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: x}
contexts:
- name: c
  context: {cluster: c, user: u, namespace: default}
current-context: c
`
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"hpa", "--kubeconfig", kc, "--timeout", "3s", "web"},
		{"inventory", "--kubeconfig", kc, "--timeout", "3s"},
	} {
		code, stdout, stderr := run(t, args...)
		if code != exitFailure || stdout != "" || stderr == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}
