package cmd

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/internal/quantity"
	"github.com/proxysizer/proxysizer/model"
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
			w := tabwriter.NewWriter(c.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tCOMPONENT\tISTIO\tVCPU/1000RPS\tMEMORY\tWORKERS\tLATENCY ADDED\tSETUP")
			for _, p := range refs {
				name := p.Name
				if name == profiles.DefaultName {
					name += " *"
				}
				workers := "-"
				if p.Provenance.Workers > 0 {
					workers = fmt.Sprint(p.Provenance.Workers)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, p.Component, p.Provenance.IstioVersions,
					profileCost(p), quantity.Bytes(int64(p.Memory.BaseBytes)), workers, profileLatency(p), p.Provenance.Setup)
			}
			return w.Flush()
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

func profileLatency(p profiles.Profile) string {
	if figures := latencyFigures(p.Latency, ""); len(figures) > 0 {
		return strings.Join(figures, ", ")
	}
	return "not published"
}

// profileCost is the cost per 1000 RPS of a line, or a concave curve's
// first 1000 RPS with its exponent.
func profileCost(p profiles.Profile) string {
	c := p.CPU.CPUCost
	if c.Model() == model.ModelLine {
		return num(c.CoresPerKRPS)
	}
	return fmt.Sprintf("%s x (RPS/1000)^%s", num(c.CoresPerKRPS), num(c.Exponent))
}
