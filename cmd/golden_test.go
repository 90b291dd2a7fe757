package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites the golden files: go test ./cmd -run Golden -update.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenCase is a command line whose stdout is a documented contract.
type goldenCase struct {
	name string
	args []string
	// files are written by the command into its temporary directory
	// ({tmp}) and compared too.
	files []string
}

// The README's plan examples and fit on the committed recorded sweeps: their
// output must not change unless a change means to change it.
func goldenCases() []goldenCase {
	seed := []string{"plan", "--rps", "10000", "--replicas", "20", "--requests-per-call", "2", "--app-cpu-request", "1", "--hpa-target", "70"}
	second := []string{"plan", "--rps", "10000", "--replicas", "10", "--requests-per-call", "5", "--app-cpu-request", "1", "--hpa-target", "70",
		"--app-cpu-per-krps", "0.5", "--k8s-version", "1.30"}
	var cases []goldenCase
	for _, format := range []string{"table", "json", "manifests"} {
		cases = append(cases,
			goldenCase{name: "plan-seed-" + format, args: append(append([]string{}, seed...), "--sidecar-cpu-request", "100m", "-o", format)},
			goldenCase{name: "plan-second-" + format, args: append(append([]string{}, second...), "-o", format)},
		)
	}
	cases = append(cases, goldenCase{name: "plan-seed-1.26-manifests",
		args: append(append([]string{}, seed...), "--k8s-version", "1.26", "--deployment", "shop", "-o", "manifests")})
	for name, dir := range map[string]string{"fit-haproxy": "../fit/testdata/haproxy", "fit-haproxy-sweep": "../report/testdata/haproxy-sweep"} {
		for _, format := range []string{"table", "json"} {
			cases = append(cases, goldenCase{name: name + "-" + format,
				args: []string{"fit", dir, "--format", format, "--name", "golden", "-o", "{tmp}/profile.yaml"}, files: []string{"profile.yaml"}})
		}
	}
	// The searched recording at a target its capacities carry: the concave
	// curve chosen for one worker, two workers over a 1-core limit rejected.
	cases = append(cases, goldenCase{name: "fit-haproxy-curve-table",
		args:  []string{"fit", "../fit/testdata/haproxy-curve", "--target-rps", "700", "--name", "golden", "-o", "{tmp}/profile.yaml"},
		files: []string{"profile.yaml"}})
	return cases
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			tmp := t.TempDir()
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = strings.ReplaceAll(a, "{tmp}", tmp)
			}
			code, stdout, stderr := run(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			compareGolden(t, tc.name+".out", strings.ReplaceAll(stdout, tmp, "{tmp}"))
			for _, f := range tc.files {
				data, err := os.ReadFile(filepath.Join(tmp, f))
				if err != nil {
					t.Fatal(err)
				}
				compareGolden(t, tc.name+"."+f, strings.ReplaceAll(string(data), tmp, "{tmp}"))
			}
		})
	}
}

func compareGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (record with -update)", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Errorf("%s differs from the golden file (%d vs %d bytes); first difference at line %d:\n got: %s\nwant: %s",
			name, len(got), len(want), firstDiffLine(string(want), got), lineAt(got, firstDiffLine(string(want), got)), lineAt(string(want), firstDiffLine(string(want), got)))
	}
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < min(len(al), len(bl)); i++ {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

func lineAt(s string, n int) string {
	lines := strings.Split(s, "\n")
	if n-1 < len(lines) {
		return lines[n-1]
	}
	return "<end>"
}
