package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/proxysizer/proxysizer/internal/input"
)

// version is stamped by the Makefile with -ldflags "-X ...cmd.version=...".
var version = "dev"

// Exit statuses: 2 for bad input (flags, files), 1 for a failure while running.
const (
	exitOK          = 0
	exitFailure     = 1
	exitBadInput    = 2
	exitInterrupted = 130 // as a shell reports a SIGINT
)

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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newVersionCmd())
	for _, newCmd := range subcommands {
		root.AddCommand(newCmd())
	}
	return root
}

// Execute runs the CLI with args and returns the process exit status.
func Execute(args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "proxysizer: %s\n", oneLine(err.Error()))
	var ue usageError
	var bad *input.Error
	var ie interruptedError
	var coded interface{ ExitCode() int }
	switch {
	case errors.As(err, &coded):
		return coded.ExitCode()
	case errors.As(err, &ue) || errors.As(err, &bad) || isCobraUsageError(err):
		return exitBadInput
	case errors.As(err, &ie):
		return exitInterrupted
	}
	return exitFailure
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
