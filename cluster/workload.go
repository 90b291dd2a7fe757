package cluster

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/pager"
)

// WorkloadKind is a kind of controller that runs pods from a template.
type WorkloadKind string

// The kinds read: both run pods from a template, with a selector and a
// replica count, and take the same pod-template annotations.
const (
	KindDeployment  WorkloadKind = "Deployment"
	KindStatefulSet WorkloadKind = "StatefulSet"
)

// Workload is a controller of pods from a pod template, with what sizing
// and the sidecar's discovery need of it.
type Workload struct {
	Kind       WorkloadKind
	Namespace  string
	Name       string
	UID        types.UID
	Generation int64
	Labels     map[string]string
	// Replicas is the desired count (1 when unset, as the controller reads it).
	Replicas int32
	Selector *metav1.LabelSelector
	Template corev1.PodTemplateSpec
}

// String names the workload in messages: "deployment shop/web".
func (w Workload) String() string {
	return fmt.Sprintf("%s %s/%s", strings.ToLower(string(w.Kind)), w.Namespace, w.Name)
}

// DeploymentWorkload is a Deployment as a Workload.
func DeploymentWorkload(d *appsv1.Deployment) Workload {
	replicas := int32(1)
	if d.Spec.Replicas != nil {
		replicas = *d.Spec.Replicas
	}
	return Workload{Kind: KindDeployment, Namespace: d.Namespace, Name: d.Name, UID: d.UID, Generation: d.Generation,
		Labels: d.Labels, Replicas: replicas, Selector: d.Spec.Selector, Template: d.Spec.Template}
}

// StatefulSetWorkload is a StatefulSet as a Workload.
func StatefulSetWorkload(s *appsv1.StatefulSet) Workload {
	replicas := int32(1)
	if s.Spec.Replicas != nil {
		replicas = *s.Spec.Replicas
	}
	return Workload{Kind: KindStatefulSet, Namespace: s.Namespace, Name: s.Name, UID: s.UID, Generation: s.Generation,
		Labels: s.Labels, Replicas: replicas, Selector: s.Spec.Selector, Template: s.Spec.Template}
}

// ReadWorkload reads one workload.
func ReadWorkload(ctx context.Context, client kubernetes.Interface, kind WorkloadKind, ns, name string) (Workload, error) {
	switch kind {
	case KindDeployment:
		d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return Workload{}, fmt.Errorf("reading deployment %s/%s: %w", ns, name, err)
		}
		return DeploymentWorkload(d), nil
	case KindStatefulSet:
		s, err := client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return Workload{}, fmt.Errorf("reading statefulset %s/%s: %w", ns, name, err)
		}
		return StatefulSetWorkload(s), nil
	}
	return Workload{}, fmt.Errorf("%s %s/%s: only Deployments and StatefulSets are supported", kind, ns, name)
}

// ListWorkloadsOf lists the workloads of the given kinds in namespace ns
// ("": every namespace), page by page: each kind in turn, sorted by
// namespace and name within it.
func ListWorkloadsOf(ctx context.Context, client kubernetes.Interface, ns string, kinds ...WorkloadKind) ([]Workload, error) {
	var out []Workload
	for _, kind := range kinds {
		var list pager.ListPageFunc
		var convert func(runtime.Object) Workload
		switch kind {
		case KindDeployment:
			list = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.AppsV1().Deployments(ns).List(ctx, o)
			}
			convert = func(obj runtime.Object) Workload { return DeploymentWorkload(obj.(*appsv1.Deployment)) }
		case KindStatefulSet:
			list = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return client.AppsV1().StatefulSets(ns).List(ctx, o)
			}
			convert = func(obj runtime.Object) Workload { return StatefulSetWorkload(obj.(*appsv1.StatefulSet)) }
		default:
			return nil, fmt.Errorf("listing %ss: only Deployments and StatefulSets are supported", kind)
		}
		if err := listPages(ctx, list, func(obj runtime.Object) { out = append(out, convert(obj)) }); err != nil {
			return nil, fmt.Errorf("listing %ss%s: %w", strings.ToLower(string(kind)), inNamespace(ns), err)
		}
	}
	return out, nil
}

// ListAllPods lists the pods of namespace ns ("": every namespace) that are
// not terminating, page by page: one listing for a fleet, matched to its
// workloads in memory (PodsOf) instead of one request per workload.
func ListAllPods(ctx context.Context, client kubernetes.Interface, ns string) ([]corev1.Pod, error) {
	var out []corev1.Pod
	err := listPages(ctx, func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return client.CoreV1().Pods(ns).List(ctx, o)
	}, func(obj runtime.Object) {
		if p := obj.(*corev1.Pod); p.DeletionTimestamp == nil {
			out = append(out, *p)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("listing pods%s: %w", inNamespace(ns), err)
	}
	return out, nil
}

// PodsOf keeps the pods of w's namespace that its selector matches.
func PodsOf(w Workload, pods []corev1.Pod) ([]corev1.Pod, error) {
	if w.Selector == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(w.Selector)
	if err != nil {
		return nil, fmt.Errorf("%s selector: %w", w, err)
	}
	var out []corev1.Pod
	for _, p := range pods {
		if p.Namespace == w.Namespace && sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// ListPods lists the workload's pods that are not terminating, at most
// limit of them (0: all).
func ListPods(ctx context.Context, client kubernetes.Interface, w Workload, limit int64) ([]corev1.Pod, error) {
	if w.Selector == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(w.Selector)
	if err != nil {
		return nil, fmt.Errorf("%s selector: %w", w, err)
	}
	list, err := client.CoreV1().Pods(w.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String(), Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("listing the pods of %s: %w", w, err)
	}
	out := list.Items[:0]
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// PodReady says whether a pod runs and passes its readiness checks.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// pageSize is how many objects one list request asks for: a fleet of
// thousands of workloads is read in pages, never in one answer.
var pageSize int64 = 500

// listPages lists with client-go's pager and calls each for every item.
func listPages(ctx context.Context, list pager.ListPageFunc, each func(runtime.Object)) error {
	p := pager.New(list)
	p.PageSize = pageSize
	obj, _, err := p.List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	return meta.EachListItem(obj, func(o runtime.Object) error {
		each(o)
		return nil
	})
}

func inNamespace(ns string) string {
	if ns == "" {
		return " in all namespaces"
	}
	return " in " + ns
}
