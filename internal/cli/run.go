package cli

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Execute runs root and returns the process exit status, the error on one
// line of stderr after the program's name. A panic is a bug: it is
// reported on one line (the stack follows) and exits 1, after every
// deferred clean-up of the command (a sweep's Close) ran.
func Execute(root *cobra.Command, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			fmt.Fprintf(stderr, "%s: internal error: %s (a bug: please report it with the stack below)\n%s", root.Name(), OneLine(fmt.Sprint(p)), debug.Stack())
			code = ExitFailure
		}
	}()
	err := root.Execute()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", root.Name(), OneLine(err.Error()))
	}
	return ExitCode(err)
}
