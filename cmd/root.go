package cmd

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/internal/cli"
)

// version is stamped by the Makefile with -ldflags "-X ...cmd.version=...".
var version = "dev"

// subcommands lists constructors registered by each command's file in init().
// Constructors rather than instances so that every Execute gets fresh flags,
// which keeps in-process CLI tests independent.
var subcommands []func() *cobra.Command

func register(newCmd func() *cobra.Command) { subcommands = append(subcommands, newCmd) }

// newRoot builds the command tree.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "proxysizer",
		Short: "Size Istio/Envoy sidecars and HPA targets from measurements",
		Long: `proxysizer answers, with measurements, what a workload's Istio sidecar needs:
CPU and memory requests and limits, Envoy concurrency, and the HPA target that
keeps the app's original CPU threshold once a sidecar shares the pod.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(cli.FlagParseError)
	root.AddCommand(newVersionCmd())
	for _, newCmd := range subcommands {
		root.AddCommand(newCmd())
	}
	root.InitDefaultCompletionCmd()
	root.SetHelpCommand(cli.NewHelpCmd(root.Name()))
	cli.RefuseUnknownSubcommands(root)
	return root
}

// Execute runs the CLI with args and returns the process exit status
// (internal/cli's conventions).
func Execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	return cli.Execute(root, stderr)
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print proxysizer's version",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintf(c.OutOrStdout(), "proxysizer %s\n", version)
			return nil
		},
	}
}
