// Package cli owns proxysizer's command-line conventions, apart from any one
// command: bad input is one line naming the flag or file and what was
// expected, and exits 2 (a usage error, a library's *input.Error, or one of
// cobra's own); pflag's parse errors say what the flag takes; a run stopped
// by a signal exits 128 + its number; a command that only groups others
// refuses an unknown one; a panic is reported on one line. Only cmd uses
// it.
package cli
