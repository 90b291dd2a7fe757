package cluster

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/sizing"
)

// web is a Deployment whose template shows no sidecar: the injector adds it
// at admission.
func web() Workload {
	d := kubeharness.NewDeployment("shop", "web", 1, nil)
	return DeploymentWorkload(d)
}

func injectedPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web-1", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}, {Name: "istio-proxy", Image: "istio/proxyv2:1.24.0",
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("100Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("500Mi")},
			}}}}}
}

// Where the sidecar's resources come from, in order: the template's
// annotations, else the injected container of a running pod.
func TestFindSidecarAnnotationsThenPod(t *testing.T) {
	for _, tt := range []struct {
		name        string
		annotations map[string]string
		kind        SidecarKind
		cpuRequest  int64
		unset       func(SidecarResources) *resource.Quantity // a figure nothing sets
		image       string
	}{
		{name: "the injected container of pod web-1", kind: SidecarContainer, cpuRequest: 50,
			unset: func(r SidecarResources) *resource.Quantity { return r.CPULimit }, image: "istio/proxyv2:1.24.0"},
		{name: "the template's annotations win over the pod", annotations: map[string]string{sizing.AnnotationProxyCPU: "200m"},
			kind: SidecarAnnotations, cpuRequest: 200, unset: func(r SidecarResources) *resource.Quantity { return r.MemoryRequest }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := web()
			w.Template.Annotations = tt.annotations
			s, found, err := FindSidecar(context.Background(), fake.NewClientset(injectedPod()), w)
			if err != nil || !found {
				t.Fatalf("found %v, err %v", found, err)
			}
			if s.Kind != tt.kind {
				t.Errorf("kind %s, want %s", s.Kind, tt.kind)
			}
			if got := s.Resources.CPURequest.MilliValue(); got != tt.cpuRequest {
				t.Errorf("CPU request %dm, want %dm", got, tt.cpuRequest)
			}
			if q := tt.unset(s.Resources); q != nil {
				t.Errorf("%v set where nothing sets it: %+v", q, s.Resources)
			}
			if s.Image != tt.image {
				t.Errorf("image %q, want %q", s.Image, tt.image)
			}
		})
	}
	w := web()
	w.Template.Annotations = map[string]string{sizing.AnnotationProxyCPU: "lots"}
	if _, _, err := FindSidecar(context.Background(), fake.NewClientset(), w); err == nil {
		t.Error("a bad annotation quantity must be an error")
	}
}

func TestFindNativeSidecarAndPodContainers(t *testing.T) {
	w := web()
	always := corev1.ContainerRestartPolicyAlways
	w.Template.Spec.InitContainers = []corev1.Container{{Name: "istio-proxy", RestartPolicy: &always,
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}
	s, found, err := FindSidecar(context.Background(), fake.NewClientset(), w)
	if err != nil || !found || s.Kind != SidecarNative {
		t.Fatalf("native sidecar: %+v, found %v, err %v", s, found, err)
	}
	cs := PodContainers(w.Template.Spec, s, found)
	if len(cs) != 2 {
		t.Fatalf("containers %+v, want the native sidecar and the app", cs)
	}
	if c := cs[0]; c.Role != sizing.RoleNativeSidecar || !c.Proxy || c.RequestMillicores != 1000 || !c.HasRequest {
		t.Errorf("native sidecar %+v, want role native-sidecar, the proxy, its 1000m limit as request", c)
	}
	if c := cs[1]; c.Role != sizing.RoleApp || c.Proxy || c.RequestMillicores != 500 {
		t.Errorf("app %+v, want role app with its 500m request", c)
	}
}

func TestSidecarResourcesForFallsBackToIstioDefaults(t *testing.T) {
	r, err := SidecarResourcesFor(context.Background(), fake.NewClientset(), web())
	if err != nil {
		t.Fatal(err)
	}
	if r.CPURequest.Cmp(IstioDefaultCPURequest) != 0 || r.MemoryLimit.Cmp(IstioDefaultMemoryLimit) != 0 {
		t.Errorf("resources %+v, want Istio's defaults when nothing shows the sidecar", r)
	}
}
