package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// RefuseUnknownSubcommands makes every command that only groups others
// (profiles, completion) refuse an unknown one as bad input, where cobra
// would print the help and exit 0: `profiles lst`, `completion tcsh`.
func RefuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		RefuseUnknownSubcommands(sub)
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
	return BadInput("unknown command %q for %q: expected %s", name, c.CommandPath(), strings.Join(names, ", "))
}

// NewHelpCmd is cobra's help command, except that an unknown topic is bad
// input (exit 2), not a usage text and exit 0; program names the root
// command in the message.
func NewHelpCmd(program string) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type " + program + " help [path to command] for full details.",
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
				return BadInput("unknown help topic %q: see %s --help", strings.Join(args, " "), program)
			case len(rest) > 0:
				return unknownSubcommand(cmd, rest[0])
			}
			cmd.InitDefaultHelpFlag()
			cmd.InitDefaultVersionFlag()
			return cmd.Help()
		},
	}
}
