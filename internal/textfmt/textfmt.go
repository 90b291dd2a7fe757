// Package textfmt holds the small pieces every text output prints the same
// way: a figure without trailing zeros, and a titled list of remarks.
package textfmt

import (
	"fmt"
	"io"
	"strings"
)

// Figure prints a figure without trailing zeros: 500, 63.6, 0.228.
func Figure(x float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", x), "0"), ".")
}

// List writes a title and its items, one "  - " line each, then a blank
// line; nothing for no items.
func List(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	for _, it := range items {
		fmt.Fprintf(w, "  - %s\n", it)
	}
	fmt.Fprintln(w)
}
