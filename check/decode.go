package check

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	autoscalingv2beta2 "k8s.io/api/autoscaling/v2beta2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// StdinName is the path that means standard input, as kubectl's -f -.
const StdinName = "-"

// document is one YAML document of a file and the line it starts on.
type document struct {
	body     []byte
	line     int
	template string // Helm's "# Source: chart/templates/x.yaml"
}

// splitDocuments cuts a multi-document YAML stream at its "---" lines,
// keeping each document's first line number. Documents holding only
// comments or blanks are dropped.
func splitDocuments(data []byte) []document {
	var docs []document
	cur := document{line: 1}
	var body bytes.Buffer
	content := false
	flush := func() {
		if content {
			cur.body = slices.Clone(body.Bytes())
			docs = append(docs, cur)
		}
		body.Reset()
		content = false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if line == "---" || strings.HasPrefix(line, "--- ") || strings.HasPrefix(line, "---\t") {
			flush()
			cur = document{line: n + 1}
			continue
		}
		if t, ok := strings.CutPrefix(trimmed, "# Source: "); ok && cur.template == "" {
			cur.template = strings.TrimSpace(t)
		}
		if !content && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			cur.line = n + 1
			body.WriteString(line + "\n")
			continue
		}
		content = true
		body.WriteString(line + "\n")
	}
	flush()
	return docs
}

// ReadPaths reads manifests from files, directories (every .yaml, .yml and
// .json below them, in name order) and "-" for stdin, into a set. Objects
// without a namespace get defaultNamespace, as kubectl apply -n does.
func ReadPaths(paths []string, stdin io.Reader, defaultNamespace string) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		if p == StdinName {
			data, err := safefile.Read(stdin, "stdin", safefile.MaxManifest)
			if err != nil {
				return nil, fmt.Errorf("reading %w", err)
			}
			if err := s.ReadManifests(data, "stdin", defaultNamespace); err != nil {
				return nil, err
			}
			continue
		}
		files, err := manifestFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := safefile.ReadStream(f, safefile.MaxManifest)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, unwrap(err))
			}
			if err := s.ReadManifests(data, f, defaultNamespace); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func manifestFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				out = append(out, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files in the directory", p)
	}
	slices.Sort(out)
	return out, nil
}

// ReadManifests adds the objects of one multi-document YAML (or JSON)
// stream. name is the file for messages and SARIF locations ("stdin" for
// standard input).
func (s *Set) ReadManifests(data []byte, name, defaultNamespace string) error {
	s.Inputs = append(s.Inputs, name)
	for _, d := range splitDocuments(data) {
		js, err := yaml.YAMLToJSON(d.body)
		if err != nil {
			return fmt.Errorf("%s line %d: not YAML: %v", name, d.line, err)
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue
		}
		o := Origin{Template: d.template, Line: d.line}
		if name != "stdin" {
			o.File = name
		}
		if err := s.addDocument(js, o, defaultNamespace); err != nil {
			return fmt.Errorf("%s line %d: %w", name, d.line, err)
		}
	}
	return nil
}

func (s *Set) addDocument(js []byte, o Origin, defaultNamespace string) error {
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(js); err != nil {
		return fmt.Errorf("not a Kubernetes object (apiVersion and kind): %v", err)
	}
	if u.IsList() {
		list, err := u.ToList()
		if err != nil {
			return err
		}
		for i := range list.Items {
			item, err := list.Items[i].MarshalJSON()
			if err != nil {
				return err
			}
			if err := s.addDocument(item, o, defaultNamespace); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	}
	gvk := u.GroupVersionKind()
	if gvk.Group == "networking.istio.io" && istioKinds[gvk.Kind] {
		if u.GetNamespace() == "" {
			u.SetNamespace(defaultNamespace)
		}
		return s.AddIstio(&u, o)
	}
	if gvk.Group == "install.istio.io" && gvk.Kind == "IstioOperator" {
		return s.addMeshDocument(js, "IstioOperator "+u.GetName())
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(js, nil, nil)
	if runtime.IsNotRegisteredError(err) {
		s.Skipped++
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s %s: %v", gvk.Kind, u.GetName(), err)
	}
	return s.AddObject(obj, o, defaultNamespace)
}

// AddObject adds a typed Kubernetes object; kinds no check reads are
// counted as skipped.
func (s *Set) AddObject(obj runtime.Object, o Origin, defaultNamespace string) error {
	meta := func(m *metav1.ObjectMeta, kind string) {
		if m.Namespace == "" && kind != "Namespace" {
			m.Namespace = defaultNamespace
		}
		s.setOrigin(Ref{Kind: kind, Namespace: m.Namespace, Name: m.Name}, o)
	}
	switch v := obj.(type) {
	case *appsv1.Deployment:
		meta(&v.ObjectMeta, "Deployment")
		s.Deployments = append(s.Deployments, v)
	case *appsv1.StatefulSet:
		meta(&v.ObjectMeta, "StatefulSet")
		s.StatefulSets = append(s.StatefulSets, v)
	case *corev1.Service:
		meta(&v.ObjectMeta, "Service")
		s.Services = append(s.Services, v)
	case *corev1.Namespace:
		meta(&v.ObjectMeta, "Namespace")
		s.Namespaces = append(s.Namespaces, v)
	case *corev1.Pod:
		meta(&v.ObjectMeta, "Pod")
		s.Pods = append(s.Pods, v)
	case *autoscalingv2.HorizontalPodAutoscaler:
		meta(&v.ObjectMeta, "HorizontalPodAutoscaler")
		s.HPAs = append(s.HPAs, v)
	case *autoscalingv2beta2.HorizontalPodAutoscaler:
		h, err := hpaFromV2beta2(v)
		if err != nil {
			return err
		}
		return s.AddObject(h, o, defaultNamespace)
	case *autoscalingv1.HorizontalPodAutoscaler:
		return s.AddObject(hpaFromV1(v), o, defaultNamespace)
	case *corev1.ConfigMap:
		switch v.Name {
		case "istio", "istio-sidecar-injector":
			data, err := json.Marshal(v)
			if err != nil {
				return err
			}
			return s.addMeshDocument(data, "ConfigMap "+v.Namespace+"/"+v.Name)
		}
		s.Skipped++
	default:
		s.Skipped++
	}
	return nil
}

// addMeshDocument merges Istio's own configuration found among the
// manifests (the istio ConfigMap, an IstioOperator) into the set's mesh.
func (s *Set) addMeshDocument(js []byte, what string) error {
	if s.Mesh == nil {
		s.Mesh = DefaultMesh()
		s.Mesh.Source = ""
	}
	var top map[string]any
	if err := json.Unmarshal(js, &top); err != nil {
		return err
	}
	if err := s.Mesh.apply(top); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.Mesh.Source = strings.TrimPrefix(s.Mesh.Source+", "+what+" among the manifests", ", ")
	return nil
}

// hpaFromV2beta2 reads an autoscaling/v2beta2 HPA as v2: the same schema.
func hpaFromV2beta2(h *autoscalingv2beta2.HorizontalPodAutoscaler) (*autoscalingv2.HorizontalPodAutoscaler, error) {
	raw, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	out := &autoscalingv2.HorizontalPodAutoscaler{}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, err
	}
	return out, nil
}

// hpaFromV1 reads an autoscaling/v1 HPA: its targetCPUUtilizationPercentage
// is a Resource cpu metric with a Utilization target.
func hpaFromV1(h *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: h.ObjectMeta,
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{Kind: h.Spec.ScaleTargetRef.Kind, Name: h.Spec.ScaleTargetRef.Name, APIVersion: h.Spec.ScaleTargetRef.APIVersion},
			MinReplicas:    h.Spec.MinReplicas,
			MaxReplicas:    h.Spec.MaxReplicas,
		},
	}
	if t := h.Spec.TargetCPUUtilizationPercentage; t != nil {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: t}},
		}}
	}
	return out
}

// unwrap drops the path a file error repeats after the caller's own.
func unwrap(err error) error {
	var bad *safefile.Error
	if errors.As(err, &bad) {
		return bad.Err
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
