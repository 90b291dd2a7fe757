package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/loadgen"
)

// Labels on every load generator pod, so that a pod left behind by a
// killed sweep can be found (DeleteLoadPods: the next sweep of the same
// Deployment and `proxysizer restore` remove them).
const (
	LabelManagedBy = "app.kubernetes.io/managed-by" // = proxysizer
	LabelRole      = "proxysizer.io/role"           // = load-generator
	LabelTarget    = "proxysizer.io/target"         // the swept Deployment
	LabelRun       = "proxysizer.io/run"            // one sweep's id
	roleLoad       = "load-generator"
)

// LoadImageRepository is the name of the load generator image, the one the
// Dockerfile at the repository's root builds (`make image`): proxysizer
// itself, whose default command is the load agent. DefaultLoadImage tags
// it with a build's version.
const LoadImageRepository = "proxysizer"

// DefaultLoadImage is the load generator image of a build of the given
// version: LoadImageRepository tagged with it, so that the pods run the
// agent of the same build as the sweep that drives them (one engine, one
// API). A cluster pulls it from wherever it was pushed: most sweeps name
// their registry's copy instead (BackendConfig.LoadImage).
func DefaultLoadImage(version string) string { return LoadImageRepository + ":" + version }

// agentPort is where the load pods serve the agent's API.
const agentPort = loadgen.DefaultAgentPort

// agentUser is the image's non-root user (distroless "nonroot", 65532),
// numeric so that the kubelet can check runAsNonRoot.
const agentUser = 65532

// maxWatchDrops bounds how often the watch of the load pods may be closed
// by the API server before the wait gives up: a watch that ends is normal
// now and then (timeouts, restarts), one that keeps ending is a failure to
// report, not to loop on.
const maxWatchDrops = 3

// LoadPodSelector selects the load generator pods of sweeps of deployment.
func LoadPodSelector(deployment string) string {
	return labels.Set{LabelManagedBy: "proxysizer", LabelRole: roleLoad, LabelTarget: deployment}.String()
}

// DeleteLoadPods deletes the load generator pods of sweeps of deployment in
// ns (all runs: a sweep's own at the end, a killed one's leftovers at the
// next start) and returns how many it deleted.
func DeleteLoadPods(ctx context.Context, client kubernetes.Interface, ns, deployment string) (int, error) {
	return deletePods(ctx, client, ns, LoadPodSelector(deployment))
}

func deletePods(ctx context.Context, client kubernetes.Interface, ns, selector string) (int, error) {
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return 0, fmt.Errorf("listing load generator pods (%s): %w", selector, err)
	}
	zero := int64(0)
	n := 0
	var errs []error
	for _, p := range pods.Items {
		err := client.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		switch {
		case err == nil:
			n++
		case apierrors.IsNotFound(err):
		default:
			errs = append(errs, fmt.Errorf("deleting load generator pod %s/%s: %w", ns, p.Name, err))
		}
	}
	return n, errors.Join(errs...)
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loadPod is the pod spec of one load generator: the load agent
// (`proxysizer load --serve`), without privileges: non-root, no
// capabilities, no privilege escalation, a read-only root file system and
// the runtime's default seccomp profile (the "restricted" Pod Security
// Standard). Without CAP_SYS_NICE its event loops cannot run at real-time
// priority; its results say so (Summary.GeneratorRealtime).
func loadPod(ns, deployment, run, image string, nodeSelector map[string]string) *corev1.Pod {
	prefix := "proxysizer-load-" + deployment
	if len(prefix) > 50 {
		prefix = prefix[:50]
	}
	lbl := map[string]string{LabelManagedBy: "proxysizer", LabelRole: roleLoad, LabelTarget: deployment, LabelRun: run}
	no, yes := false, true
	grace := int64(1)
	uid := int64(agentUser)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, GenerateName: strings.TrimSuffix(prefix, "-") + "-", Labels: lbl,
			Annotations: map[string]string{
				// The load goes out through the pod's sidecar (the mesh), but
				// the agent's API, reached through the API server's pod proxy,
				// must not need mTLS: keep its port out of the inbound capture.
				"traffic.sidecar.istio.io/excludeInboundPorts": fmt.Sprint(agentPort),
			},
		},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken:  &no,
			TerminationGracePeriodSeconds: &grace,
			NodeSelector:                  nodeSelector,
			SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: &yes, RunAsUser: &uid, RunAsGroup: &uid,
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
			Containers: []corev1.Container{{
				Name: "load-agent", Image: image,
				// The image's entry point is the binary; the arguments are
				// explicit so that an image with another default command
				// still serves the agent.
				Args:  []string{"load", "--serve", fmt.Sprintf(":%d", agentPort)},
				Ports: []corev1.ContainerPort{{Name: "agent", ContainerPort: agentPort}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
					Path: "/healthz", Port: intstr.FromInt32(agentPort)}}},
				SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: &no, ReadOnlyRootFilesystem: &yes,
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
				}},
			}},
		},
	}
}

// createLoadPods creates n load generator pods and returns their names.
func createLoadPods(ctx context.Context, client kubernetes.Interface, ns, deployment, run, image string, n int, nodeSelector map[string]string) ([]string, error) {
	var names []string
	for range n {
		p, err := client.CoreV1().Pods(ns).Create(ctx, loadPod(ns, deployment, run, image, nodeSelector), metav1.CreateOptions{FieldManager: "proxysizer"})
		if err != nil {
			return names, fmt.Errorf("creating a load generator pod in %s: %w", ns, err)
		}
		names = append(names, p.Name)
	}
	return names, nil
}

// waitPodsReady waits until want pods matching selector are Ready, from a
// list then a watch (re-listed when the API server closes it, at most
// maxWatchDrops times), or fails after timeout with each pod's state. An
// image that cannot be pulled fails at once.
func waitPodsReady(ctx context.Context, client kubernetes.Interface, ns, selector string, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pods := map[string]*corev1.Pod{}
	drops := 0
	for {
		list, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			if ctx.Err() != nil {
				return notReadyError(ctx, pods, want, timeout)
			}
			return fmt.Errorf("listing the load generator pods: %w", err)
		}
		clear(pods)
		for i := range list.Items {
			pods[list.Items[i].Name] = &list.Items[i]
		}
		if done, err := podsReady(pods, want); done || err != nil {
			return err
		}
		w, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector, ResourceVersion: list.ResourceVersion})
		if err != nil {
			if ctx.Err() != nil {
				return notReadyError(ctx, pods, want, timeout)
			}
			return fmt.Errorf("watching the load generator pods: %w", err)
		}
		closed, err := consume(ctx, w, pods, want)
		w.Stop()
		if err != nil || !closed {
			return err
		}
		if ctx.Err() != nil {
			return notReadyError(ctx, pods, want, timeout)
		}
		drops++
		if drops >= maxWatchDrops {
			return fmt.Errorf("the API server closed the watch of the load generator pods %d times before they were ready (%s)", drops, podStates(pods))
		}
	}
}

// consume applies watch events until the pods are ready (closed false, err
// nil), the watch is closed by the server (closed true) or ctx ends.
func consume(ctx context.Context, w watch.Interface, pods map[string]*corev1.Pod, want int) (closed bool, err error) {
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return true, nil
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				if p, ok := ev.Object.(*corev1.Pod); ok {
					pods[p.Name] = p
				}
			case watch.Deleted:
				if p, ok := ev.Object.(*corev1.Pod); ok {
					delete(pods, p.Name)
				}
			case watch.Error:
				return true, nil // e.g. 410 Gone: re-list
			}
			if done, err := podsReady(pods, want); done || err != nil {
				return false, err
			}
		}
	}
}

// podsReady reports whether want pods are Ready, or an error for a pod that
// will never be (an image that cannot be pulled, a failed pod).
func podsReady(pods map[string]*corev1.Pod, want int) (bool, error) {
	ready := 0
	for _, p := range pods {
		if p.Status.Phase == corev1.PodFailed {
			return false, fmt.Errorf("load generator pod %s failed: %s %s", p.Name, p.Status.Reason, p.Status.Message)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil && (w.Reason == "ErrImagePull" || w.Reason == "ImagePullBackOff" || w.Reason == "InvalidImageName") {
				return false, fmt.Errorf("load generator pod %s cannot pull its image (%s): %s: %s (--load-image)", p.Name, cs.Image, w.Reason, w.Message)
			}
		}
		if p.DeletionTimestamp == nil && cluster.PodReady(p) {
			ready++
		}
	}
	return ready >= want, nil
}

func notReadyError(ctx context.Context, pods map[string]*corev1.Pod, want int, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err()
	}
	return fmt.Errorf("load generator pods not ready within %v (want %d: %s)", timeout, want, podStates(pods))
}

// podStates says, per pod, why it is not ready: phase, unscheduled reason,
// waiting containers.
func podStates(pods map[string]*corev1.Pod) string {
	if len(pods) == 0 {
		return "no pod seen"
	}
	names := make([]string, 0, len(pods))
	for n := range pods {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		p := pods[n]
		s := fmt.Sprintf("%s %s", n, p.Status.Phase)
		if cluster.PodReady(p) {
			s += " ready"
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status != corev1.ConditionTrue && c.Message != "" {
				s += ", unschedulable: " + c.Message
			}
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason != "" {
				s += ", " + cs.Name + " waiting: " + cs.State.Waiting.Reason
			}
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// UndoReport says what Undo did.
type UndoReport struct {
	cluster.RestoreReport
	// Restored is true once the annotations are back (or were already).
	Restored        bool
	LoadPodsDeleted int
}

// Undo puts back what a killed sweep changed: the Deployment's annotations
// from its journal (waiting up to timeout for the rollout), then the load
// generator pods it left. The report says what was done before any error.
func Undo(ctx context.Context, client kubernetes.Interface, journal string, timeout time.Duration) (UndoReport, error) {
	r, err := cluster.RestoreFromJournal(ctx, client, journal, timeout)
	if err != nil {
		return UndoReport{}, fmt.Errorf("restore from %s: %w", journal, err)
	}
	out := UndoReport{RestoreReport: r, Restored: true}
	if out.LoadPodsDeleted, err = DeleteLoadPods(ctx, client, r.Namespace, r.Deployment); err != nil {
		return out, fmt.Errorf("deleting the sweep's load pods: %w", err)
	}
	return out, nil
}
