package cmd

import (
	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/cluster/prom"
	"github.com/proxysizer/proxysizer/internal/input"
)

// bindPromFlags registers the Prometheus connection flags of capacity,
// check and hpa --replay, once, on the config the command's request
// holds. prefix starts each help text ("with --replay: " in hpa); urlHelp
// says what the Prometheus holds for the command.
func bindPromFlags(f fieldFlags, c *prom.Config, prefix, urlHelp string) {
	f.bind(prom.FieldURL, &c.URL, "prometheus-url", prefix+urlHelp)
	f.bind(prom.FieldTokenFile, &c.TokenFile, "prometheus-token-file", prefix+"file holding a bearer token for Prometheus, read at each request (never printed nor saved)")
	f.bind(prom.FieldQueryTimeout, &c.QueryTimeout, "prometheus-timeout", prefix+"how long one PromQL query may take")
}

// connectWithPrometheus builds the cluster's clients and the Prometheus
// client of a checked configuration (its problems named through n).
func connectWithPrometheus(kube kubeReadFlags, c prom.Config, n input.Names) (*cluster.Clients, *prom.Client, error) {
	clients, err := kube.Connect()
	if err != nil {
		return nil, nil, err
	}
	pc, err := c.Connect(n)
	return clients, pc, err
}
