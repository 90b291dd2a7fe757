// Package cmd holds proxysizer's cobra commands. Commands are thin: each binds
// its flags to a library's options (fieldFlags: the library's defaults become
// the flags' defaults, and its messages name the flags), calls one library
// function, and prints. Bad input, a usageError or a library's *input.Error,
// is one line naming the flag, exit status 2, nothing on stdout.
package cmd
