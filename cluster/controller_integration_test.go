//go:build integration

package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/kubeharness"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

var harness *kubeharness.Harness

const rbacFile = "../deploy/rbac/proxysizer-role.yaml"

func TestMain(m *testing.M) {
	if os.Getenv("PROXYSIZER_KUBE_HELPER") != "" {
		os.Exit(helperSweep())
	}
	os.Exit(kubeharness.RunTests(m, &harness))
}

// helperSweep is a sweep in a child process: it applies settings through a
// controller built from kubectl-style flags, then either waits to be killed
// (mode kill) or restores on SIGTERM (mode signal) as the sweep command does.
func helperSweep() int {
	cfg := cluster.Config{
		Access:     cluster.Access{Kubeconfig: os.Getenv("HELPER_KUBECONFIG"), Namespace: os.Getenv("HELPER_NS")},
		Deployment: os.Getenv("HELPER_DEPLOYMENT"), JournalPath: os.Getenv("HELPER_JOURNAL"),
		RolloutTimeout: time.Minute, Log: os.Stderr,
	}
	c, err := cluster.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	// As the sweep command does: steps under a context SIGINT/SIGTERM
	// cancel, the restore deferred with a detached one.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("PROXYSIZER_KUBE_HELPER") == "signal" {
		defer func() {
			if err := c.RestoreDetached(ctx, time.Minute); err != nil {
				fmt.Fprintln(os.Stderr, "restore:", err)
			}
			fmt.Println("restored")
		}()
	}
	for _, s := range []results.Setting{{Concurrency: 2, CPULimitMillicores: 1000}, {Concurrency: 3, CPULimitMillicores: 2000}} {
		if err := c.Apply(ctx, s); err != nil {
			fmt.Fprintln(os.Stderr, "apply:", err)
			return 1
		}
	}
	fmt.Println("applied")
	select { // "measuring": bounded, the test kills or signals long before
	case <-ctx.Done():
	case <-time.After(2 * time.Minute):
	}
	return 0
}

// saClient binds the repo's RBAC role to a fresh service account of ns.
func saClient(t *testing.T, ns string) (kubernetes.Interface, string) {
	rc, kubeconfig := harness.RBAC(t, rbacFile, ns, "proxysizer")
	return kubeharness.ClientFor(t, rc), kubeconfig
}

func TestApplyRolloutAndRestore(t *testing.T) {
	ns := harness.Namespace(t, "apply")
	original := map[string]string{
		sizing.AnnotationProxyConfig: "terminationDrainDuration: 30s\nholdApplicationUntilProxyStarts: true\n",
		sizing.AnnotationProxyMemory: "200Mi",
		"example.com/other":          "kept",
	}
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 2, original))
	client, _ := saClient(t, ns)
	c, err := cluster.NewForClient(client, ns, cluster.Config{Deployment: "web", JournalPath: filepath.Join(t.TempDir(), "j.json"), RolloutTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	t0 := time.Now()
	if err := c.Apply(ctx, results.Setting{Concurrency: 2, CPULimitMillicores: 1500}); err != nil {
		t.Fatal(err)
	}
	t.Logf("patch + rollout of 2 replicas: %s", time.Since(t0).Round(time.Millisecond))
	d := harness.Deployment(t, ns, "web")
	got := d.Spec.Template.Annotations
	want := map[string]string{
		sizing.AnnotationProxyConfig:   "concurrency: 2\nholdApplicationUntilProxyStarts: true\nterminationDrainDuration: 30s\n",
		sizing.AnnotationProxyCPU:      "100m",
		sizing.AnnotationProxyCPULimit: "1500m",
		sizing.AnnotationProxyMemory:   "200Mi",
		"example.com/other":            "kept",
	}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("annotations after apply:\n got %v\nwant %v", got, want)
	}
	if done, msg, _ := cluster.RolloutComplete(d, d.Generation); !done {
		t.Errorf("Apply returned before the rollout completed: %s", msg)
	}
	// The running pods carry the new template.
	running := 0
	for _, p := range harness.Pods(t, ns, "app=web") {
		if p.DeletionTimestamp == nil && p.Annotations[sizing.AnnotationProxyCPULimit] == "1500m" && p.Status.Phase == "Running" {
			running++
		}
	}
	if running != 2 {
		t.Errorf("%d running pods with the new annotations, want 2", running)
	}

	if err := c.Apply(ctx, results.Setting{Concurrency: 4}); err != nil {
		t.Fatal(err)
	}
	if v, ok := harness.TemplateAnnotations(t, ns, "web")[sizing.AnnotationProxyCPULimit]; ok {
		t.Errorf("no limit must remove proxyCPULimit, found %q", v)
	}

	if err := c.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	harness.AssertTemplateRestored(t, before)
	after := harness.Deployment(t, ns, "web")
	if done, msg, _ := cluster.RolloutComplete(after, after.Generation); !done {
		t.Errorf("Restore returned before the rollout completed: %s", msg)
	}
	j, err := cluster.ReadJournal(c.JournalPath())
	if err != nil {
		t.Fatalf("reading the journal after restore: %v", err)
	}
	if j.RestoredAt == nil {
		t.Error("the journal is not marked restored")
	}
	if len(j.Steps) != 2 {
		t.Errorf("the journal records %d steps, want the 2 applied", len(j.Steps))
	}
	rv := after.ResourceVersion
	if err := c.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if harness.Deployment(t, ns, "web").ResourceVersion != rv {
		t.Error("a second Restore changed the deployment")
	}
}

func TestRestoreAbsentAnnotations(t *testing.T) {
	ns := harness.Namespace(t, "absent")
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "bare", 1, nil))
	c, err := cluster.NewForClient(harness.Client, ns, cluster.Config{Deployment: "bare", JournalPath: filepath.Join(t.TempDir(), "j.json"), RolloutTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Apply(ctx, results.Setting{Concurrency: 1, CPULimitMillicores: 500}); err != nil {
		t.Fatal(err)
	}
	if got := harness.TemplateAnnotations(t, ns, "bare"); len(got) != 5 {
		t.Errorf("want the 5 managed annotations, got %v", got)
	}
	if err := c.RestoreDetached(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := harness.TemplateAnnotations(t, ns, "bare"); len(got) != 0 {
		t.Errorf("absent annotations must be removed, got %v", got)
	}
	harness.AssertTemplateRestored(t, before)
}

func TestDryRunPlanTouchesNothing(t *testing.T) {
	ns := harness.Namespace(t, "dryrun")
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 1, map[string]string{sizing.AnnotationProxyCPU: "300m"}))
	journal := filepath.Join(t.TempDir(), "j.json")
	c, err := cluster.NewForClient(harness.Client, ns, cluster.Config{Deployment: "web", JournalPath: journal})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Plan(context.Background(), []results.Setting{{Concurrency: 2, CPULimitMillicores: 200}, {Concurrency: 4, CPULimitMillicores: 0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Steps) != 2 {
		t.Fatalf("plan has %d steps, want one per setting: %+v", len(p.Steps), p.Steps)
	}
	if want := `"sidecar.istio.io/proxyCPU":"200m"`; !strings.Contains(p.Steps[0].Patch, want) {
		t.Errorf("step 1 patch lacks %s (the request clamped to the 200m limit): %s", want, p.Steps[0].Patch)
	}
	if want := `"sidecar.istio.io/proxyCPULimit":null`; !strings.Contains(p.Steps[1].Patch, want) {
		t.Errorf("step 2 patch lacks %s (no limit removes it): %s", want, p.Steps[1].Patch)
	}
	for _, want := range []string{`"sidecar.istio.io/proxyCPU":"300m"`, `"proxy.istio.io/config":null`} {
		if !strings.Contains(p.RestorePatch, want) {
			t.Errorf("restore patch lacks %s: %s", want, p.RestorePatch)
		}
	}
	if after := harness.Deployment(t, ns, "web"); after.ResourceVersion != before.ResourceVersion {
		t.Error("Plan changed the deployment")
	}
	if _, err := os.Stat(journal); !os.IsNotExist(err) {
		t.Errorf("Plan wrote a journal: %v", err)
	}
}

// startHelper runs helperSweep in a child process and waits for "applied".
func startHelper(t *testing.T, mode, ns, kubeconfig, journal string) (*exec.Cmd, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROXYSIZER_KUBE_HELPER="+mode, "HELPER_KUBECONFIG="+kubeconfig,
		"HELPER_NS="+ns, "HELPER_DEPLOYMENT=web", "HELPER_JOURNAL="+journal)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := bufio.NewScanner(out)
	got := make(chan bool, 1)
	go func() { got <- lines.Scan() && lines.Text() == "applied" }()
	select {
	case ok := <-got:
		if !ok {
			t.Fatalf("helper sweep did not apply its settings: %v", lines.Err())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("helper sweep did not apply its settings within 2 minutes")
	}
	return cmd, lines
}

func TestRestoreAfterKill9(t *testing.T) {
	ns := harness.Namespace(t, "kill")
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 2, map[string]string{sizing.AnnotationProxyConfig: "terminationDrainDuration: 45s\n"}))
	client, kubeconfig := saClient(t, ns)
	journal := filepath.Join(t.TempDir(), "state", "web.journal.json")
	cmd, _ := startHelper(t, "kill", ns, kubeconfig, journal)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if mid := harness.TemplateAnnotations(t, ns, "web"); mid[sizing.AnnotationProxyCPULimit] != "2" {
		t.Fatalf("the killed sweep's last setting is not in place: %v", mid)
	}
	j, err := cluster.ReadJournal(journal)
	if err != nil {
		t.Fatalf("reading the journal after kill -9: %v", err)
	}
	if j.RestoredAt != nil || len(j.Steps) != 2 {
		t.Fatalf("journal after kill -9: restored at %v, %d steps; want unrestored with the 2 applied", j.RestoredAt, len(j.Steps))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := cluster.RestoreFromJournal(ctx, client, journal, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if r.AlreadyRestored || r.Steps != 2 {
		t.Errorf("restore report %+v, want 2 steps undone now", r)
	}
	harness.AssertTemplateRestored(t, before)
	if r, err := cluster.RestoreFromJournal(ctx, client, journal, time.Minute); err != nil || !r.AlreadyRestored {
		t.Errorf("second restore: %+v, %v", r, err)
	}
}

func TestNextRunRestoresLeftoverJournal(t *testing.T) {
	ns := harness.Namespace(t, "next")
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 1, map[string]string{sizing.AnnotationProxyCPU: "250m"}))
	_, kubeconfig := saClient(t, ns)
	journal := filepath.Join(t.TempDir(), "web.journal.json")
	cmd, _ := startHelper(t, "kill", ns, kubeconfig, journal)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	// The next run finds the unrestored journal and restores it before
	// recording the original: its original is the true one.
	c, err := cluster.NewForClient(harness.Client, ns, cluster.Config{Deployment: "web", JournalPath: journal, RolloutTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Apply(ctx, results.Setting{Concurrency: 1, CPULimitMillicores: 100}); err != nil {
		t.Fatal(err)
	}
	j, err := cluster.ReadJournal(journal)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{sizing.AnnotationProxyCPU: "250m"}; !equality.Semantic.DeepEqual(j.OriginalAnnotations, want) {
		t.Fatalf("the second run recorded %v as the original, want the true one %v", j.OriginalAnnotations, want)
	}
	if err := c.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	harness.AssertTemplateRestored(t, before)
}

func TestRestoreOnSIGTERM(t *testing.T) {
	ns := harness.Namespace(t, "sigterm")
	before := harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 1, nil))
	_, kubeconfig := saClient(t, ns)
	journal := filepath.Join(t.TempDir(), "web.journal.json")
	cmd, lines := startHelper(t, "signal", ns, kubeconfig, journal)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool, 1)
	go func() { done <- lines.Scan() && lines.Text() == "restored" }()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("the sweep did not restore on SIGTERM")
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("no restore within 2 minutes of SIGTERM")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper exit: %v", err)
	}
	harness.AssertTemplateRestored(t, before)
	if j, err := cluster.ReadJournal(journal); err != nil || j.RestoredAt == nil {
		t.Errorf("journal not marked restored: %+v, %v", j, err)
	}
}

func TestRoleIsNotBroader(t *testing.T) {
	ns := harness.Namespace(t, "rbac")
	harness.CreateDeployment(t, kubeharness.NewDeployment(ns, "web", 1, nil))
	client, _ := saClient(t, ns)
	ctx := context.Background()
	err := client.AppsV1().Deployments(ns).Delete(ctx, "web", metav1.DeleteOptions{})
	kubeharness.Forbidden(t, "delete deployment", err)
	d := harness.Deployment(t, ns, "web")
	_, err = client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
	kubeharness.Forbidden(t, "update deployment", err)
	_, err = client.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	kubeharness.Forbidden(t, "list secrets", err)
	_, err = client.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	kubeharness.Forbidden(t, "get a deployment of another namespace", err)
	_, err = client.CoreV1().Pods(ns).Get(ctx, "x", metav1.GetOptions{})
	kubeharness.Forbidden(t, "get a pod", err)
}
