package cmd

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

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
	exitInterrupted = 130 // as a shell reports a SIGINT (SIGTERM: 143, interruptedError)
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
	root.SetFlagErrorFunc(flagParseError)
	root.AddCommand(newVersionCmd())
	for _, newCmd := range subcommands {
		root.AddCommand(newCmd())
	}
	root.InitDefaultCompletionCmd()
	root.SetHelpCommand(newHelpCmd())
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command that only groups others
// (profiles, completion) refuse an unknown one as bad input, where cobra
// would print the help and exit 0: `profiles lst`, `completion tcsh`.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if c.HasParent() && c.HasSubCommands() && !c.Runnable() {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			return unknownSubcommand(c, args[0])
		}
	}
}

func unknownSubcommand(c *cobra.Command, name string) error {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return badInput("unknown command %q for %q: expected %s", name, c.CommandPath(), strings.Join(names, ", "))
}

// newHelpCmd is cobra's help command, except that an unknown topic is bad
// input (exit 2), not a usage text and exit 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type proxysizer help [path to command] for full details.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, sub.Name())
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			switch {
			case err != nil || cmd == nil:
				return badInput("unknown help topic %q: see proxysizer --help", strings.Join(args, " "))
			case len(rest) > 0:
				return unknownSubcommand(cmd, rest[0])
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}

// Execute runs the CLI with args and returns the process exit status. A
// panic is a bug: it is reported on one line (the stack follows) and exits
// 1, after every deferred clean-up of the command (a sweep's Close) ran.
func Execute(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "proxysizer: internal error: %s (a bug: please report it with the stack below)\n%s", oneLine(fmt.Sprint(p)), debug.Stack())
			code = exitFailure
		}
	}()
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
