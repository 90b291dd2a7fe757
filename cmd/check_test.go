package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var checkFixtures = filepath.Join("..", "check", "testdata")

func TestCheckExitCodes(t *testing.T) {
	flawed := filepath.Join(checkFixtures, "checks", "PS102-fires.yaml") // an error (PS102) and warnings
	warnOnly := filepath.Join(checkFixtures, "checks", "PS101-fires.yaml")
	clean := filepath.Join(checkFixtures, "clean")
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"check", "-f", flawed}, exitOK},
		{[]string{"check", "-f", flawed, "--fail-on", "error"}, exitFindings},
		{[]string{"check", "-f", warnOnly, "--fail-on", "error"}, exitOK},
		{[]string{"check", "-f", warnOnly, "--fail-on", "warning"}, exitFindings},
		{[]string{"check", "-f", clean, "--fail-on", "warning"}, exitOK},
		{[]string{"check", "-f", flawed, "--fail-on", "error", "--skip", "PS102"}, exitOK},
	} {
		code, out, stderr := run(t, tt.args...)
		if code != tt.want {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.want, stderr)
		}
		if !strings.Contains(out, "finding(s)") {
			t.Errorf("%v: the report was not written before the exit status: %q", tt.args, out)
		}
		if code == exitFindings && !strings.Contains(stderr, "at or above") {
			t.Errorf("%v: stderr %q does not say why", tt.args, stderr)
		}
	}
}

func TestCheckBadInput(t *testing.T) {
	good := filepath.Join(checkFixtures, "clean")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mesh := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := os.WriteFile(mesh, []byte("apiVersion: apps/v1\nkind: Deployment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []badInvocation{
		{"output", []string{"check", "-f", good, "-o", "xml"}, []string{"--output", "table, json, sarif or fixes"}},
		{"fail-on", []string{"check", "-f", good, "--fail-on", "notice"}, []string{"--fail-on", "warning or error"}},
		{"version", []string{"check", "-f", good, "--k8s-version", "new"}, []string{"--k8s-version", "1.30"}},
		{"unknown check", []string{"check", "-f", good, "--only", "PS999"}, []string{"--only", "PS999"}},
		{"missing file", []string{"check", "-f", "nope.yaml"}, []string{"--filename", "nope.yaml"}},
		{"undecodable", []string{"check", "-f", bad}, []string{"bad.yaml line 1", "Deployment"}},
		{"mesh config", []string{"check", "-f", good, "--mesh-config", mesh}, []string{"--mesh-config", "not a mesh configuration"}},
		{"-A with -f", []string{"check", "-f", good, "-A"}, []string{"--all-namespaces"}},
		{"workload arg", []string{"check", "-f", good, "web"}, []string{"deployment/NAME"}},
	} {
		t.Run(tt.name, func(t *testing.T) { assertBadInput(t, tt) })
	}
}

func TestCheckReadsStdinAndFiltersWorkloads(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(checkFixtures, "checks", "PS301-fires.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = w.Write(data); w.Close() }()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved }()
	code, out, stderr := run(t, "check", "-f", "-", "-o", "json", "deployment/web", "-n", "shop")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		Inputs   []string `json:"inputs"`
		Findings []struct {
			Check, Workload string
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(rep.Inputs) != 1 || rep.Inputs[0] != "stdin" || len(rep.Findings) == 0 {
		t.Fatalf("report %+v", rep)
	}
	seen := false
	for _, f := range rep.Findings {
		if f.Workload != "Deployment shop/web" {
			t.Errorf("finding %s of %s kept although only deployment/web was asked for", f.Check, f.Workload)
		}
		seen = seen || f.Check == "PS301"
	}
	if !seen {
		t.Errorf("PS301 missing from %+v", rep.Findings)
	}
}

// The README's worked example is this command's real output.
func TestCheckREADMEExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(".."); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	for _, args := range [][]string{
		{"check", "-f", "examples/check/shop", "--mesh-config", "examples/check/istio-operator.yaml", "--k8s-version", "1.29", "--fail-on", "error"},
		{"check", "-f", "examples/check/shop", "--mesh-config", "examples/check/istio-operator.yaml", "--k8s-version", "1.29", "-o", "fixes", "--only", "PS205,PS301"},
	} {
		_, out, _ := run(t, args...)
		block := "$ proxysizer " + strings.Join(args[0:], " ") + "\n" + out
		if !strings.Contains(string(readme), block) {
			t.Errorf("README.md does not hold the output of %v as it is now:\n%s", args, out)
		}
	}
}
