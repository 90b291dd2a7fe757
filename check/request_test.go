package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
)

func fixture(name string) string { return filepath.Join("testdata", "checks", name) }

// A request over manifests: the versions given replace the unknown ones
// and say where they came from, the workload arguments keep their
// findings, and the failing severity counts what fails.
func TestRequestOverManifests(t *testing.T) {
	r := DefaultRequest()
	r.Files, r.K8sVersion, r.FailOn, r.Names = []string{fixture("PS102-fires.yaml")}, "v1.29.3", "error", input.Names{FieldK8sVersion: "--k8s-version"}
	job, err := r.Check()
	if err != nil {
		t.Fatal(err)
	}
	if job.Live() {
		t.Fatal("a request with manifests reads no cluster")
	}
	rep, err := job.Report(context.Background(), Sources{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Environment.Kubernetes != "1.29.3" || rep.Environment.KubernetesSource != "--k8s-version" {
		t.Errorf("environment %+v, want 1.29.3 from --k8s-version", rep.Environment)
	}
	errs := 0
	for _, f := range rep.Findings {
		if f.Severity == Error {
			errs++
		}
	}
	if errs == 0 || job.Failing(rep) != errs {
		t.Errorf("%d error findings, Failing %d: want them all, and some", errs, job.Failing(rep))
	}
	r.FailOn = ""
	if job, _ = r.Check(); job.Failing(rep) != 0 {
		t.Error("without a failing severity nothing fails")
	}

	// The workloads asked for keep theirs alone, in the namespace given.
	r = DefaultRequest()
	r.Files, r.Namespace, r.Workloads = []string{fixture("PS301-fires.yaml")}, "shop", []string{"deploy/web"}
	job, err = r.Check()
	if err != nil {
		t.Fatal(err)
	}
	if rep, err = job.Report(context.Background(), Sources{}); err != nil || len(rep.Findings) == 0 {
		t.Fatalf("report %v, %v", rep, err)
	}
	for _, f := range rep.Findings {
		if f.Workload != "Deployment shop/web" {
			t.Errorf("finding %s of %s kept for deploy/web", f.Check, f.Workload)
		}
	}
	if job, err := DefaultRequest().Check(); err != nil || !job.Live() {
		t.Errorf("a request without manifests reads the cluster: %v", err)
	}
}

func TestRequestProblemsNameTheirFields(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replicas: many}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	names := input.Names{FieldFiles: "-f", prom.FieldURL: "--prometheus-url", FieldTelemetryWindow: "--telemetry-window"}
	with := func(edit func(*Request)) Request {
		r := DefaultRequest()
		r.Files, r.Names, r.Given = []string{fixture("PS101-fires.yaml")}, names, map[input.Field]bool{}
		edit(&r)
		return r
	}
	for _, tt := range []struct {
		name string
		r    Request
		want string
	}{
		{"fail on notice", with(func(r *Request) { r.FailOn = "notice" }), `failing severity: expected warning or error, got "notice"`},
		{"a version of new", with(func(r *Request) { r.IstioVersion = "new" }), `Istio version: expected a version such as 1.30, got "new"`},
		{"an unknown check", with(func(r *Request) { r.Skip = []string{"PS999"} }), `checks to skip: unknown check "PS999": expected IDs from PS101`},
		{"every namespace of manifests", with(func(r *Request) { r.AllNamespaces = true }), "all namespaces: checks a cluster: it cannot be combined with -f"},
		{"telemetry of manifests", with(func(r *Request) { r.Prometheus.URL = "http://p:9090" }), "--prometheus-url: reads a live cluster's telemetry: it cannot be combined with -f"},
		{"a window without Prometheus", with(func(r *Request) { r.Files, r.Given[FieldTelemetryWindow] = nil, true }), "--telemetry-window: needs --prometheus-url"},
		{"a window of 0s", with(func(r *Request) { r.TelemetryWindow = "0s" }), `--telemetry-window: expected a duration > 0 such as 7d, got "0s"`},
		{"a bad Istio namespace", with(func(r *Request) { r.IstioNamespace = "Istio" }), "Istio namespace: expected a namespace name"},
		{"a missing mesh config", with(func(r *Request) { r.MeshConfig = bad + ".none" }), "mesh configuration: expected a readable file"},
		{"a missing file", with(func(r *Request) { r.Files = []string{"nope.yaml"} }), `-f: expected a readable file or directory, got "nope.yaml"`},
		{"stdin twice", with(func(r *Request) { r.Files = []string{StdinName, StdinName} }), "-f: stdin (-) can be given once"},
		{"a bare workload", with(func(r *Request) { r.Workloads = []string{"web"} }), `workloads: expected deployment/NAME or statefulset/NAME, got "web"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.r.Check()
			var in *input.Error
			if !errors.As(err, &in) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want an input error starting %q", err, tt.want)
			}
		})
	}
	// What only reading shows: an undecodable manifest, a file that is no
	// mesh configuration.
	for _, r := range []Request{with(func(r *Request) { r.Files = []string{bad} }), with(func(r *Request) { r.MeshConfig = bad })} {
		job, err := r.Check()
		if err != nil {
			t.Fatal(err)
		}
		_, err = job.Report(context.Background(), Sources{})
		var in *input.Error
		if !errors.As(err, &in) || !(in.Field == FieldFiles || in.Field == FieldMeshConfig) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("reading %v: got %v, want an input error naming the file", r, err)
		}
	}
	if DefaultRequest().IstioNamespace != cluster.DefaultMeshNamespace {
		t.Error("the default Istio namespace is not the mesh's")
	}
}
