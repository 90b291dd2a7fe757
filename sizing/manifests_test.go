package sizing

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/version"
	"sigs.k8s.io/yaml"
)

func existingDeployment() appsv1.Deployment {
	return appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: "shop"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "shop"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "shop"}, Annotations: map[string]string{"team": "payments"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "shop:1"}}},
			},
		},
	}
}

func TestDeploymentPatchSetsAnnotationsAndKeepsTheRest(t *testing.T) {
	p := mustRecommend(t, baseInput())
	patchYAML, err := DeploymentPatch(p)
	if err != nil {
		t.Fatal(err)
	}
	patchJSON, err := yaml.YAMLToJSON(patchYAML)
	if err != nil {
		t.Fatal(err)
	}
	original, _ := json.Marshal(existingDeployment())
	patched, err := strategicpatch.StrategicMergePatch(original, patchJSON, appsv1.Deployment{})
	if err != nil {
		t.Fatalf("the patch does not apply: %v\n%s", err, patchYAML)
	}
	var got appsv1.Deployment
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"team":                     "payments",
		AnnotationProxyCPU:         "298m",
		AnnotationProxyCPULimit:    "1",
		AnnotationProxyMemory:      "51Mi",
		AnnotationProxyMemoryLimit: "102Mi",
		AnnotationProxyConfig:      "concurrency: 1\n",
	}
	for k, v := range want {
		if got.Spec.Template.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, got.Spec.Template.Annotations[k], v)
		}
	}
	if got.Spec.Template.Spec.Containers[0].Image != "shop:1" || got.Spec.Selector.MatchLabels["app"] != "shop" {
		t.Errorf("the patch changed more than annotations: %+v", got.Spec)
	}
}

func TestNoCPULimitLeavesTheAnnotationOut(t *testing.T) {
	in := baseInput()
	in.CPULimit = CPULimit{Mode: CPULimitNone}
	a := Annotations(mustRecommend(t, in))
	if _, ok := a[AnnotationProxyCPULimit]; ok {
		t.Errorf("proxyCPULimit set with no limit recommended: %v", a)
	}
	if a[AnnotationProxyConfig] != "concurrency: 1\n" {
		t.Errorf("concurrency must be explicit without a limit, got %q", a[AnnotationProxyConfig])
	}
}

func TestManifestsHoldAValidHPA(t *testing.T) {
	in := baseInput()
	in.HPA = hpaInput(1000, 70, 100)
	in.HPA.K8sVersion = version.MustParseGeneric("1.30")
	p := mustRecommend(t, in)
	out, err := Manifests(p, in)
	if err != nil {
		t.Fatal(err)
	}
	docs := bytes.Split(out, []byte("\n---\n"))
	if len(docs) != 2 {
		t.Fatalf("want 2 YAML documents, got %d:\n%s", len(docs), out)
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := yaml.UnmarshalStrict(docs[1], &hpa); err != nil {
		t.Fatalf("HPA document is not a valid HorizontalPodAutoscaler: %v\n%s", err, docs[1])
	}
	if hpa.APIVersion != "autoscaling/v2" || hpa.Kind != "HorizontalPodAutoscaler" || hpa.Spec.ScaleTargetRef.Name != "app" ||
		*hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 20 {
		t.Errorf("HPA header wrong: %+v", hpa)
	}
	m := hpa.Spec.Metrics[0]
	if m.Type != autoscalingv2.ContainerResourceMetricSourceType || m.ContainerResource.Container != "app" || *m.ContainerResource.Target.AverageUtilization != 70 {
		t.Errorf("metric = %+v, want ContainerResource on app at 70%%", m)
	}
	if strings.Contains(string(docs[1]), "status") || strings.Contains(string(docs[1]), "creationTimestamp") {
		t.Errorf("HPA carries empty status or timestamps:\n%s", docs[1])
	}
}
