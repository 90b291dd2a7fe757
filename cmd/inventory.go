package cmd

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/cluster"
	"github.com/proxysizer/proxysizer/profiles"
	"github.com/proxysizer/proxysizer/sizing"
)

func init() { register(newInventoryCmd) }

func newInventoryCmd() *cobra.Command {
	var kube kubeReadFlags
	r := cluster.DefaultInventoryRequest()
	profile, output := profiles.DefaultName, "table"
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Count the services, ports and endpoints a namespace's sidecars would hold",
		Long: `inventory counts the configuration an Istio sidecar in a namespace would hold,
which is what drives its memory: clusters (one per visible service port) and
endpoints (ready endpoint addresses x ports of the EndpointSlices), for every
service of the mesh (no Sidecar resource) and for each Sidecar resource of
the namespace (networking.istio.io egress hosts such as ./*, istio-system/*,
~/*, ns/svc.ns.svc.cluster.local). It prints the memory the profile's model
expects for each and the ` + "`plan --clusters N --endpoints M`" + ` flags to use.`,
		Example: `  proxysizer inventory -n shop
  proxysizer inventory -n shop -o json --concurrency 4`,
		Args: cobra.NoArgs,
	}
	fl := c.Flags()
	kube.register(fl, 30*time.Second, "how long the reads may take")
	f := newFieldFlags(fl)
	f.bind(sizing.FieldProfile, &profile, "profile", "cost profile whose memory model sizes each scope: a reference name or a profile YAML file")
	f.bind(sizing.FieldConcurrency, &r.Concurrency, "concurrency", "Envoy workers for the memory estimate")
	f.bind(cluster.FieldClusterDomain, &r.ClusterDomain, "cluster-domain", "the cluster's DNS domain, for egress hosts with FQDNs")
	f.bind(cluster.FieldIstioNamespace, &r.RootNamespace, "root-namespace", "Istio's root namespace, whose default Sidecar applies where a namespace has none")
	fl.StringVarP(&output, "output", "o", output, "output format: table, json or yaml")
	c.RunE = func(c *cobra.Command, _ []string) error {
		if err := kube.validate(); err != nil {
			return err
		}
		if !oneOf(output, "table", "json", "yaml") {
			return flagError("output", "expected table, json or yaml, got %q", output)
		}
		r.Names = f.names(planFlagNames())
		opts, err := r.Options()
		if err != nil {
			return err
		}
		if r.Profile, err = profiles.Load(profile); err != nil {
			return flagError("profile", "%v", err)
		}
		clients, err := kube.Connect()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.Context(), kube.Timeout)
		defer cancel()
		inv, err := cluster.ReadInventory(ctx, clients.Typed, clients.Dynamic, clients.Namespace, opts)
		if err != nil {
			return err
		}
		report := r.Report(inv)
		return writeAs(c.OutOrStdout(), output, report, report.WriteTable)
	}
	return c
}
