// Package input lets the library packages name their inputs in their own
// words while a caller shows them in its own: sizing says "retry ratio" where
// the CLI says "--retry-ratio". A package declares its inputs as Fields; its
// caller passes Names; a message built through Names shows every Field under
// the caller's name. A problem with an input is an *Error, so a caller tells
// bad input from a failure with errors.As.
package input

import "fmt"

// Field identifies an input; its value is the library's own name for it.
type Field string

// Names maps fields to the caller's names for them. A field it lacks keeps
// its own name, so the zero value speaks the library's words.
type Names map[Field]string

// Of is f's name for the caller.
func (n Names) Of(f Field) string {
	if name, ok := n[f]; ok {
		return name
	}
	return string(f)
}

// Has says whether the caller has a name of its own for f: it takes f as
// an input, so that a message may ask the user to give it.
func (n Names) Has(f Field) bool {
	_, ok := n[f]
	return ok
}

// Sprintf formats like fmt.Sprintf, each Field argument shown by its name.
func (n Names) Sprintf(format string, args ...any) string {
	return fmt.Sprintf(format, n.named(args)...)
}

// Errorf reports a bad value of f: what was expected, with each Field
// argument shown by its name; %w wraps as in fmt.Errorf.
func (n Names) Errorf(f Field, format string, args ...any) error {
	return &Error{Field: f, Name: n.Of(f), err: fmt.Errorf(format, n.named(args)...)}
}

func (n Names) named(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(Field); ok {
			a = n.Of(f)
		}
		out[i] = a
	}
	return out
}

// Error is a bad input: the field, under the caller's name, and what was
// expected of it.
type Error struct {
	Field Field
	Name  string
	err   error
}

func (e *Error) Error() string { return e.Name + ": " + e.err.Error() }
func (e *Error) Unwrap() error { return e.err }
