package cmd

import (
	"os"

	"github.com/proxysizer/proxysizer/internal/cli"
)

// The command-line conventions (internal/cli) under the names every
// command's file uses.
var (
	flagError     = cli.FlagError
	badInput      = cli.BadInput
	signalContext = cli.SignalContext
	isTerminal    = cli.IsTerminal
)

// interruptedError is cli.Interrupted in the positional form load and
// sweep build it in.
type interruptedError struct {
	msg    string
	signal os.Signal
}

func (e interruptedError) Error() string { return e.msg }
func (e interruptedError) ExitCode() int {
	return cli.Interrupted{Msg: e.msg, Signal: e.signal}.ExitCode()
}
