package kubeharness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// NewDeployment is a Deployment of one "app" container (500m CPU, 64Mi)
// with the given pod-template annotations; kwok runs its pods.
func NewDeployment(ns, name string, replicas int32, annotations map[string]string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{
						Name: "app", Image: "registry.invalid/app:1",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi"),
						}},
					}},
					TerminationGracePeriodSeconds: new(int64),
				},
			},
		},
	}
}

// CreateDeployment creates d and waits until its rollout is complete.
func (h *Harness) CreateDeployment(t testing.TB, d *appsv1.Deployment) *appsv1.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	created, err := h.Client.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating deployment %s/%s: %v", d.Namespace, d.Name, err)
	}
	return h.WaitRolledOut(t, created.Namespace, created.Name)
}

// WaitRolledOut waits (90 s at most) until every replica of the Deployment
// is updated and available, and returns it.
func (h *Harness) WaitRolledOut(t testing.TB, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		d, err = h.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		want := *d.Spec.Replicas
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want, nil
	})
	if err != nil {
		t.Fatalf("deployment %s/%s did not roll out: %v (status %+v; pods: %s)", ns, name, err, d.Status, h.podStates(ns))
	}
	return d
}

// podStates says, for a Deployment that did not roll out, where each pod of
// its namespace stands: its phase and, while unscheduled or unready, why.
func (h *Harness) podStates(ns string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := h.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "listing them: " + err.Error()
	}
	var states []string
	for _, p := range pods.Items {
		state := p.Name + " " + string(p.Status.Phase)
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue && c.Message != "" {
				state += fmt.Sprintf(" (%s: %s)", c.Type, c.Message)
			}
		}
		states = append(states, state)
	}
	if len(states) == 0 {
		return "none"
	}
	return strings.Join(states, "; ")
}

// RBAC binds the Role and ClusterRole of the YAML file at path (documents
// of kind Role and ClusterRole) to service account ns/sa: the Role in ns,
// the ClusterRole cluster-wide. It returns a client configuration and a
// kubeconfig that authenticate with a token of that account only, once the
// bindings are in force.
func (h *Harness) RBAC(t testing.TB, path, ns, sa string) (*rest.Config, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: ns}}
	var probe *rbacv1.PolicyRule // the first rule of the file: allowed once the bindings are in force
	first := func(rules []rbacv1.PolicyRule) {
		if probe == nil && len(rules) > 0 {
			probe = &rules[0]
		}
	}
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		switch meta.Kind {
		case "Role":
			var r rbacv1.Role
			if err := yaml.UnmarshalStrict(doc, &r); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			r.Namespace = ns
			first(r.Rules)
			if _, err := h.Client.RbacV1().Roles(ns).Create(ctx, &r, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating role: %v", err)
			}
			rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: r.Name + "-" + sa, Namespace: ns},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: r.Name}, Subjects: subject}
			if _, err := h.Client.RbacV1().RoleBindings(ns).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating role binding: %v", err)
			}
		case "ClusterRole":
			var r rbacv1.ClusterRole
			if err := yaml.UnmarshalStrict(doc, &r); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			first(r.Rules)
			if _, err := h.Client.RbacV1().ClusterRoles().Create(ctx, &r, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating cluster role: %v", err)
			}
			crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: r.Name + "-" + ns + "-" + sa},
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: r.Name}, Subjects: subject}
			if _, err := h.Client.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("creating cluster role binding: %v", err)
			}
		case "":
		default:
			t.Fatalf("%s: unexpected kind %q", path, meta.Kind)
		}
	}
	if probe == nil || len(probe.Verbs) == 0 || len(probe.APIGroups) == 0 || len(probe.Resources) == 0 {
		t.Fatalf("%s: no rule to probe the bindings with", path)
	}
	rc, kubeconfig := h.ServiceAccountToken(t, ns, sa)
	// The authorizer's cache catches up with the bindings shortly.
	c := ClientFor(t, rc)
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: ns, Verb: probe.Verbs[0], Group: probe.APIGroups[0], Resource: probe.Resources[0]}},
		}, metav1.CreateOptions{})
		return err == nil && r.Status.Allowed, nil
	})
	if err != nil {
		t.Fatalf("the RBAC bindings for %s/%s did not take effect: %v", ns, sa, err)
	}
	return rc, kubeconfig
}

// SidecarGVR is Istio's Sidecar resource.
var SidecarGVR = schema.GroupVersionResource{Group: "networking.istio.io", Version: "v1", Resource: "sidecars"}

// InstallSidecarCRD installs a minimal CRD for networking.istio.io/v1
// Sidecar (no schema beyond preserve-unknown-fields) and waits until it is
// served. Installing it twice is fine.
func (h *Harness) InstallSidecarCRD(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "sidecars.networking.istio.io"},
		"spec": map[string]any{
			"group": "networking.istio.io",
			"names": map[string]any{"kind": "Sidecar", "listKind": "SidecarList", "plural": "sidecars", "singular": "sidecar"},
			"scope": "Namespaced",
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{
					"type": "object", "x-kubernetes-preserve-unknown-fields": true,
				}},
			}},
		},
	}}
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := h.Dynamic.Resource(gvr).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the Sidecar CRD: %v", err)
	}
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := h.Dynamic.Resource(SidecarGVR).Namespace("default").List(ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("the Sidecar CRD is not served: %v", err)
	}
}

// CreateSidecar creates a Sidecar resource with the given egress hosts and
// workload selector (nil: the namespace's default).
func (h *Harness) CreateSidecar(t testing.TB, ns, name string, selector map[string]string, hosts ...string) {
	t.Helper()
	hs := make([]any, len(hosts))
	for i, x := range hosts {
		hs[i] = x
	}
	spec := map[string]any{"egress": []any{map[string]any{"hosts": hs}}}
	if selector != nil {
		sel := map[string]any{}
		for k, v := range selector {
			sel[k] = v
		}
		spec["workloadSelector"] = map[string]any{"labels": sel}
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
		"metadata": map[string]any{"name": name, "namespace": ns}, "spec": spec,
	}}
	if _, err := h.Dynamic.Resource(SidecarGVR).Namespace(ns).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating Sidecar %s/%s: %v", ns, name, err)
	}
}

// Forbidden fails the test unless err is an authorization denial.
func Forbidden(t testing.TB, what string, err error) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Errorf("%s: want Forbidden, got %v", what, err)
	}
}
