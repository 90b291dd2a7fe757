package kube

import (
	"fmt"
	"io"
)

// Write says what Undo did from journal, as far as it went: nothing when
// it restored nothing.
func (r UndoReport) Write(out io.Writer, journal string) {
	switch {
	case !r.Restored:
		return
	case r.AlreadyRestored:
		fmt.Fprintf(out, "deployment %s/%s: already restored (journal %s)\n", r.Namespace, r.Deployment, journal)
	default:
		fmt.Fprintf(out, "deployment %s/%s: original sidecar annotations restored and rolled out (%d setting(s) undone; journal %s)\n", r.Namespace, r.Deployment, r.Steps, journal)
	}
	if r.LoadPodsDeleted > 0 {
		fmt.Fprintf(out, "deployment %s/%s: %d leftover load pod(s) deleted\n", r.Namespace, r.Deployment, r.LoadPodsDeleted)
	}
}
