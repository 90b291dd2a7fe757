package cluster

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestEgressHostMatches(t *testing.T) {
	const fqdn = "cart.shop.svc.cluster.local"
	for _, tt := range []struct {
		host, workloadNS, svcNS string
		want                    bool
	}{
		{"./*", "shop", "shop", true},
		{"./*", "web", "shop", false},
		{"*/*", "web", "shop", true},
		{"~/*", "shop", "shop", false},
		{"istio-system/*", "shop", "shop", false},
		{"shop/*", "web", "shop", true},
		{"shop/" + fqdn, "web", "shop", true},
		{"shop/users.shop.svc.cluster.local", "web", "shop", false},
		{"*/*.shop.svc.cluster.local", "web", "shop", true},
		{"*/*.other.svc.cluster.local", "web", "shop", false},
		{fqdn, "web", "shop", true}, // no namespace part: any namespace
	} {
		if got := EgressHostMatches(tt.host, tt.workloadNS, tt.svcNS, fqdn); got != tt.want {
			t.Errorf("EgressHostMatches(%q, workload ns %s, service ns %s) = %v, want %v", tt.host, tt.workloadNS, tt.svcNS, got, tt.want)
		}
	}
}

func svc(ns, name string, ports int) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for i := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Port: int32(80 + i)})
	}
	return s
}

func slice(ns, svcName string, ports int, ready ...bool) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svcName + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: svcName}}}
	for range ports {
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{})
	}
	for _, r := range ready {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{"192.0.2.1"}, Conditions: discoveryv1.EndpointConditions{Ready: &r}})
	}
	return es
}

func sidecarObj(ns, name string, selector map[string]any, hosts ...any) *unstructured.Unstructured {
	spec := map[string]any{"egress": []any{map[string]any{"hosts": hosts}}}
	if selector != nil {
		spec["workloadSelector"] = map[string]any{"labels": selector}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.istio.io/v1", "kind": "Sidecar",
		"metadata": map[string]any{"namespace": ns, "name": name}, "spec": spec,
	}}
}

func TestReadInventory(t *testing.T) {
	client := fake.NewClientset(
		svc("shop", "cart", 2), slice("shop", "cart", 2, true, true, false),
		svc("shop", "pay", 1), slice("shop", "pay", 1, true),
		svc("users", "users", 1), slice("users", "users", 1, true, true, true),
	)
	gvrs := map[schema.GroupVersionResource]string{{Group: "networking.istio.io", Version: "v1", Resource: "sidecars"}: "SidecarList"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), gvrs,
		sidecarObj("istio-system", "default", nil, "./*", "istio-system/*"),
		sidecarObj("shop", "narrow", map[string]any{"app": "web"}, "users/*"),
	)
	inv, err := ReadInventory(context.Background(), client, dyn, "shop", InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Unscoped != (Scope{Services: 3, Clusters: 4, Endpoints: 4 + 1 + 3}) {
		t.Errorf("unscoped %+v", inv.Unscoped)
	}
	if len(inv.Sidecars) != 1 || inv.Sidecars[0].Scope != (Scope{Services: 1, Clusters: 1, Endpoints: 3}) {
		t.Errorf("workload sidecar %+v", inv.Sidecars)
	}
	// The root namespace's default applies, with "." meaning shop.
	if inv.Default == nil || inv.Default.Namespace != "istio-system" || inv.Default.Scope != (Scope{Services: 2, Clusters: 3, Endpoints: 5}) {
		t.Errorf("default %+v", inv.Default)
	}
}

func TestReadInventoryWithoutCRD(t *testing.T) {
	client := fake.NewClientset(svc("shop", "cart", 1))
	kinds := map[schema.GroupVersionResource]string{}
	for _, v := range SidecarVersions {
		kinds[schema.GroupVersionResource{Group: "networking.istio.io", Version: v, Resource: "sidecars"}] = "SidecarList"
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), kinds)
	tried := 0
	dyn.PrependReactor("list", "sidecars", func(k8stesting.Action) (bool, runtime.Object, error) {
		tried++
		return true, nil, apierrors.NewNotFound(schema.GroupResource{Group: "networking.istio.io", Resource: "sidecars"}, "")
	})
	inv, err := ReadInventory(context.Background(), client, dyn, "shop", InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.SidecarAPI != "" || inv.Default != nil || len(inv.Notes) != 1 || tried != len(SidecarVersions) || inv.Unscoped.Services != 1 {
		t.Errorf("no CRD: %+v (tried %d versions)", inv, tried)
	}
}
