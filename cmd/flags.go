package cmd

import (
	"fmt"
	"slices"
	"time"

	"github.com/spf13/pflag"

	"github.com/proxysizer/proxysizer/internal/input"
	"github.com/proxysizer/proxysizer/model"
)

// fieldFlags registers the flags that set a library's inputs, and remembers
// which flag sets which input: the library's messages then name the flag
// (names), and its presence rules see what the user typed (given).
type fieldFlags struct {
	set   *pflag.FlagSet
	flags map[input.Field]string
}

func newFieldFlags(set *pflag.FlagSet) fieldFlags {
	return fieldFlags{set: set, flags: map[input.Field]string{}}
}

// bind registers flag name for field, writing to p. The flag's default is
// the value p already holds: the library's default, so it exists once.
func (f fieldFlags) bind(field input.Field, p any, name, usage string) {
	f.flags[field] = name
	switch p := p.(type) {
	case *float64:
		f.set.Float64Var(p, name, *p, usage)
	case *int:
		f.set.IntVar(p, name, *p, usage)
	case *string:
		f.set.StringVar(p, name, *p, usage)
	case *bool:
		f.set.BoolVar(p, name, *p, usage)
	case *time.Duration:
		f.set.DurationVar(p, name, *p, usage)
	case *[]int:
		f.set.IntSliceVar(p, name, *p, usage)
	case *[]float64:
		f.set.Float64SliceVar(p, name, *p, usage)
	case *[]string:
		f.set.StringSliceVar(p, name, *p, usage)
	default:
		panic(fmt.Sprintf("--%s: no flag type for %T", name, p))
	}
}

// names shows each bound input as its flag, "--rps", plus any extra names.
func (f fieldFlags) names(extra input.Names) input.Names {
	out := input.Names{}
	for field, name := range f.flags {
		out[field] = "--" + name
	}
	for field, name := range extra {
		out[field] = name
	}
	return out
}

// given says which bound inputs the user set on the command line.
func (f fieldFlags) given() map[input.Field]bool {
	out := map[input.Field]bool{}
	for field, name := range f.flags {
		out[field] = f.set.Changed(name)
	}
	return out
}

var positive, nonNegative = model.Positive, model.NonNegative

func oneOf(s string, options ...string) bool { return slices.Contains(options, s) }
