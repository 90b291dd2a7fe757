package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/driver/kube"
)

func init() { register(newRestoreCmd) }

type restoreFlags struct {
	kube       kubeReadFlags
	journal    string
	deployment string
}

func newRestoreCmd() *cobra.Command {
	var f restoreFlags
	c := &cobra.Command{
		Use:   "restore",
		Short: "Put back a Deployment's sidecar annotations after an interrupted Kubernetes sweep",
		Long: `restore undoes what a Kubernetes sweep changed, from the journal the sweep
wrote before its first patch: the pod template's sidecar annotations
(proxy.istio.io/config and the four sidecar.istio.io resource annotations)
get their original values back, and those that were absent are removed.
It waits for the rollout and marks the journal restored; running it again
does nothing. Use it after the sweep was killed (kill -9, a lost node).`,
		Example: `  proxysizer restore --journal ~/.local/state/proxysizer/kube-shop-web.journal.json
  proxysizer restore -n shop --deployment web     # the default journal of shop/web`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			journal, err := f.journalPath()
			if err != nil {
				return err
			}
			clients, err := f.kube.Connect()
			if err != nil {
				return err
			}
			// --timeout bounds the whole restore, each request within it.
			ctx, cancel := context.WithTimeout(c.Context(), f.kube.Timeout)
			defer cancel()
			r, err := kube.Undo(ctx, clients.Typed, journal, f.kube.Timeout)
			writeUndo(c.OutOrStdout(), r, journal)
			return err
		},
	}
	fl := c.Flags()
	f.kube.register(fl, cluster.DefaultRolloutTimeout, "how long the restore may take, the restoring rollout included")
	fl.StringVar(&f.journal, "journal", "", "the sweep's journal file")
	fl.StringVar(&f.deployment, "deployment", "", "the swept Deployment, to use its default journal (with -n)")
	return c
}

// journalPath checks the flags and returns the journal to restore from:
// --journal, or the default journal of -n/--deployment.
func (f restoreFlags) journalPath() (string, error) {
	if err := f.kube.validate(); err != nil {
		return "", err
	}
	journal := f.journal
	switch {
	case f.journal != "" && f.deployment != "":
		return "", flagError("deployment", "give either --journal or --deployment (with -n), not both")
	case f.journal == "" && f.deployment == "":
		return "", flagError("journal", "required: the journal file of the sweep to undo (or --deployment with -n for its default journal)")
	case f.journal == "":
		if len(validation.IsDNS1123Subdomain(f.deployment)) > 0 {
			return "", flagError("deployment", "expected a Deployment name, got %q", f.deployment)
		}
		if f.kube.Namespace == "" {
			return "", flagError("namespace", "required with --deployment: the Deployment's namespace")
		}
		journal = cluster.DefaultJournalPath(f.kube.Namespace, f.deployment)
	}
	if _, err := cluster.ReadJournal(journal); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", flagError("journal", "no journal at %s", journal)
		}
		return "", flagError("journal", "%v", err)
	}
	return journal, nil
}

// writeUndo says what was undone, as far as it went.
func writeUndo(out io.Writer, r kube.UndoReport, journal string) {
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
