package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/proxysizer/proxysizer/driver/kube"
)

func init() { register(newRestoreCmd) }

// kubeFlags are kubectl's connection flags, shared by the commands that talk
// to a cluster (hpa, inventory, restore, sweep --backend kubernetes).
type kubeFlags struct {
	kube.ClientFlags
	timeout time.Duration
}

func addKubeFlags(fl *pflag.FlagSet, f *kubeFlags, timeout time.Duration, timeoutHelp string) {
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
	fl.StringVar(&f.Context, "context", "", "the kubeconfig context to use")
	fl.StringVarP(&f.Namespace, "namespace", "n", "", "the namespace (default: the context's, else default)")
	fl.DurationVar(&f.timeout, "timeout", timeout, timeoutHelp)
}

// validate checks the flags' form (not whether the cluster answers).
func (f *kubeFlags) validate() error {
	if f.Namespace != "" && len(validation.IsDNS1123Label(f.Namespace)) > 0 {
		return flagError("namespace", "expected a namespace name (lower-case letters, digits, '-'), got %q", f.Namespace)
	}
	if f.Kubeconfig != "" {
		if st, err := os.Stat(f.Kubeconfig); err != nil || st.IsDir() {
			return flagError("kubeconfig", "expected a readable kubeconfig file, got %q", f.Kubeconfig)
		}
	}
	if f.timeout <= 0 {
		return flagError("timeout", "expected a duration > 0 such as 30s or 5m, got %s", f.timeout)
	}
	return nil
}

// clients connects and returns the typed and dynamic clients and the
// namespace to use.
func (f *kubeFlags) clients() (kubernetes.Interface, dynamic.Interface, string, error) {
	cs, rc, ns, err := f.Clientset()
	if err != nil {
		return nil, nil, "", err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, nil, "", err
	}
	return cs, dyn, ns, nil
}

func newRestoreCmd() *cobra.Command {
	var (
		kf         kubeFlags
		journal    string
		deployment string
	)
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
			if err := kf.validate(); err != nil {
				return err
			}
			switch {
			case journal != "" && deployment != "":
				return flagError("deployment", "give either --journal or --deployment (with -n), not both")
			case journal == "" && deployment == "":
				return flagError("journal", "required: the journal file of the sweep to undo (or --deployment with -n for its default journal)")
			case journal == "":
				if len(validation.IsDNS1123Subdomain(deployment)) > 0 {
					return flagError("deployment", "expected a Deployment name, got %q", deployment)
				}
				if kf.Namespace == "" {
					return flagError("namespace", "required with --deployment: the Deployment's namespace")
				}
				journal = kube.DefaultJournalPath(kf.Namespace, deployment)
			}
			if _, err := kube.ReadJournal(journal); err != nil {
				if errors.Is(err, os.ErrNotExist) {
					return flagError("journal", "no journal at %s", journal)
				}
				return badInput("%v", err)
			}
			client, _, _, err := kf.clients()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Context(), kf.timeout+time.Minute)
			defer cancel()
			r, err := kube.RestoreFromJournal(ctx, client, journal, kf.timeout)
			if err != nil {
				return fmt.Errorf("restore from %s: %w", journal, err)
			}
			out := c.OutOrStdout()
			if r.AlreadyRestored {
				fmt.Fprintf(out, "deployment %s/%s: already restored (journal %s)\n", r.Namespace, r.Deployment, journal)
			} else {
				fmt.Fprintf(out, "deployment %s/%s: original sidecar annotations restored and rolled out (%d setting(s) undone; journal %s)\n", r.Namespace, r.Deployment, r.Steps, journal)
			}
			// A killed sweep also leaves its load generators running.
			n, err := kube.DeleteLoadPods(ctx, client, r.Namespace, r.Deployment)
			if err != nil {
				return fmt.Errorf("deleting the sweep's load pods: %w", err)
			}
			if n > 0 {
				fmt.Fprintf(out, "deployment %s/%s: %d leftover load pod(s) deleted\n", r.Namespace, r.Deployment, n)
			}
			return nil
		},
	}
	fl := c.Flags()
	addKubeFlags(fl, &kf, kube.DefaultRolloutTimeout, "how long to wait for the restoring rollout")
	fl.StringVar(&journal, "journal", "", "the sweep's journal file")
	fl.StringVar(&deployment, "deployment", "", "the swept Deployment, to use its default journal (with -n)")
	return c
}
