package cluster

import (
	"fmt"
	"time"

	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Access says how to reach a cluster, as kubectl does: a kubeconfig file, a
// context in it and a namespace. Empty values follow client-go's standard
// loading rules ($KUBECONFIG, ~/.kube/config, then the in-cluster service
// account).
type Access struct {
	Kubeconfig string
	Context    string
	Namespace  string
}

// RESTConfig resolves the access to a client configuration and the
// namespace to use: the given one, else the context's, else "default" (in a
// pod: the pod's namespace).
func (a Access) RESTConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = a.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: a.Context}
	if a.Namespace != "" {
		overrides.Context.Namespace = a.Namespace
	}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("loading the Kubernetes client configuration: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("resolving the namespace: %w", err)
	}
	cfg.UserAgent = "proxysizer"
	cfg.QPS, cfg.Burst = 20, 40
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second // per request; the caller's context bounds the rest
	}
	return cfg, ns, nil
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
