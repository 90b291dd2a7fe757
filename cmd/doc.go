// Package cmd holds proxysizer's cobra commands. Commands are thin: each binds
// its flags to a library's options (fieldFlags: the library's defaults become
// the flags' defaults, and its messages name the flags), calls one library
// function, and prints through the library's renderer. The conventions every
// command shares (bad input as one line naming the flag, exit status 2,
// nothing on stdout; pflag's errors; signals) are internal/cli's.
package cmd
