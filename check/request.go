package check

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
)

// The inputs of a run beside Prometheus' (prom.Field*) and Istio's
// namespace (cluster.FieldIstioNamespace), as its problems
// name them; a caller shows them in its own words through Request.Names.
const (
	FieldFiles           input.Field = "manifests"
	FieldMeshConfig      input.Field = "mesh configuration"
	FieldK8sVersion      input.Field = "Kubernetes version"
	FieldIstioVersion    input.Field = "Istio version"
	FieldFailOn          input.Field = "failing severity"
	FieldOnly            input.Field = "checks to run"
	FieldSkip            input.Field = "checks to skip"
	FieldAllNamespaces   input.Field = "all namespaces"
	FieldTelemetryWindow input.Field = "telemetry window"
	FieldWorkloads       input.Field = "workloads"
)

// Request is a run as a person asks for it: manifests (paths, StdinName
// for stdin) or, without them, a live cluster (one namespace, or all)
// with an optional Prometheus; the mesh configuration's file; versions
// and durations as text; the checks to run or skip; the workloads
// (KIND/NAME) to keep; the severity from which findings fail the run; and
// which fields were given at all. Check checks it.
type Request struct {
	Files                    []string
	MeshConfig               string
	K8sVersion, IstioVersion string
	FailOn                   string // "": never
	Only, Skip               []string
	Workloads                []string
	// Namespace is where manifests without one, and the workloads, are
	// (live: the cluster's namespace to check; "": the caller's default).
	Namespace       string
	AllNamespaces   bool
	IstioNamespace  string
	Prometheus      prom.Config
	TelemetryWindow string

	Given map[input.Field]bool
	Names input.Names
}

// DefaultRequest holds every default of a run: Istio's root namespace,
// and a week of traffic for what a workload calls (PS402).
func DefaultRequest() Request {
	return Request{IstioNamespace: cluster.DefaultMeshNamespace, Prometheus: prom.DefaultConfig(), TelemetryWindow: "7d"}
}

// Job is a checked request, ready to read its objects and job.
type Job struct {
	req       Request
	opts      Options
	failOn    Severity
	versions  map[input.Field]*version.Version
	window    time.Duration
	workloads []workloadArg
}

// workloadArg is one KIND/NAME of Request.Workloads.
type workloadArg struct{ kind, name string }

var workloadKinds = map[string]string{"deployment": "Deployment", "deploy": "Deployment", "statefulset": "StatefulSet", "sts": "StatefulSet"}

// Check checks the request's form (files exist, versions and durations
// parse, checks are known); it reads nothing. Each problem is an
// *input.Error naming its field.
func (r Request) Check() (*Job, error) {
	job := &Job{req: r, opts: Options{Only: r.Only, Skip: r.Skip}, versions: map[input.Field]*version.Version{}}
	for _, step := range []func(*Job) error{r.selection, r.live, r.paths, r.workloadArgs} {
		if err := step(job); err != nil {
			return nil, err
		}
	}
	return job, nil
}

// selection checks what to run and report: the severity, the versions,
// the checks.
func (r Request) selection(job *Job) error {
	n := r.Names
	if r.FailOn != "" {
		if !(r.FailOn == Warning.String() || r.FailOn == Error.String()) {
			return n.Errorf(FieldFailOn, "expected warning or error, got %q", r.FailOn)
		}
		job.failOn, _ = ParseSeverity(r.FailOn)
	}
	for f, v := range map[input.Field]string{FieldK8sVersion: r.K8sVersion, FieldIstioVersion: r.IstioVersion} {
		if v == "" {
			continue
		}
		parsed, err := version.ParseGeneric(strings.TrimPrefix(v, "v"))
		if err != nil {
			return n.Errorf(f, "expected a version such as 1.30, got %q", v)
		}
		job.versions[f] = parsed
	}
	for f, ids := range map[input.Field][]string{FieldOnly: r.Only, FieldSkip: r.Skip} {
		for _, id := range ids {
			if _, ok := Lookup(id); !ok {
				return n.Errorf(f, "unknown check %q: expected IDs from %s", id, strings.Join(IDs(), ", "))
			}
		}
	}
	return nil
}

// live checks what only a live cluster reads: every namespace, Istio's
// namespace, Prometheus and its window.
func (r Request) live(job *Job) error {
	n := r.Names
	manifests := len(r.Files) > 0
	if manifests && r.AllNamespaces {
		return n.Errorf(FieldAllNamespaces, "checks a cluster: it cannot be combined with %s", FieldFiles)
	}
	if err := r.Prometheus.Check(r.Given, n); err != nil {
		return err
	}
	if r.Prometheus.URL != "" && manifests {
		return n.Errorf(prom.FieldURL, "reads a live cluster's telemetry: it cannot be combined with %s", FieldFiles)
	}
	w, err := model.ParseDuration(r.TelemetryWindow)
	switch {
	case err != nil || w <= 0:
		return n.Errorf(FieldTelemetryWindow, "expected a duration > 0 such as 7d, got %q", r.TelemetryWindow)
	case r.Prometheus.URL == "" && r.Given[FieldTelemetryWindow]:
		return n.Errorf(FieldTelemetryWindow, "needs %s", prom.FieldURL)
	}
	job.window = time.Duration(w)
	return cluster.CheckMeshNames(r.IstioNamespace, "", n)
}

// paths checks that the mesh configuration and the manifests can be read.
func (r Request) paths(*Job) error {
	n := r.Names
	if r.MeshConfig != "" {
		if st, err := os.Stat(r.MeshConfig); err != nil || st.IsDir() {
			return n.Errorf(FieldMeshConfig, "expected a readable file, got %q", r.MeshConfig)
		}
	}
	stdin := 0
	for _, p := range r.Files {
		if p == StdinName {
			stdin++
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return n.Errorf(FieldFiles, "expected a readable file or directory, got %q", p)
		}
	}
	if stdin > 1 {
		return n.Errorf(FieldFiles, "stdin (%s) can be given once", StdinName)
	}
	return nil
}

func (r Request) workloadArgs(job *Job) error {
	for _, a := range r.Workloads {
		kind, name, ok := strings.Cut(a, "/")
		k, known := workloadKinds[strings.ToLower(kind)]
		if !ok || !known || len(validation.IsDNS1123Subdomain(name)) > 0 {
			return r.Names.Errorf(FieldWorkloads, "expected deployment/NAME or statefulset/NAME, got %q", a)
		}
		job.workloads = append(job.workloads, workloadArg{k, name})
	}
	return nil
}

// Live says whether the run reads a cluster (no manifests given).
func (job *Job) Live() bool { return len(job.req.Files) == 0 }

// Sources are what a run reads besides its files: stdin (for StdinName),
// and for a live run the cluster's clients and their namespace.
type Sources struct {
	Stdin     io.Reader
	Kube      kubernetes.Interface
	Dynamic   dynamic.Interface
	Namespace string
}

// Report reads the objects (the manifests, or the cluster and Prometheus)
// and runs the checks over them.
func (job *Job) Report(ctx context.Context, src Sources) (*Report, error) {
	set, ns, err := job.load(ctx, src)
	if err != nil {
		return nil, err
	}
	opts := job.opts
	for _, w := range job.workloads {
		opts.Workloads = append(opts.Workloads, w.kind+" "+ns+"/"+w.name)
	}
	return Run(set, opts)
}

// Failing is how many of the report's findings fail the run (0 without a
// failing severity).
func (job *Job) Failing(r *Report) int {
	if job.req.FailOn == "" {
		return 0
	}
	return r.Failing(job.failOn)
}

// load reads the set, from the manifests or the cluster, and says which
// namespace the workloads are in.
func (job *Job) load(ctx context.Context, src Sources) (*Set, string, error) {
	r, n := job.req, job.req.Names
	var mesh *Mesh
	if r.MeshConfig != "" {
		data, err := safefile.ReadStream(r.MeshConfig, safefile.MaxManifest)
		if err != nil {
			return nil, "", n.Errorf(FieldMeshConfig, "%v", err)
		}
		if mesh, err = ParseMesh(data, r.MeshConfig); err != nil {
			return nil, "", n.Errorf(FieldMeshConfig, "%v", err)
		}
	}
	set, ns, err := job.read(ctx, src, mesh)
	if err != nil {
		return nil, "", err
	}
	if v := job.versions[FieldK8sVersion]; v != nil {
		set.Env.K8sVersion, set.Env.K8sSource = v, n.Of(FieldK8sVersion)
	}
	if v := job.versions[FieldIstioVersion]; v != nil {
		set.Env.IstioVersion, set.Env.IstioSource = v, n.Of(FieldIstioVersion)
	}
	return set, ns, nil
}

func (job *Job) read(ctx context.Context, src Sources, mesh *Mesh) (*Set, string, error) {
	r, n := job.req, job.req.Names
	if !job.Live() {
		ns := r.Namespace
		if ns == "" {
			ns = "default"
		}
		set, err := ReadPaths(r.Files, src.Stdin, ns)
		if err != nil {
			return nil, "", n.Errorf(FieldFiles, "%v", err)
		}
		if mesh != nil {
			set.Mesh = mesh
		}
		if set.Mesh != nil && set.Mesh.IstioVersion != nil {
			set.Env.IstioVersion, set.Env.IstioSource = set.Mesh.IstioVersion, "the mesh configuration's tag"
		}
		return set, ns, nil
	}
	scope := LiveScope{IstioNamespace: r.IstioNamespace, Mesh: mesh, AllNamespaces: r.AllNamespaces}
	if !r.AllNamespaces {
		scope.Namespaces = []string{src.Namespace}
	}
	if r.Prometheus.URL != "" {
		pc, err := r.Prometheus.Connect(n)
		if err != nil {
			return nil, "", err
		}
		// one query: the services every workload of the namespaces (nil:
		// all) called over the window
		if scope.Telemetry, err = pc.Destinations(ctx, scope.Namespaces, job.window, time.Now()); err != nil {
			return nil, "", err
		}
	}
	set, err := LoadCluster(ctx, src.Kube, src.Dynamic, scope)
	return set, src.Namespace, err
}
