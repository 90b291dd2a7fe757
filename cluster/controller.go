package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"

	"github.com/proxysizer/proxysizer/results"
)

// DefaultRolloutTimeout bounds the wait for one rollout.
const DefaultRolloutTimeout = 5 * time.Minute

// Config selects the Deployment and how the controller treats it.
type Config struct {
	Access
	// Deployment is the Deployment whose sidecar is swept (required).
	Deployment string
	// JournalPath is where the journal goes (default: DefaultJournalPath).
	JournalPath string
	// RolloutTimeout bounds each rollout wait (default DefaultRolloutTimeout).
	RolloutTimeout time.Duration
	// Log receives one line per action (nil: discarded).
	Log io.Writer
	// Server is the API server's URL, recorded in the journal for its
	// reader (New sets it).
	Server string
}

// Controller patches one Deployment's sidecar settings and restores them.
// Its methods are safe for concurrent use (a Restore waits for an Apply in
// flight to return: cancel the Apply's context first, as a signal handler
// does).
type Controller struct {
	client    kubernetes.Interface
	namespace string
	name      string
	journal   string
	timeout   time.Duration
	log       io.Writer
	server    string

	mu       sync.Mutex
	original map[string]string // the template's annotations before the first patch
	sidecar  *SidecarResources // the sidecar's before the first patch, kept by every setting
	started  bool              // the journal is written: Restore has something to undo
}

// New connects as cfg.Access says (client-go's loading rules and in-cluster
// config).
func New(cfg Config) (*Controller, error) {
	clients, err := cfg.Access.Connect()
	if err != nil {
		return nil, err
	}
	if cfg.Server == "" {
		cfg.Server = clients.REST.Host
	}
	c, err := NewForClient(clients.Typed, clients.Namespace, cfg)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewForClient uses an existing client; namespace overrides cfg.Namespace
// when non-empty.
func NewForClient(client kubernetes.Interface, namespace string, cfg Config) (*Controller, error) {
	if namespace == "" {
		namespace = cfg.Namespace
	}
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	if cfg.Deployment == "" {
		return nil, errors.New("cluster: a Deployment name is required")
	}
	c := &Controller{client: client, namespace: namespace, name: cfg.Deployment,
		journal: cfg.JournalPath, timeout: cfg.RolloutTimeout, log: cfg.Log, server: cfg.Server}
	if c.journal == "" {
		c.journal = DefaultJournalPath(namespace, cfg.Deployment)
	}
	if c.timeout <= 0 {
		c.timeout = DefaultRolloutTimeout
	}
	if c.log == nil {
		c.log = io.Discard
	}
	return c, nil
}

// Namespace, Deployment and JournalPath say what the controller acts on.
func (c *Controller) Namespace() string   { return c.namespace }
func (c *Controller) Deployment() string  { return c.name }
func (c *Controller) JournalPath() string { return c.journal }

func (c *Controller) logf(format string, args ...any) {
	fmt.Fprintf(c.log, "kube: "+format+"\n", args...)
}

// Step is one setting's change: the managed annotations' values (nil:
// removed) and the JSON merge patch that sets them.
type Step struct {
	Setting     results.Setting    `json:"setting"`
	Annotations map[string]*string `json:"annotations"`
	Patch       string             `json:"patch"`
}

// Plan is what a sweep would do, for --dry-run.
type Plan struct {
	Namespace           string            `json:"namespace"`
	Deployment          string            `json:"deployment"`
	JournalPath         string            `json:"journal"`
	OriginalAnnotations map[string]string `json:"original_annotations"`
	// Sidecar is the sidecar's resources, which every setting keeps (the
	// key is the journal's).
	Sidecar SidecarResources `json:"baseline"`
	Steps   []Step           `json:"steps"`
	// RestorePatch puts the managed annotations back at the end.
	RestorePatch string `json:"restore_patch"`
}

// Plan reads the Deployment (and only reads) and returns the patches each
// setting would apply and the one restoring the original.
func (c *Controller) Plan(ctx context.Context, settings []results.Setting) (*Plan, error) {
	d, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	original := d.Spec.Template.Annotations
	sidecar, err := SidecarResourcesFor(ctx, c.client, DeploymentWorkload(d))
	if err != nil {
		return nil, err
	}
	p := &Plan{Namespace: c.namespace, Deployment: c.name, JournalPath: c.journal,
		OriginalAnnotations: maps.Clone(original), Sidecar: sidecar}
	for _, s := range settings {
		values, err := SettingAnnotations(original, sidecar, s)
		if err != nil {
			return nil, err
		}
		patch, err := AnnotationPatch(values, "")
		if err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, Step{Setting: s, Annotations: values, Patch: string(patch)})
	}
	rp, err := AnnotationPatch(RestoreValues(original), "")
	if err != nil {
		return nil, err
	}
	p.RestorePatch = string(rp)
	return p, nil
}

// Write prints the plan for a person: the sidecar's resources, each
// setting's patch, and the restoring patch.
func (p *Plan) Write(w io.Writer) error {
	fmt.Fprintf(w, "deployment %s/%s (journal %s)\n", p.Namespace, p.Deployment, p.JournalPath)
	fmt.Fprintf(w, "sidecar resources kept: %s\n", p.Sidecar.Source)
	for i, s := range p.Steps {
		fmt.Fprintf(w, "step %d: %s\n  kubectl patch deployment %s -n %s --type merge -p '%s'\n", i+1, s.Setting, p.Deployment, p.Namespace, shellQuoted(s.Patch))
	}
	_, err := fmt.Fprintf(w, "restore:\n  kubectl patch deployment %s -n %s --type merge -p '%s'\n", p.Deployment, p.Namespace, shellQuoted(p.RestorePatch))
	return err
}

// shellQuoted escapes s for a single-quoted shell word.
func shellQuoted(s string) string { return strings.ReplaceAll(s, "'", `'\''`) }

func (c *Controller) get(ctx context.Context) (*appsv1.Deployment, error) {
	d, err := c.client.AppsV1().Deployments(c.namespace).Get(ctx, c.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading deployment %s/%s: %w", c.namespace, c.name, err)
	}
	return d, nil
}

// begin records the original annotations in the journal before the first
// patch. A journal left unrestored by an earlier run for the same Deployment
// is restored first, so the original is the true one.
func (c *Controller) begin(ctx context.Context) error {
	if j, err := ReadJournal(c.journal); err == nil {
		if j.Namespace != c.namespace || j.Deployment != c.name {
			return fmt.Errorf("journal %s belongs to deployment %s/%s: use another journal file", c.journal, j.Namespace, j.Deployment)
		}
		if j.RestoredAt == nil {
			c.logf("an earlier run left %s/%s changed: restoring from %s first", c.namespace, c.name, c.journal)
			if _, err := RestoreFromJournal(ctx, c.client, c.journal, c.timeout); err != nil {
				return fmt.Errorf("restoring the earlier run's journal %s: %w", c.journal, err)
			}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading the journal: %w", err)
	}
	d, err := c.get(ctx)
	if err != nil {
		return err
	}
	sidecar, err := SidecarResourcesFor(ctx, c.client, DeploymentWorkload(d))
	if err != nil {
		return err
	}
	j := &Journal{
		Version: JournalVersion, Tool: "proxysizer", Namespace: c.namespace, Deployment: c.name,
		UID: d.UID, Server: c.server, CreatedAt: time.Now().UTC(),
		OriginalAnnotations: maps.Clone(d.Spec.Template.Annotations),
		ManagedKeys:         append([]string(nil), ManagedKeys...),
		Steps:               []JournalStep{}, SidecarResources: &sidecar, PID: os.Getpid(),
	}
	if err := WriteJournal(c.journal, j); err != nil {
		return fmt.Errorf("writing the journal before the first patch: %w", err)
	}
	c.original, c.sidecar, c.started = j.OriginalAnnotations, &sidecar, true
	c.logf("journal %s written; original annotations recorded", c.journal)
	return nil
}

// Apply patches the pod template for s (the journal first), then waits for
// the rollout: observedGeneration caught up, every replica updated and
// available, no old replica left. It fails after the rollout timeout.
func (c *Controller) Apply(ctx context.Context, s results.Setting) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		if err := c.begin(ctx); err != nil {
			return err
		}
	}
	values, err := SettingAnnotations(c.original, *c.sidecar, s)
	if err != nil {
		return err
	}
	j, err := ReadJournal(c.journal)
	if err != nil {
		return fmt.Errorf("reading the journal: %w", err)
	}
	j.Steps = append(j.Steps, JournalStep{Setting: s, At: time.Now().UTC()})
	j.RestoredAt = nil
	if err := WriteJournal(c.journal, j); err != nil {
		return err
	}
	c.logf("applying %s to %s/%s", s, c.namespace, c.name)
	gen, err := patchAnnotations(ctx, c.client, c.namespace, c.name, j.UID, values)
	if err != nil {
		return err
	}
	return WaitForRollout(ctx, c.client, c.namespace, c.name, gen, c.timeout)
}

// Restore puts the original annotations back and waits for the rollout. It
// does nothing when nothing was applied, and is idempotent. Call it with a
// context that is still live: see RestoreDetached for deferred and signal
// paths.
func (c *Controller) Restore(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		return nil
	}
	if _, err := RestoreFromJournal(ctx, c.client, c.journal, c.timeout); err != nil {
		return err
	}
	c.logf("restored the original annotations of %s/%s", c.namespace, c.name)
	return nil
}

// RestoreDetached restores with a fresh context (parent's values, not its
// cancellation) bounded by timeout (0: the rollout timeout plus a minute).
// It is what a sweep defers: it still runs after SIGINT/SIGTERM cancelled
// the sweep's context.
func (c *Controller) RestoreDetached(parent context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = c.timeout + time.Minute
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
	defer cancel()
	return c.Restore(ctx)
}

// patchAnnotations patches the managed annotations with the current
// resourceVersion as a precondition, re-reading and retrying on conflicts,
// and returns the Deployment's new generation.
func patchAnnotations(ctx context.Context, client kubernetes.Interface, ns, name string, uid types.UID, values map[string]*string) (int64, error) {
	var gen int64
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if uid != "" && d.UID != uid {
			return fmt.Errorf("deployment %s/%s was recreated (uid %s, journal has %s): not patching it", ns, name, d.UID, uid)
		}
		patch, err := AnnotationPatch(values, d.ResourceVersion)
		if err != nil {
			return err
		}
		out, err := client.AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "proxysizer"})
		if err != nil {
			return err
		}
		gen = out.Generation
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("patching deployment %s/%s: %w", ns, name, err)
	}
	return gen, nil
}

// WaitForRollout waits until the Deployment's controller has observed
// generation gen and the rollout is complete (kubectl rollout status's
// rules), or fails after timeout or when the progress deadline is exceeded.
func WaitForRollout(ctx context.Context, client kubernetes.Interface, ns, name string, gen int64, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		d, err := client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				return false, err
			}
			last = err.Error()
			return false, nil // transient: retried until the timeout
		}
		done, msg, err := RolloutComplete(d, gen)
		last = msg
		return done, err
	})
	if err != nil {
		if last != "" {
			return fmt.Errorf("rollout of deployment %s/%s: %w (last status: %s)", ns, name, err, last)
		}
		return fmt.Errorf("rollout of deployment %s/%s: %w", ns, name, err)
	}
	return nil
}

// RolloutComplete applies kubectl rollout status's rules to a Deployment.
func RolloutComplete(d *appsv1.Deployment, gen int64) (bool, string, error) {
	if d.Status.ObservedGeneration < gen || d.Status.ObservedGeneration < d.Generation {
		return false, fmt.Sprintf("waiting for the controller to observe generation %d (observed %d)", max(gen, d.Generation), d.Status.ObservedGeneration), nil
	}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentProgressing && cond.Reason == "ProgressDeadlineExceeded" {
			return false, "", fmt.Errorf("deployment %s/%s exceeded its progress deadline: %s", d.Namespace, d.Name, cond.Message)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.UpdatedReplicas < want:
		return false, fmt.Sprintf("%d of %d updated replicas", s.UpdatedReplicas, want), nil
	case s.Replicas > s.UpdatedReplicas:
		return false, fmt.Sprintf("%d old replicas pending termination", s.Replicas-s.UpdatedReplicas), nil
	case s.AvailableReplicas < s.UpdatedReplicas:
		return false, fmt.Sprintf("%d of %d updated replicas available", s.AvailableReplicas, s.UpdatedReplicas), nil
	}
	return true, "rolled out", nil
}

// RestoreReport says what RestoreFromJournal did.
type RestoreReport struct {
	Namespace       string `json:"namespace"`
	Deployment      string `json:"deployment"`
	AlreadyRestored bool   `json:"already_restored"`
	Steps           int    `json:"steps_undone"`
}

// RestoreFromJournal puts back the managed annotations recorded in the
// journal at path (removing those that were absent), waits for the rollout
// and marks the journal restored. A journal already marked restored is left
// alone. It refuses a Deployment recreated since (another UID).
func RestoreFromJournal(ctx context.Context, client kubernetes.Interface, path string, timeout time.Duration) (RestoreReport, error) {
	j, err := ReadJournal(path)
	if err != nil {
		return RestoreReport{}, err
	}
	r := RestoreReport{Namespace: j.Namespace, Deployment: j.Deployment, Steps: len(j.Steps)}
	if j.RestoredAt != nil {
		r.AlreadyRestored = true
		return r, nil
	}
	if timeout <= 0 {
		timeout = DefaultRolloutTimeout
	}
	values := make(map[string]*string, len(j.ManagedKeys))
	for _, k := range j.ManagedKeys {
		if v, ok := j.OriginalAnnotations[k]; ok {
			values[k] = strPtr(v)
		} else {
			values[k] = nil
		}
	}
	gen, err := patchAnnotations(ctx, client, j.Namespace, j.Deployment, j.UID, values)
	if err != nil {
		return r, err
	}
	if err := WaitForRollout(ctx, client, j.Namespace, j.Deployment, gen, timeout); err != nil {
		return r, err
	}
	now := time.Now().UTC()
	j.RestoredAt = &now
	if err := WriteJournal(path, j); err != nil {
		return r, fmt.Errorf("restored, but marking the journal failed: %w", err)
	}
	return r, nil
}
