package cmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/internal/input"
)

// kubeFlags are kubectl's connection flags (--kubeconfig, --context,
// -n/--namespace), registered here once for every command that talks to a
// cluster: hpa, inventory, restore and sweep --backend kubernetes.
type kubeFlags struct {
	cluster.Access
}

// register adds the flags. prefix starts each help text ("kubernetes: " in
// sweep, where most flags are the local backend's); namespaceOf says whose
// namespace -n is ("the" or "the Deployment's").
func (f *kubeFlags) register(fl *pflag.FlagSet, prefix, namespaceOf string) {
	f.Names = input.Names{cluster.FieldKubeconfig: "--kubeconfig", cluster.FieldContext: "--context", cluster.FieldNamespace: "--namespace"}
	fl.StringVar(&f.Kubeconfig, "kubeconfig", "", prefix+"path to the kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)")
	fl.StringVar(&f.Context, "context", "", prefix+"the kubeconfig context to use")
	fl.StringVarP(&f.Namespace, "namespace", "n", "", prefix+namespaceOf+" namespace (default: the context's, else default)")
}

// kubeReadFlags are the connection flags and --timeout of the commands
// that read a cluster and return (hpa, inventory, restore). The timeout
// bounds the whole command, and so each request (Access.Timeout).
type kubeReadFlags struct {
	kubeFlags
}

func (f *kubeReadFlags) register(fl *pflag.FlagSet, timeout time.Duration, timeoutHelp string) {
	f.kubeFlags.register(fl, "", "the")
	fl.DurationVar(&f.Timeout, "timeout", timeout, timeoutHelp)
}

func (f kubeReadFlags) validate() error {
	if err := f.Check(); err != nil {
		return err
	}
	if f.Timeout <= 0 {
		return flagError("timeout", "expected a duration > 0 such as 30s or 5m, got %s", f.Timeout)
	}
	return nil
}
