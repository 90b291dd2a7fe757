package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/proxysizer/proxysizer/internal/safefile"
	"github.com/proxysizer/proxysizer/results"
	"github.com/proxysizer/proxysizer/sizing"
)

// JournalVersion is the journal format's version.
const JournalVersion = 1

// Journal records what a run changed, written before the first patch, so
// that `proxysizer restore --journal FILE` (or the next run) can undo it
// after a crash. The file is replaced atomically on every change.
type Journal struct {
	Version    int       `json:"version"`
	Tool       string    `json:"tool"`
	Namespace  string    `json:"namespace"`
	Deployment string    `json:"deployment"`
	UID        types.UID `json:"uid"`
	// Server is the API server's URL, for the reader's information.
	Server    string    `json:"server,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// OriginalAnnotations is the pod template's whole annotation map before
	// the first patch (null: the template had none). A key absent here is
	// removed on restore.
	OriginalAnnotations map[string]string `json:"original_annotations"`
	// ManagedKeys are the annotations the run sets and a restore puts back.
	ManagedKeys []string      `json:"managed_keys"`
	Steps       []JournalStep `json:"steps"`
	RestoredAt  *time.Time    `json:"restored_at,omitempty"`
	// SidecarResources are the sidecar's before the first patch, which
	// every setting kept (the key is "baseline", as journals of earlier
	// versions spell it).
	SidecarResources *SidecarResources `json:"baseline,omitempty"`
	PID              int               `json:"pid"`
	Extra            map[string]any    `json:"extra,omitempty"`
}

// JournalStep is one setting the run patched in (or was about to).
type JournalStep struct {
	Setting results.Setting `json:"setting"`
	At      time.Time       `json:"at"`
}

// DefaultJournalPath is where a run for namespace/deployment keeps its
// journal when none is given: $XDG_STATE_HOME/proxysizer (or
// ~/.local/state/proxysizer)/kube-NAMESPACE-DEPLOYMENT.journal.json.
func DefaultJournalPath(namespace, deployment string) string {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			home = os.TempDir()
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "proxysizer", fmt.Sprintf("kube-%s-%s.journal.json", namespace, deployment))
}

// ErrBadJournal is a journal file that cannot be trusted to restore from:
// not a regular file, too large, not a proxysizer journal, or one naming
// an object or an annotation a sweep never touches.
var ErrBadJournal = errors.New("not a journal proxysizer can restore from")

// ReadJournal reads and checks a journal file. A restore patches the
// cluster with what the journal says, so nothing in it is trusted: an
// edited journal could otherwise remove any annotation of any Deployment.
func ReadJournal(path string) (*Journal, error) {
	data, err := safefile.ReadFile(path, safefile.MaxJournal)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJournal, err)
	}
	j, err := ParseJournal(data)
	if err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	return j, nil
}

// ParseJournal reads a journal's content and checks it: the format and
// version, the namespace and Deployment names, and that the keys it
// restores are only the managed ones (ManagedKeys), with values of their
// kind (a ProxyConfig document, CPU and memory quantities).
func ParseJournal(data []byte) (*Journal, error) {
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrBadJournal, err)
	}
	if err := j.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJournal, err)
	}
	return &j, nil
}

func (j *Journal) check() error {
	switch {
	case j.Version != JournalVersion || j.Tool != "proxysizer":
		return fmt.Errorf("not a proxysizer journal of version %d", JournalVersion)
	case j.Namespace == "" || j.Deployment == "" || len(j.ManagedKeys) == 0:
		return errors.New("namespace, deployment and managed_keys are required")
	case len(validation.IsDNS1123Label(j.Namespace)) > 0:
		return fmt.Errorf("namespace %q is not a namespace name (lower-case letters, digits, '-')", j.Namespace)
	case len(validation.IsDNS1123Subdomain(j.Deployment)) > 0:
		return fmt.Errorf("deployment %q is not a Deployment name (lower-case letters, digits, '-', '.')", j.Deployment)
	case len(j.UID) > 128:
		return fmt.Errorf("uid is %d characters long, not a Kubernetes UID", len(j.UID))
	}
	seen := map[string]bool{}
	for _, k := range j.ManagedKeys {
		if !slices.Contains(ManagedKeys, k) {
			return fmt.Errorf("managed_keys holds %q, which a sweep never sets (only %s)", k, strings.Join(ManagedKeys, ", "))
		}
		if seen[k] {
			return fmt.Errorf("managed_keys holds %q twice", k)
		}
		seen[k] = true
	}
	if errs := apivalidation.ValidateAnnotations(j.OriginalAnnotations, field.NewPath("original_annotations")); len(errs) > 0 {
		return errs.ToAggregate()
	}
	for _, k := range j.ManagedKeys {
		if v, ok := j.OriginalAnnotations[k]; ok {
			if err := checkManagedValue(k, v); err != nil {
				return fmt.Errorf("original_annotations[%q]: %w", k, err)
			}
		}
	}
	for i, st := range j.Steps {
		if st.Setting.Concurrency < 0 || st.Setting.CPULimitMillicores < 0 {
			return fmt.Errorf("steps[%d]: concurrency and CPU limit must be >= 0", i)
		}
	}
	return nil
}

// checkManagedValue: a restored value is of its annotation's kind.
func checkManagedValue(key, value string) error {
	if key == sizing.AnnotationProxyConfig {
		fields := map[string]any{}
		if err := yaml.Unmarshal([]byte(value), &fields); err != nil {
			return fmt.Errorf("not a ProxyConfig YAML document: %v", err)
		}
		return nil
	}
	q, err := resource.ParseQuantity(value)
	if err != nil || q.Sign() < 0 {
		return fmt.Errorf("%q is not a resource quantity", value)
	}
	return nil
}

// WriteJournal writes j to path atomically: a temporary file in the same
// directory, fsynced, renamed over path, and the directory fsynced, so a
// crash leaves either the old or the new journal, never a torn one.
func WriteJournal(path string, j *Journal) error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return results.WriteFileAtomicMode(path, append(data, '\n'), 0o600)
}
