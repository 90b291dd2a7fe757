package capacity

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// File is one file of the patch directory: its path inside it, and its
// content.
type File struct {
	Path    string
	Content []byte
}

// Patches are the changes the plan recommends, one file per object, for a
// review in a GitOps repository: per sized workload a strategic-merge patch
// of its pod template's sidecar annotations (NAMESPACE/KIND-NAME.yaml), the
// HPA change where its target moves (NAMESPACE/hpa-NAME.yaml), and, where a
// Sidecar scoped to the destinations it called would save memory, that
// Sidecar as a suggestion (NAMESPACE/sidecar-NAME.yaml). Each file says in
// comments why, and how to apply it.
func Patches(f *Fleet, r *Report) ([]File, error) {
	byID := map[string]*Workload{}
	for i := range f.Workloads {
		w := &f.Workloads[i]
		byID[string(w.Kind)+"/"+w.Namespace+"/"+w.Name] = w
	}
	var out []File
	for _, wr := range r.Workloads {
		rec := wr.Recommendation
		w := byID[wr.Kind+"/"+wr.Namespace+"/"+wr.Name]
		if rec == nil || w == nil {
			continue
		}
		p, err := templatePatch(w, wr, r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", wr.ID(), err)
		}
		out = append(out, p)
		if h, ok, err := hpaPatch(w, wr); err != nil {
			return nil, fmt.Errorf("%s: %w", wr.ID(), err)
		} else if ok {
			out = append(out, h)
		}
		if s, ok := sidecarSuggestion(w, wr); ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// managedAnnotations are the annotations a recommendation sets or removes.
var managedAnnotations = []string{sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit,
	sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit, sizing.AnnotationProxyConfig}

// templatePatch sets the recommendation's annotations on the pod template,
// computed by the Kubernetes patch library from the template as it is, so
// that it removes a CPU-limit annotation the plan drops and keeps the other
// fields of proxy.istio.io/config.
func templatePatch(w *Workload, wr WorkloadReport, r *Report) (File, error) {
	rec := wr.Recommendation
	modified := maps.Clone(w.Annotations)
	if modified == nil {
		modified = map[string]string{}
	}
	for _, k := range managedAnnotations {
		delete(modified, k)
	}
	maps.Copy(modified, rec.Annotations)
	var notes []string
	if old, ok := w.Annotations[sizing.AnnotationProxyConfig]; ok {
		merged, err := cluster.MergeConcurrency(old, rec.Concurrency)
		if err != nil {
			notes = append(notes, fmt.Sprintf("the current %s is not a ProxyConfig document (%v): replaced with the concurrency alone", sizing.AnnotationProxyConfig, err))
		} else {
			modified[sizing.AnnotationProxyConfig] = merged
		}
	}
	var before, after runtime.Object
	switch w.Kind {
	case cluster.KindStatefulSet:
		b, a := &appsv1.StatefulSet{}, &appsv1.StatefulSet{}
		b.Spec.Template.Annotations, a.Spec.Template.Annotations = w.Annotations, modified
		before, after = b, a
	default:
		b, a := &appsv1.Deployment{}, &appsv1.Deployment{}
		b.Spec.Template.Annotations, a.Spec.Template.Annotations = w.Annotations, modified
		before, after = b, a
	}
	patch, err := twoWayPatch(before, after)
	if err != nil {
		return File{}, err
	}
	kind := kindWord(string(w.Kind))
	file := path.Join(w.Namespace, kind+"-"+w.Name+".yaml")
	var h strings.Builder
	fmt.Fprintf(&h, "# %s: the sidecar's resources and concurrency from proxysizer capacity\n", wr.ID())
	fmt.Fprintf(&h, "# (telemetry %s ending %s; peak = %s; profile %s).\n", r.Telemetry.Window, r.Telemetry.At.UTC().Format("2006-01-02T15:04:05Z"), r.Telemetry.PeakRule, r.Profile.Name)
	fmt.Fprintf(&h, "#   kubectl patch %s %s -n %s --type strategic --patch-file %s\n", kind, w.Name, w.Namespace, file)
	for _, line := range []string{
		"concurrency: " + rec.ConcurrencyReason,
		"cpu request: " + rec.Reasons.CPURequest,
		"cpu limit: " + rec.Reasons.CPULimit,
		"memory request: " + rec.Reasons.MemoryRequest,
		"memory limit: " + rec.Reasons.MemoryLimit,
	} {
		fmt.Fprintf(&h, "# %s\n", line)
	}
	for _, n := range append(notes, rec.Warnings...) {
		fmt.Fprintf(&h, "# warning: %s\n", n)
	}
	return File{Path: file, Content: append([]byte(h.String()), patch...)}, nil
}

// hpaPatch replaces the HPA's CPU metric with the recommended one. The
// metrics list has no merge key, so a strategic-merge patch replaces it
// whole: the patch carries the HPA's other metrics unchanged.
func hpaPatch(w *Workload, wr WorkloadReport) (File, bool, error) {
	rec := wr.Recommendation
	h := w.HPA
	if rec.HPA == nil || h == nil || h.Object == nil || h.CPUMetric < 0 || h.CPUMetric >= len(h.Object.Spec.Metrics) {
		return File{}, false, nil
	}
	before := h.Object.DeepCopy()
	after := h.Object.DeepCopy()
	after.Spec.Metrics[h.CPUMetric] = rec.HPA.Metric
	patch, err := twoWayPatch(&autoscalingv2.HorizontalPodAutoscaler{Spec: before.Spec}, &autoscalingv2.HorizontalPodAutoscaler{Spec: after.Spec})
	if err != nil {
		return File{}, false, err
	}
	file := path.Join(w.Namespace, "hpa-"+h.Name+".yaml")
	var b strings.Builder
	fmt.Fprintf(&b, "# HorizontalPodAutoscaler %s/%s (scales %s) with the recommended sidecar in its pods:\n", w.Namespace, h.Name, wr.ID())
	fmt.Fprintf(&b, "#   kubectl patch hpa %s -n %s --type strategic --patch-file %s\n", h.Name, w.Namespace, file)
	fmt.Fprintf(&b, "# %s\n", rec.HPA.MetricReason)
	if rec.HPA.Metric.Type == autoscalingv2.ResourceMetricSourceType {
		fmt.Fprintf(&b, "# %s\n", rec.HPA.ManifestTargetReason)
	}
	return File{Path: file, Content: append([]byte(b.String()), patch...)}, true, nil
}

func twoWayPatch(before, after runtime.Object) ([]byte, error) {
	b, err := json.Marshal(before)
	if err != nil {
		return nil, err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateTwoWayMergePatch(b, a, before)
	if err != nil {
		return nil, fmt.Errorf("building the patch: %w", err)
	}
	return yaml.JSONToYAML(patch)
}

// sidecarSuggestion is a Sidecar resource selecting the workload's pods
// whose egress hosts are the services it called and the root namespace.
func sidecarSuggestion(w *Workload, wr WorkloadReport) (File, bool) {
	c := wr.Config
	if c.MemorySavedBytes <= 0 || len(w.SelectorLabels) == 0 || len(c.ScopedHosts) == 0 {
		return File{}, false
	}
	labels := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(w.SelectorLabels)) {
		labels[k] = w.SelectorLabels[k]
	}
	hosts := make([]any, len(c.ScopedHosts))
	for i, h := range c.ScopedHosts {
		hosts[i] = h
	}
	obj := map[string]any{
		"apiVersion": "networking.istio.io/v1",
		"kind":       "Sidecar",
		"metadata":   map[string]any{"name": w.Name, "namespace": w.Namespace},
		"spec": map[string]any{
			"workloadSelector": map[string]any{"labels": labels},
			"egress":           []any{map[string]any{"hosts": hosts}},
		},
	}
	data, err := yaml.Marshal(obj)
	if err != nil {
		return File{}, false
	}
	file := path.Join(w.Namespace, "sidecar-"+w.Name+".yaml")
	var b strings.Builder
	fmt.Fprintf(&b, "# A suggestion, not a patch: a Sidecar scoping %s to the %d service(s) it called in the window and the root namespace.\n", wr.ID(), len(wr.Load.Destinations))
	fmt.Fprintf(&b, "# Its proxy would hold %d clusters and %d endpoints instead of %d and %d (%s), saving about %.1f MiB per pod, %.1f MiB over %d replicas.\n",
		c.ScopedClusters, c.ScopedEndpoints, c.Clusters, c.Endpoints, c.Source, c.MemorySavedPerPodBytes/(1<<20), c.MemorySavedBytes/(1<<20), wr.Load.Replicas)
	b.WriteString("# Review it first: a destination called less often than the window (a monthly job, a failover) is missing, and a missing host's requests go to the PassthroughCluster or fail.\n")
	fmt.Fprintf(&b, "#   kubectl apply -f %s\n", file)
	return File{Path: file, Content: append([]byte(b.String()), data...)}, true
}

// Names of the report directory's files.
const (
	HTMLFile     = "report.html"
	MarkdownFile = "report.md"
	JSONFile     = "report.json"
	CSVFile      = "workloads.csv"
	PatchesDir   = "patches"
)

// Files are the report directory's files but report.html: report.json,
// workloads.csv, report.md and the patches under patches/.
func Files(f *Fleet, r *Report) ([]File, error) {
	var js, csvb, md bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		return nil, err
	}
	if err := WriteCSV(&csvb, r); err != nil {
		return nil, err
	}
	if err := WriteMarkdown(&md, r); err != nil {
		return nil, err
	}
	out := []File{{JSONFile, js.Bytes()}, {CSVFile, csvb.Bytes()}, {MarkdownFile, md.Bytes()}}
	patches, err := Patches(f, r)
	if err != nil {
		return nil, err
	}
	for _, p := range patches {
		out = append(out, File{Path: path.Join(PatchesDir, p.Path), Content: p.Content})
	}
	return out, nil
}

// OutputFiles and OutputDirs are every name WriteFiles replaces in its
// directory.
var (
	OutputFiles = []string{HTMLFile, MarkdownFile, JSONFile, CSVFile}
	OutputDirs  = []string{PatchesDir}
)

// CheckOutputDir says, before any work, whether WriteFiles may write into
// dir: a new or empty directory, or one of ours (results.CheckOutputDir).
func CheckOutputDir(dir string) error { return results.CheckOutputDir(dir, OutputFiles, OutputDirs) }

// WriteFiles writes the files into dir, all or none (results.Stage): the
// patches go into a fresh directory that replaces patches/ whole, so that
// no patch of an earlier run is left beside this run's. It refuses a
// directory of files proxysizer did not write. It returns the paths
// written (patches/ as one).
func WriteFiles(dir string, files []File) ([]string, error) {
	st, err := results.NewStage(dir, OutputFiles, OutputDirs)
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	if err := os.Mkdir(filepath.Join(st.Dir(), PatchesDir), 0o755); err != nil {
		return nil, err
	}
	var written, names []string
	patches := 0
	for _, f := range files {
		if err := results.WriteFileAtomic(filepath.Join(st.Dir(), filepath.FromSlash(f.Path)), f.Content); err != nil {
			return nil, err
		}
		if strings.HasPrefix(f.Path, PatchesDir+"/") {
			patches++
			continue
		}
		names = append(names, f.Path)
		written = append(written, filepath.Join(dir, filepath.FromSlash(f.Path)))
	}
	if err := st.Commit(append(names, PatchesDir)); err != nil {
		return nil, err
	}
	return append(written, fmt.Sprintf("%s/ (%d files)", filepath.Join(dir, PatchesDir), patches)), nil
}
