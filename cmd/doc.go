// Package cmd holds proxysizer's cobra commands. Commands are thin: they parse
// and validate flags, call into model, sizing, loadgen, drivers and results, and
// print. Bad input is a usageError: one line naming the flag, exit status 2,
// nothing on stdout.
package cmd
