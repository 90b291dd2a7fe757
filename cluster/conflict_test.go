package cluster

import (
	"context"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
)

func TestPatchRetriesOnConflict(t *testing.T) {
	d := kubeharness.NewDeployment("shop", "web", 1, nil)
	client := fake.NewClientset(d)
	conflicts := 2
	client.PrependReactor("patch", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web", nil)
		}
		return false, nil, nil
	})
	v := "concurrency: 2\n"
	if _, err := patchAnnotations(context.Background(), client, "shop", "web", "", map[string]*string{"proxy.istio.io/config": &v}); err != nil {
		t.Fatal(err)
	}
	gets, patches := 0, 0
	for _, a := range client.Actions() {
		switch a.GetVerb() {
		case "get":
			gets++
		case "patch":
			patches++
		}
	}
	if conflicts != 0 || patches != 3 || gets != 3 {
		t.Errorf("want 3 reads and 3 patches (2 conflicts retried), got %d and %d", gets, patches)
	}
	// A recreated Deployment (another UID) is refused, not patched.
	if _, err := patchAnnotations(context.Background(), client, "shop", "web", "other-uid", map[string]*string{}); err == nil {
		t.Error("patched a Deployment with another UID")
	}
}
