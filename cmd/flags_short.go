package cmd

import (
	"fmt"

	"github.com/proxysizer/proxysizer/internal/input"
)

// bindShort is bind for a flag with a one-letter shorthand, as kubectl's
// -A and -f; a []string is repeated, not split at commas (a path may hold
// one).
func (f fieldFlags) bindShort(field input.Field, p any, name, shorthand, usage string) {
	f.flags[field] = name
	switch p := p.(type) {
	case *bool:
		f.set.BoolVarP(p, name, shorthand, *p, usage)
	case *[]string:
		f.set.StringArrayVarP(p, name, shorthand, *p, usage)
	default:
		panic(fmt.Sprintf("--%s: no flag type with a shorthand for %T", name, p))
	}
}
