package cmd

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/driver/kube"
	"github.com/proxysizer/proxysizer/internal/input"
)

func init() { register(newRestoreCmd) }

func newRestoreCmd() *cobra.Command {
	var k kubeReadFlags
	var r cluster.RestoreRequest
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
	}
	fl := c.Flags()
	k.register(fl, cluster.DefaultRolloutTimeout, "how long the restore may take, the restoring rollout included")
	f := newFieldFlags(fl)
	f.bind(cluster.FieldJournal, &r.Journal, "journal", "the sweep's journal file")
	f.bind(cluster.FieldDeployment, &r.Deployment, "deployment", "the swept Deployment, to use its default journal (with -n)")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if err := k.validate(); err != nil {
			return err
		}
		r.Namespace, r.Names = k.Namespace, f.names(input.Names{cluster.FieldNamespace: "--namespace"})
		journal, err := r.JournalPath()
		if err != nil {
			return err
		}
		clients, err := k.Connect()
		if err != nil {
			return err
		}
		// --timeout bounds the whole restore, each request within it.
		ctx, cancel := context.WithTimeout(c.Context(), k.Timeout)
		defer cancel()
		u, err := kube.Undo(ctx, clients.Typed, journal, k.Timeout)
		u.Write(c.OutOrStdout(), journal)
		return err
	}
	return c
}
