package cluster

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/proxysizer/proxysizer/results"
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

// ReadJournal reads and checks a journal file.
func ReadJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j Journal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("journal %s: %w", path, err)
	}
	if j.Version != JournalVersion || j.Tool != "proxysizer" {
		return nil, fmt.Errorf("journal %s: not a proxysizer journal of version %d", path, JournalVersion)
	}
	if j.Namespace == "" || j.Deployment == "" || len(j.ManagedKeys) == 0 {
		return nil, fmt.Errorf("journal %s: namespace, deployment and managed_keys are required", path)
	}
	return &j, nil
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
