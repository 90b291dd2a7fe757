package cmd

import "github.com/proxysizer/proxysizer/internal/cli"

// The exit statuses the tests expect, as internal/cli defines them.
const (
	exitOK       = cli.ExitOK
	exitFailure  = cli.ExitFailure
	exitBadInput = cli.ExitBadInput
)
