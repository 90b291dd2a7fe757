package check

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	meshv1alpha1 "istio.io/api/mesh/v1alpha1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/sizing"
)

// Istio annotations and labels the checks read besides sizing's resource ones.
const (
	annotationNativeSidecar = "sidecar.istio.io/nativeSidecar"
	labelInject             = "sidecar.istio.io/inject"
	proxyName               = cluster.SidecarContainerName
	// defaultGraceSeconds is Kubernetes' terminationGracePeriodSeconds default.
	defaultGraceSeconds = 30
)

var resourceAnnotations = []string{sizing.AnnotationProxyCPU, sizing.AnnotationProxyCPULimit, sizing.AnnotationProxyMemory, sizing.AnnotationProxyMemoryLimit}

// workload is a Deployment or StatefulSet as Istio will run it: its pod
// template, the effective ProxyConfig and sidecar resources, and the objects
// around it.
type workload struct {
	ref      Ref
	tpl      corev1.PodTemplateSpec
	selector *metav1.LabelSelector

	proxy       *meshv1alpha1.ProxyConfig // mesh defaultConfig + proxy.istio.io/config
	injected    bool
	injectedWhy string
	native      bool
	nativeKnown bool
	nativeWhy   string
	// sidecar is the effective istio-proxy resources and where they come from.
	sidecar    corev1.ResourceRequirements
	sidecarWhy string

	hpas     []*autoscalingv2.HorizontalPodAutoscaler
	services []*corev1.Service
	pods     []*corev1.Pod
}

func (w *workload) group() string { return w.ref.String() }

func (w *workload) annotations() map[string]string { return w.tpl.Annotations }

// graceSeconds is the pod's terminationGracePeriodSeconds.
func (w *workload) graceSeconds() int64 {
	if g := w.tpl.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return defaultGraceSeconds
}

// appContainers are the containers other than istio-proxy, native sidecars
// (restartable init containers) included.
func (w *workload) appContainers() []corev1.Container {
	var out []corev1.Container
	for _, c := range w.tpl.Spec.InitContainers {
		if c.Name != proxyName && isRestartable(c) {
			out = append(out, c)
		}
	}
	for _, c := range w.tpl.Spec.Containers {
		if c.Name != proxyName {
			out = append(out, c)
		}
	}
	return out
}

func isRestartable(c corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func buildWorkloads(s *Set, mesh *Mesh, assume *[]string) ([]*workload, error) {
	var out []*workload
	add := func(kind string, meta metav1.ObjectMeta, sel *metav1.LabelSelector, tpl corev1.PodTemplateSpec) {
		w := &workload{ref: Ref{Kind: kind, Namespace: meta.Namespace, Name: meta.Name}, tpl: tpl, selector: sel}
		w.resolve(s, mesh, assume)
		out = append(out, w)
	}
	for _, d := range s.Deployments {
		add("Deployment", d.ObjectMeta, d.Spec.Selector, d.Spec.Template)
	}
	for _, st := range s.StatefulSets {
		add("StatefulSet", st.ObjectMeta, st.Spec.Selector, st.Spec.Template)
	}
	return out, nil
}

func (w *workload) resolve(s *Set, mesh *Mesh, assume *[]string) {
	ns := w.ref.Namespace
	if sel, err := metav1.LabelSelectorAsSelector(w.selector); err == nil && w.selector != nil {
		for _, p := range s.Pods {
			if p.Namespace == ns && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)) {
				w.pods = append(w.pods, p)
			}
		}
	}
	for _, h := range s.HPAs {
		if h.Namespace == ns && h.Spec.ScaleTargetRef.Kind == w.ref.Kind && h.Spec.ScaleTargetRef.Name == w.ref.Name {
			w.hpas = append(w.hpas, h)
		}
	}
	for _, svc := range s.Services {
		if svc.Namespace == ns && len(svc.Spec.Selector) > 0 && labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(w.tpl.Labels)) {
			w.services = append(w.services, svc)
		}
	}
	w.proxy = proto.Clone(mesh.Config.GetDefaultConfig()).(*meshv1alpha1.ProxyConfig)
	if w.proxy == nil {
		w.proxy = &meshv1alpha1.ProxyConfig{}
	}
	if doc, ok := w.annotations()[sizing.AnnotationProxyConfig]; ok {
		if err := overlayProxyConfig(w.proxy, doc); err != nil {
			*assume = append(*assume, fmt.Sprintf("%s: the %s annotation is not a ProxyConfig (%v): it is ignored here, and Istio's injector would reject it", w.ref, sizing.AnnotationProxyConfig, err))
		}
	}
	w.injected, w.injectedWhy = w.injection(s, assume)
	w.native, w.nativeKnown, w.nativeWhy = w.nativeSidecar(s.Env, mesh)
	if w.injected && !w.nativeKnown {
		*assume = append(*assume, "native sidecars: "+w.nativeWhy+"; the lifecycle checks take istio-proxy as a regular container")
	}
	w.sidecar, w.sidecarWhy = w.sidecarResources(mesh, assume)
}

// overlayProxyConfig applies a proxy.istio.io/config document over pc, as
// the injector merges it over the mesh's defaultConfig.
func overlayProxyConfig(pc *meshv1alpha1.ProxyConfig, doc string) error {
	raw, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(raw)) == "null" {
		return nil
	}
	next := &meshv1alpha1.ProxyConfig{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, next); err != nil {
		return err
	}
	overlay(pc.ProtoReflect(), next.ProtoReflect())
	return nil
}

// injection decides whether Istio injects the workload's pods, in the
// injector's order: the pod's label or annotation, then its namespace.
func (w *workload) injection(s *Set, assume *[]string) (bool, string) {
	for _, m := range []map[string]string{w.tpl.Labels, w.tpl.Annotations} {
		switch m[labelInject] {
		case "false":
			return false, labelInject + "=false on the pod template"
		case "true":
			return true, labelInject + "=true on the pod template"
		}
	}
	if _, ok := cluster.SidecarInPodSpec(w.tpl.Spec, "the pod template"); ok {
		return true, "istio-proxy in the pod template"
	}
	for _, p := range w.pods {
		if _, ok := cluster.SidecarInPodSpec(p.Spec, "pod "+p.Name); ok {
			return true, "istio-proxy in pod " + p.Name
		}
	}
	for _, n := range s.Namespaces {
		if n.Name != w.ref.Namespace {
			continue
		}
		switch {
		case n.Labels["istio-injection"] == "enabled":
			return true, "namespace " + n.Name + " has istio-injection=enabled"
		case n.Labels["istio-injection"] == "disabled":
			return false, "namespace " + n.Name + " has istio-injection=disabled"
		case n.Labels["istio.io/rev"] != "":
			return true, "namespace " + n.Name + " has istio.io/rev=" + n.Labels["istio.io/rev"]
		}
		return false, "namespace " + n.Name + " has no injection label"
	}
	*assume = append(*assume, fmt.Sprintf("namespace %s is not among the inputs: its workloads are taken as injected with istio-proxy", w.ref.Namespace))
	return true, "namespace " + w.ref.Namespace + " not among the inputs (taken as injected)"
}

// Version thresholds for native sidecars.
var (
	nativeK8sBeta  = version.MajorMinor(1, 29) // SidecarContainers on by default (KEP-753)
	nativeK8sGA    = version.MajorMinor(1, 33) // GA; what Istio's "auto" looks for on the node's kubelet
	nativeIstio    = version.MajorMinor(1, 19) // ENABLE_NATIVE_SIDECARS first available
	nativeAutoDflt = version.MajorMinor(1, 27) // ENABLE_NATIVE_SIDECARS defaults to auto
)

// nativeSidecar decides whether istio-proxy runs as a native sidecar:
// what the pods or template show, then the pod annotation, then istiod's
// ENABLE_NATIVE_SIDECARS with Istio's default for its version.
func (w *workload) nativeSidecar(env Environment, mesh *Mesh) (native, known bool, why string) {
	type podSpec struct {
		spec  corev1.PodSpec
		where string
	}
	var specs []podSpec
	for _, p := range w.pods {
		specs = append(specs, podSpec{p.Spec, "pod " + p.Name})
	}
	specs = append(specs, podSpec{w.tpl.Spec, "the pod template"})
	for _, sp := range specs {
		if sc, ok := cluster.SidecarInPodSpec(sp.spec, sp.where); ok {
			if sc.Kind == cluster.SidecarNative {
				return true, true, "istio-proxy runs as a native sidecar in " + sp.where
			}
			return false, true, "istio-proxy runs as a regular container in " + sp.where
		}
	}
	switch w.annotations()[annotationNativeSidecar] {
	case "true":
		return true, true, annotationNativeSidecar + "=true"
	case "false":
		return false, true, annotationNativeSidecar + "=false"
	}
	mode, from := mesh.NativeSidecars, "istiod's ENABLE_NATIVE_SIDECARS="+mesh.NativeSidecars
	if mode == "" {
		switch {
		case env.IstioVersion == nil:
			return false, false, "Istio's version is unknown, so is its ENABLE_NATIVE_SIDECARS default"
		case env.IstioVersion.AtLeast(nativeAutoDflt):
			mode, from = "auto", "Istio "+env.IstioVersion.String()+"'s default ENABLE_NATIVE_SIDECARS=auto"
		default:
			mode, from = "false", "Istio "+env.IstioVersion.String()+"'s default (native sidecars off)"
		}
	}
	switch mode {
	case "true":
		return true, true, from
	case "auto":
		if env.K8sVersion == nil {
			return false, false, from + " with an unknown Kubernetes version"
		}
		on := env.K8sVersion.AtLeast(nativeK8sGA)
		return on, true, fmt.Sprintf("%s: native only on kubelets 1.33+, the cluster is %s", from, env.K8sVersion)
	}
	return false, true, from
}

// sidecarResources are istio-proxy's effective resources: a running pod's
// container; else the resource annotations (only those set, as the
// injection template does) or values.global.proxy.resources or Istio's
// defaults; with a template istio-proxy container's own resources on top.
func (w *workload) sidecarResources(mesh *Mesh, assume *[]string) (corev1.ResourceRequirements, string) {
	for _, p := range w.pods {
		if sc, ok := cluster.SidecarInPodSpec(p.Spec, "pod "+p.Name); ok {
			return baselineResources(sc.Resources), sc.Resources.Source
		}
	}
	var r corev1.ResourceRequirements
	why := ""
	if b, ok, err := cluster.ResourcesFromAnnotations(w.annotations()); err != nil {
		*assume = append(*assume, fmt.Sprintf("%s: %v (ignored here; the injector would fail the pod)", w.ref, err))
	} else if ok {
		r, why = baselineResources(b), "the pod template's sidecar.istio.io resource annotations"
	}
	if why == "" {
		if mesh.ProxyResources != nil {
			r, why = *mesh.ProxyResources.DeepCopy(), "values global.proxy.resources"
		} else {
			b := cluster.IstioDefaultResources("no resource annotation")
			r, why = baselineResources(b), b.Source
		}
	}
	if sc, ok := cluster.SidecarInPodSpec(w.tpl.Spec, "the pod template"); ok {
		declared := baselineResources(sc.Resources)
		for _, l := range []struct{ from, to *corev1.ResourceList }{{&declared.Requests, &r.Requests}, {&declared.Limits, &r.Limits}} {
			for k, v := range *l.from {
				if *l.to == nil {
					*l.to = corev1.ResourceList{}
				}
				(*l.to)[k] = v
				why = "the pod template's istio-proxy container over " + why
			}
		}
	}
	return r, why
}

func baselineResources(b cluster.SidecarResources) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	set := func(l corev1.ResourceList, name corev1.ResourceName, q *resource.Quantity) {
		if q != nil {
			l[name] = *q
		}
	}
	set(r.Requests, corev1.ResourceCPU, b.CPURequest)
	set(r.Requests, corev1.ResourceMemory, b.MemoryRequest)
	set(r.Limits, corev1.ResourceCPU, b.CPULimit)
	set(r.Limits, corev1.ResourceMemory, b.MemoryLimit)
	return r
}

// request is a container's request for a resource: its request, or its
// limit, which Kubernetes copies into the request when only a limit is set.
func request(r corev1.ResourceRequirements, name corev1.ResourceName) (resource.Quantity, bool) {
	if q, ok := r.Requests[name]; ok {
		return q, true
	}
	q, ok := r.Limits[name]
	return q, ok
}

// sleepRe finds sleep commands in a preStop exec command line.
var sleepRe = regexp.MustCompile(`(?:^|[\s;&|(])sleep\s+([0-9]+(?:\.[0-9]+)?)([smh]?)(?:\s|;|&|\||\)|$)`)

// preStopSleep adds up the sleeps a container's preStop hook holds: the
// sleep action and every `sleep N` in an exec command.
func preStopSleep(c corev1.Container) float64 {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return 0
	}
	h := c.Lifecycle.PreStop
	total := 0.0
	if h.Sleep != nil {
		total += float64(h.Sleep.Seconds)
	}
	if h.Exec != nil {
		for _, m := range sleepRe.FindAllStringSubmatch(strings.Join(h.Exec.Command, " "), -1) {
			n, _ := strconv.ParseFloat(m[1], 64)
			switch m[2] {
			case "m":
				n *= 60
			case "h":
				n *= 3600
			}
			total += n
		}
	}
	return total
}

// workloadsOf lists the objects a workload kind can be; for the fixes.
var kubectlKind = map[string]string{"Deployment": "deployment", "StatefulSet": "statefulset"}

func (w *workload) patchTarget() string {
	return fmt.Sprintf("kubectl patch %s %s -n %s --type strategic --patch-file FIX.yaml", kubectlKind[w.ref.Kind], w.ref.Name, w.ref.Namespace)
}
