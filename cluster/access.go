package cluster

import (
	"errors"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/internal/safefile"
)

// Access says how to reach a cluster, as kubectl does: a kubeconfig file, a
// context in it and a namespace. Empty values follow client-go's standard
// loading rules ($KUBECONFIG, ~/.kube/config, then the in-cluster service
// account).
type Access struct {
	Kubeconfig string
	Context    string
	Namespace  string
	// Timeout, when set, bounds every request (connecting and the TLS
	// handshake included) to at most that long; the caller's context
	// bounds the whole.
	Timeout time.Duration
	// Names shows the access's inputs in the caller's words.
	Names input.Names
}

// The inputs of an Access, as its problems name them.
const (
	FieldKubeconfig input.Field = "kubeconfig"
	FieldContext    input.Field = "context"
)

// Check checks the access's form (not whether the cluster answers): a
// namespace name, a readable kubeconfig file.
func (a Access) Check() error {
	if a.Namespace != "" && len(validation.IsDNS1123Label(a.Namespace)) > 0 {
		return a.Names.Errorf(FieldNamespace, "expected a namespace name (lower-case letters, digits, '-'), got %q", a.Namespace)
	}
	if a.Kubeconfig != "" {
		if err := safefile.CheckReadable(a.Kubeconfig, safefile.MaxKubeconfig); err != nil {
			return a.Names.Errorf(FieldKubeconfig, "expected a readable kubeconfig file: %v", err)
		}
	}
	return nil
}

// requestTimeout bounds one request when Access.Timeout does not.
const requestTimeout = 30 * time.Second

// RESTConfig resolves the access to a client configuration and the
// namespace to use: the given one, else the context's, else "default" (in a
// pod: the pod's namespace). A configuration that cannot be loaded (no
// kubeconfig, one that does not parse or is not a regular file of bounded
// size, an unknown context) is an *input.Error naming the kubeconfig or the
// context.
func (a Access) RESTConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = a.Kubeconfig
	if err := checkKubeconfigFiles(rules); err != nil {
		return nil, "", a.Names.Errorf(FieldKubeconfig, "%v", err)
	}
	overrides := &clientcmd.ConfigOverrides{CurrentContext: a.Context}
	if a.Namespace != "" {
		overrides.Context.Namespace = a.Namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	if err := a.checkContext(cc); err != nil {
		return nil, "", err
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", a.configError(err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", a.configError(err)
	}
	cfg.UserAgent = "proxysizer"
	cfg.QPS, cfg.Burst = 20, 40
	if cfg.Timeout == 0 || cfg.Timeout > requestTimeout {
		cfg.Timeout = requestTimeout
	}
	if a.Timeout > 0 && a.Timeout < cfg.Timeout {
		cfg.Timeout = a.Timeout
	}
	return cfg, ns, nil
}

// checkContext refuses a context the kubeconfig does not hold, naming the
// ones it does.
func (a Access) checkContext(cc clientcmd.ClientConfig) error {
	if a.Context == "" {
		return nil
	}
	raw, err := cc.RawConfig()
	if err != nil {
		return a.configError(err)
	}
	if _, ok := raw.Contexts[a.Context]; ok {
		return nil
	}
	names := slices.Sorted(maps.Keys(raw.Contexts))
	if len(names) == 0 {
		return a.Names.Errorf(FieldContext, "no context %q: the kubeconfig holds no context", a.Context)
	}
	return a.Names.Errorf(FieldContext, "no context %q in the kubeconfig: expected one of %s", a.Context, strings.Join(names, ", "))
}

// configError names the input a client configuration failed on.
func (a Access) configError(err error) error {
	switch {
	case clientcmd.IsContextNotFound(err):
		return a.Names.Errorf(FieldContext, "%v", err)
	case clientcmd.IsEmptyConfig(err):
		return a.Names.Errorf(FieldKubeconfig, "no Kubernetes client configuration found ($KUBECONFIG, ~/.kube/config, or a pod's service account)")
	}
	return a.Names.Errorf(FieldKubeconfig, "loading the Kubernetes client configuration: %v", err)
}

// checkKubeconfigFiles refuses, before client-go reads them, kubeconfig
// files that are not regular files of bounded size: a kubeconfig of
// /dev/zero would read forever.
func checkKubeconfigFiles(rules *clientcmd.ClientConfigLoadingRules) error {
	paths := rules.Precedence
	if rules.ExplicitPath != "" {
		paths = []string{rules.ExplicitPath}
	}
	for _, path := range paths {
		if err := safefile.CheckReadable(path, safefile.MaxKubeconfig); err != nil && (path == rules.ExplicitPath || !errors.Is(err, fs.ErrNotExist)) {
			return err
		}
	}
	return nil
}

// Clients are the clients of one cluster and the namespace to work in.
type Clients struct {
	Typed     kubernetes.Interface
	Dynamic   dynamic.Interface // for custom resources (Istio's Sidecar)
	REST      *rest.Config
	Namespace string
}

// Connect builds the typed and dynamic clients. It sends no request: an
// unreachable server shows at the first call.
func (a Access) Connect() (*Clients, error) {
	rc, ns, err := a.RESTConfig()
	if err != nil {
		return nil, err
	}
	return NewClients(rc, ns)
}

// NewClients builds the clients of an existing configuration.
func NewClients(rc *rest.Config, namespace string) (*Clients, error) {
	typed, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	return &Clients{Typed: typed, Dynamic: dyn, REST: rc, Namespace: namespace}, nil
}
