package kubeharness

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RunTests is a TestMain body: it starts one harness for the test binary
// (building the binaries first if they are missing), stores it in *h, runs
// the tests and stops it. When the harness cannot start it prints why and
// returns 1: the tests fail, they are never skipped.
//
//	func TestMain(m *testing.M) { os.Exit(kubeharness.RunTests(m, &harness)) }
func RunTests(m *testing.M, h **Harness) int {
	return RunTestsWith(m, h, Options{})
}

// RunTestsWith is RunTests with options (Build, Log and StartTimeout are
// set by it).
func RunTestsWith(m *testing.M, h **Harness, o Options) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute) // a cold build included
	o.Build, o.Log, o.StartTimeout = true, os.Stderr, 2*time.Minute
	started, err := Start(ctx, o)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the Kubernetes test harness could not start: %v\n", err)
		return 1
	}
	*h = started
	defer started.Stop()
	return m.Run()
}

// Namespace creates a namespace for one test (deleted at the end).
func (h *Harness) Namespace(t testing.TB, prefix string) string {
	t.Helper()
	ns, err := h.Client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating a namespace: %v", err)
	}
	return ns.Name
}

// ServiceAccountToken mints a token for namespace/name through the
// TokenRequest API (the account is created if missing) and returns a client
// configuration and a kubeconfig file that authenticate with it only.
func (h *Harness) ServiceAccountToken(t testing.TB, namespace, name string) (*rest.Config, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := h.Client.CoreV1().ServiceAccounts(namespace).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !isAlreadyExists(err) {
		t.Fatalf("creating service account %s/%s: %v", namespace, name, err)
	}
	expiry := int64(3600)
	tr, err := h.Client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenRequest for %s/%s: %v", namespace, name, err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["harness"] = &clientcmdapi.Cluster{Server: h.Server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["sa"] = &clientcmdapi.Context{Cluster: "harness", AuthInfo: name, Namespace: namespace}
	cfg.CurrentContext = "sa"
	path := fmt.Sprintf("%s/kubeconfig-%s-%s", t.TempDir(), namespace, name)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	return rc, path
}

// ClientFor builds a typed client or fails the test.
func ClientFor(t testing.TB, rc *rest.Config) kubernetes.Interface {
	t.Helper()
	c, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
