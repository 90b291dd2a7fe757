package kube

import (
	"fmt"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultRolloutTimeout bounds the wait for one rollout.
const DefaultRolloutTimeout = 5 * time.Minute

// ClientFlags are kubectl's connection flags: --kubeconfig, --context and
// -n/--namespace. Empty values follow client-go's standard loading rules
// ($KUBECONFIG, ~/.kube/config, then the in-cluster service account).
type ClientFlags struct {
	Kubeconfig string
	Context    string
	Namespace  string
}

// RESTConfig resolves the flags to a client configuration and the namespace
// to use: the flag, else the context's namespace, else "default" (in a pod:
// the pod's namespace).
func (f ClientFlags) RESTConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = f.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: f.Context}
	if f.Namespace != "" {
		overrides.Context.Namespace = f.Namespace
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

// Clientset builds a typed client from the flags and returns it with the
// resolved namespace.
func (f ClientFlags) Clientset() (kubernetes.Interface, *rest.Config, string, error) {
	cfg, ns, err := f.RESTConfig()
	if err != nil {
		return nil, nil, "", err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, nil, "", err
	}
	return cs, cfg, ns, nil
}
