package cmd

import (
	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/profiles"
)

func init() { register(newProfilesCmd) }

func newProfilesCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "profiles",
		Short: "List and show sidecar cost profiles",
		Long: `Cost profiles hold what a proxy costs: CPU per 1000 RPS (per concurrency where
measured), capacity per worker, memory from configuration size and workers,
and latency added. Reference profiles are Istio's published figures, one per
row of its "Performance and scalability" pages (each figure's source:
docs/sources.md); measured profiles come from 'proxysizer fit' over a sweep
and use the same format.`,
	}
	c.AddCommand(newProfilesListCmd(), newProfilesShowCmd())
	return c
}

func newProfilesListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the reference profiles (* marks plan's default)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			refs, err := profiles.Reference()
			if err != nil {
				return err
			}
			return profiles.WriteTable(c.OutOrStdout(), refs)
		},
	}
}

func newProfilesShowCmd() *cobra.Command {
	var output string
	c := &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Show one profile with its provenance",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if !oneOf(output, "yaml", "json") {
				return flagError("output", "expected yaml or json, got %q", output)
			}
			p, err := profiles.Load(args[0])
			if err != nil {
				return badInput("%v", err)
			}
			if output == "json" {
				return writeJSON(c.OutOrStdout(), p)
			}
			return writeYAML(c.OutOrStdout(), p)
		},
	}
	c.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return c
}
