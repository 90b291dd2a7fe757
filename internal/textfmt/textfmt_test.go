package textfmt

import (
	"bytes"
	"testing"
)

func TestFigure(t *testing.T) {
	for x, want := range map[float64]string{500: "500", 63.6: "63.6", 0.228: "0.228", 0.2284: "0.228", 1.5e-4: "0", 12.10: "12.1"} {
		if got := Figure(x); got != want {
			t.Errorf("Figure(%v) = %q, want %q", x, got, want)
		}
	}
}

func TestList(t *testing.T) {
	var b bytes.Buffer
	List(&b, "NOTES", []string{"one", "two"})
	List(&b, "EMPTY", nil)
	if got, want := b.String(), "NOTES\n  - one\n  - two\n\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
