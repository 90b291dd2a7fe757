package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/version"
)

// checkCase is one check's fixture pair: testdata/checks/ID-fires.yaml must
// produce a finding of that check whose message holds want, and
// ID-passes.yaml must produce none.
type checkCase struct {
	id       string
	want     []string // substrings of the finding's message, real values
	severity Severity
	k8s      string
	istio    string
	mesh     string // a mesh-config file under testdata/checks
	scopes   map[Ref]ConfigScope
}

var checkCases = []checkCase{
	{id: "PS101", severity: Warning, want: []string{"holdApplicationUntilProxyStarts is off", "1 app container(s)"}},
	{id: "PS102", severity: Error, want: []string{`container "app" sleeps 15s in preStop`, "can exit after 5s (terminationDrainDuration 5s)", "last 10s"}},
	{id: "PS103", severity: Error, want: []string{`container "app" sleeps 40s`, "the 30s grace period"}},
	{id: "PS104", severity: Warning, want: []string{"exits 10s after SIGTERM", "30s grace period"}},
	{id: "PS105", severity: Info, k8s: "1.30", istio: "1.24", want: []string{"Istio 1.24's default (native sidecars off)", "Kubernetes 1.30 and Istio 1.24 support"}},
	{id: "PS201", severity: Warning, want: []string{"only sidecar.istio.io/proxyCPU of the four", "no CPU limit", "no memory request", "no memory limit"}},
	{id: "PS202", severity: Error, want: []string{`HPA web scales on cpu utilisation but container "worker" has no cpu request`}},
	{id: "PS203", severity: Warning, mesh: "mesh-no-cpu-limit.yaml", want: []string{"concurrency is unset and the sidecar has no CPU limit (values global.proxy.resources)"}},
	{id: "PS204", severity: Warning, want: []string{"concurrency 4 is above the sidecar's CPU limit 1500m rounded up (2)"}},
	{id: "PS205", severity: Warning, want: []string{"at 70% of app 1 + sidecar 100m", "the app then scales at 670m instead of the 700m"}},
	{id: "PS301", severity: Warning, want: []string{"headless Service web (clusterIP: None) fronts gRPC port(s) grpc-api/9090 of Deployment shop/web"}},
	{id: "PS302", severity: Warning, want: []string{"no app or version label"}},
	{id: "PS303", severity: Warning, want: []string{`route(s) "primary" of VirtualService web carry gRPC (grpc-api/9090)`, "Istio's default retry policy (2 retries on connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes; unavailable, cancelled may fire"}},
	{id: "PS304", severity: Info, want: []string{`route(s) "primary" of VirtualService web retry without retryRemoteLocalities`, "DestinationRule shop/web sets outlier detection"}},
	{id: "PS305", severity: Warning, want: []string{"DestinationRule web sets no outlier detection for web.shop.svc.cluster.local", "DestinationRule api ejects a failing host of api only after consecutive5xxErrors 5:"}},
	{id: "PS401", severity: Warning, want: []string{"namespace shop has injected workloads but no Sidecar without a workloadSelector"}},
	{id: "PS402", severity: Warning,
		scopes: map[Ref]ConfigScope{{Kind: "Deployment", Namespace: "shop", Name: "web"}: {Holds: 340, HoldsSource: "no Sidecar applies", Needs: 12, NeedsSource: "test", NeededHosts: []string{"./*", "istio-system/*"}}},
		want:   []string{"the proxy holds 340 clusters (no Sidecar applies) where its traffic needs 12 (test)", "about 14.1 MiB in every replica"}},
}

func loadCase(t *testing.T, c checkCase, file string) *Set {
	t.Helper()
	s, err := ReadPaths([]string{filepath.Join("testdata", "checks", file)}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	if c.k8s != "" {
		s.Env.K8sVersion = version.MustParseGeneric(c.k8s)
	}
	if c.istio != "" {
		s.Env.IstioVersion = version.MustParseGeneric(c.istio)
	}
	if c.mesh != "" {
		data, err := os.ReadFile(filepath.Join("testdata", "checks", c.mesh))
		if err != nil {
			t.Fatal(err)
		}
		if s.Mesh, err = ParseMesh(data, c.mesh); err != nil {
			t.Fatal(err)
		}
	}
	s.Scopes = c.scopes
	return s
}

func findingsOf(t *testing.T, s *Set, id string) []Finding {
	t.Helper()
	r, err := Run(s, Options{Only: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range r.NotEvaluated {
		t.Fatalf("%s not evaluated: %s", id, n.Reason)
	}
	return r.Findings
}

func TestEachCheckFiresOnItsFixture(t *testing.T) {
	for _, c := range checkCases {
		t.Run(c.id, func(t *testing.T) {
			file := c.id + "-fires.yaml"
			if c.id == "PS402" {
				file = "PS101-passes.yaml" // a clean workload; the scopes carry the excess
			}
			fs := findingsOf(t, loadCase(t, c, file), c.id)
			if len(fs) == 0 {
				t.Fatalf("%s-fires.yaml: no finding", c.id)
			}
			var messages []string
			for _, f := range fs {
				messages = append(messages, f.Message)
				if f.Check != c.id || f.Severity != c.severity {
					t.Errorf("finding %s %s, want %s %s", f.Check, f.Severity, c.id, c.severity)
				}
				if f.Fix.Summary == "" || f.Fix.Patch == "" || f.Breaks == "" || len(f.Sources) == 0 {
					t.Errorf("finding without fix, breaks or sources: %+v", f)
				}
			}
			all := strings.Join(messages, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("messages %q lack %q", all, w)
				}
			}
		})
	}
}

func TestEachCheckPassesItsCleanFixture(t *testing.T) {
	for _, c := range checkCases {
		t.Run(c.id, func(t *testing.T) {
			passes := c
			if c.id == "PS402" {
				passes.scopes = map[Ref]ConfigScope{{Kind: "Deployment", Namespace: "shop", Name: "web"}: {Holds: 14, HoldsSource: "Sidecar shop/default", Needs: 12, NeedsSource: "test"}}
			}
			file := c.id + "-passes.yaml"
			if c.id == "PS402" {
				file = "PS101-passes.yaml"
			}
			if fs := findingsOf(t, loadCase(t, passes, file), c.id); len(fs) > 0 {
				t.Errorf("%s: %d finding(s), first: %s", file, len(fs), fs[0].Message)
			}
		})
	}
}

func TestEveryCheckHasAFixturePair(t *testing.T) {
	var covered []string
	for _, c := range checkCases {
		covered = append(covered, c.id)
	}
	for _, id := range IDs() {
		if !slices.Contains(covered, id) {
			t.Errorf("%s has no fixture case", id)
		}
		if id == "PS402" {
			continue // its input is the live inventory: in-memory scopes here, the control plane in live_integration_test.go
		}
		for _, suffix := range []string{"-fires.yaml", "-passes.yaml"} {
			if _, err := os.Stat(filepath.Join("testdata", "checks", id+suffix)); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	}
}

// docs/checks.md describes every check under its ID, name and severity,
// and the SARIF helpUri anchors exist.
func TestDocsDescribeEveryCheck(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "checks.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, c := range Catalogue() {
		head := "**" + c.ID + " " + c.Name + "** (" + c.Severity.String()
		if !strings.Contains(doc, head) {
			t.Errorf("docs/checks.md lacks %q", head)
		}
		if !strings.Contains(doc, `<a id="`+strings.ToLower(c.ID)+`"></a>`) {
			t.Errorf("docs/checks.md lacks the anchor for %s", c.ID)
		}
	}
}
