package kubeharness

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Deployment reads a Deployment with the admin client, or fails the test.
func (h *Harness) Deployment(t testing.TB, ns, name string) *appsv1.Deployment {
	t.Helper()
	d, err := h.Client.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading deployment %s/%s: %v", ns, name, err)
	}
	return d
}

// TemplateAnnotations are a Deployment's pod-template annotations now.
func (h *Harness) TemplateAnnotations(t testing.TB, ns, name string) map[string]string {
	t.Helper()
	return h.Deployment(t, ns, name).Spec.Template.Annotations
}

// AssertTemplateRestored fails the test unless the Deployment's pod template
// is now semantically equal to before's (what a restore must leave).
func (h *Harness) AssertTemplateRestored(t testing.TB, before *appsv1.Deployment) {
	t.Helper()
	after := h.Deployment(t, before.Namespace, before.Name)
	if !equality.Semantic.DeepEqual(before.Spec.Template, after.Spec.Template) {
		t.Errorf("pod template of %s/%s not restored:\nbefore %+v\nafter  %+v", before.Namespace, before.Name,
			before.Spec.Template.ObjectMeta, after.Spec.Template.ObjectMeta)
	}
}

// Pods lists the pods of ns matching selector ("": all), terminating ones
// included, or fails the test.
func (h *Harness) Pods(t testing.TB, ns, selector string) []corev1.Pod {
	t.Helper()
	list, err := h.Client.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("listing pods of %s (%q): %v", ns, selector, err)
	}
	return list.Items
}

// LivePods counts the pods of ns matching selector that are not terminating.
func (h *Harness) LivePods(t testing.TB, ns, selector string) int {
	t.Helper()
	n := 0
	for _, p := range h.Pods(t, ns, selector) {
		if p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}
