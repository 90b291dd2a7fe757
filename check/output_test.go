package check

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/apimachinery/pkg/util/version"
)

// flawedReport runs every check over the fixtures that fire, so the
// outputs carry every kind of finding.
func flawedReport(t *testing.T) *Report {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "checks", "PS*-fires.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixtures: %v", err)
	}
	s, err := ReadPaths(files[:4], nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	more, err := ReadPaths([]string{filepath.Join("testdata", "checks", "PS305-fires.yaml")}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	s.DestinationRules = append(s.DestinationRules, more.DestinationRules...)
	s.Env.K8sVersion, s.Env.IstioVersion = version.MustParseGeneric("1.30"), version.MustParseGeneric("1.24")
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) < 5 {
		t.Fatalf("only %d findings", len(r.Findings))
	}
	return r
}

func TestSARIFValidatesAgainstTheSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile(filepath.Join("testdata", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Report{"findings": flawedReport(t), "none": cleanReport(t)} {
		var buf bytes.Buffer
		if err := WriteSARIF(&buf, r, "test"); err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s: SARIF output is not valid SARIF 2.1.0: %v", name, err)
		}
		// The validator does reject what the schema forbids.
		if bad := bytes.Replace(buf.Bytes(), []byte(`"version": "2.1.0"`), []byte(`"version": "2.0.0"`), 1); !bytes.Equal(bad, buf.Bytes()) {
			badInst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
			if sch.Validate(badInst) == nil {
				t.Errorf("%s: a SARIF 2.0.0 log passed the 2.1.0 schema", name)
			}
		}
		var log struct {
			Version string `json:"version"`
			Runs    []struct {
				Tool struct {
					Driver struct {
						Rules []struct {
							ID string `json:"id"`
						} `json:"rules"`
					} `json:"driver"`
				} `json:"tool"`
				Results []struct {
					RuleID    string `json:"ruleId"`
					Level     string `json:"level"`
					Locations []struct {
						Physical *struct {
							Artifact struct {
								URI string `json:"uri"`
							} `json:"artifactLocation"`
							Region struct {
								StartLine int `json:"startLine"`
							} `json:"region"`
						} `json:"physicalLocation"`
					} `json:"locations"`
				} `json:"results"`
			} `json:"runs"`
		}
		if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
			t.Fatal(err)
		}
		if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) != len(r.Findings) || len(log.Runs[0].Tool.Driver.Rules) != len(r.Checks) {
			t.Fatalf("%s: version %s, %d runs, results/findings and rules/checks mismatch", name, log.Version, len(log.Runs))
		}
		for i, res := range log.Runs[0].Results {
			f := r.Findings[i]
			if res.RuleID != f.Check || res.Level != f.Severity.SARIFLevel() {
				t.Errorf("result %d: %s %s, want %s %s", i, res.RuleID, res.Level, f.Check, f.Severity.SARIFLevel())
			}
			if f.Origin != nil && f.Origin.File != "" {
				p := res.Locations[0].Physical
				if p == nil || p.Artifact.URI != filepath.ToSlash(f.Origin.File) || p.Region.StartLine != f.Origin.Line {
					t.Errorf("result %d: location %+v, want %s:%d", i, p, f.Origin.File, f.Origin.Line)
				}
			}
		}
	}
}

func cleanReport(t *testing.T) *Report {
	t.Helper()
	s, err := ReadPaths([]string{filepath.Join("testdata", "clean")}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCleanManifestSetHasNoFindings(t *testing.T) {
	for _, env := range []struct{ k8s, istio string }{{"", ""}, {"1.33", "1.28"}, {"1.28", "1.26"}} {
		s, err := ReadPaths([]string{filepath.Join("testdata", "clean")}, nil, "default")
		if err != nil {
			t.Fatal(err)
		}
		if env.k8s != "" {
			s.Env.K8sVersion, s.Env.IstioVersion = version.MustParseGeneric(env.k8s), version.MustParseGeneric(env.istio)
		}
		r, err := Run(s, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			t.Errorf("k8s %q istio %q: %s %s: %s", env.k8s, env.istio, f.Check, f.Object, f.Message)
		}
		if got := r.Objects["Deployment"]; got != 2 {
			t.Errorf("%d deployments read, want 2", got)
		}
	}
}

func TestFixesMergeOneWorkloadsPatches(t *testing.T) {
	s, err := ReadPaths([]string{filepath.Join("testdata", "checks", "PS102-fires.yaml")}, nil, "default")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Run(s, Options{Only: []string{"PS101", "PS102", "PS104"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Findings) != 2 { // PS101 passes: the fixture holds the app already
		t.Fatalf("%d findings, want PS102 and PS104", len(r.Findings))
	}
	var buf bytes.Buffer
	if err := WriteFixes(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "\n---\n"); n != 0 {
		t.Errorf("the two patches of one Deployment should be one document:\n%s", out)
	}
	// The ProxyConfig annotation is one string: both fixes and the field the
	// workload had must all be in it.
	for _, want := range []string{"holdApplicationUntilProxyStarts: true", "terminationDrainDuration: 30s", `EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"`, "MINIMUM_DRAIN_DURATION: 20s", "kubectl patch deployment web -n shop"} {
		if !strings.Contains(out, want) {
			t.Errorf("fixes lack %q:\n%s", want, out)
		}
	}
}

func TestTableGroupsByWorkload(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteTable(&buf, flawedReport(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"\nDeployment shop/web\n", "\nNamespace shop\n", "  error    PS102  ", "fix: "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\nDeployment shop/web\n") != 1 {
		t.Errorf("the workload's findings are not grouped under one heading:\n%s", out)
	}
}

func TestReportJSONFields(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, flawedReport(t)); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	f := r["findings"].([]any)[0].(map[string]any)
	for _, k := range []string{"check", "name", "severity", "object", "workload", "message", "breaks", "fix", "sources"} {
		if _, ok := f[k]; !ok {
			t.Errorf("finding lacks %q: %v", k, f)
		}
	}
	if _, err := os.Stat(filepath.Join("testdata", "sarif-schema-2.1.0.README.md")); err != nil {
		t.Error("the schema's provenance note is missing")
	}
}
