package input

import (
	"errors"
	"io/fs"
	"testing"
)

const (
	ratio   Field = "retry ratio"
	replica Field = "replicas"
)

func TestNamesShowFieldsInTheCallersWords(t *testing.T) {
	cli := Names{ratio: "--retry-ratio"}
	if got := cli.Sprintf("pass %s to count them (%d%%)", ratio, 10); got != "pass --retry-ratio to count them (10%)" {
		t.Errorf("caller's names: %q", got)
	}
	// A field the caller did not name, and a nil Names, keep the library's word.
	if got := cli.Sprintf("%s and %s", ratio, replica); got != "--retry-ratio and replicas" {
		t.Errorf("unnamed field: %q", got)
	}
	if got := Names(nil).Sprintf("pass %s", ratio); got != "pass retry ratio" {
		t.Errorf("nil names: %q", got)
	}
	// Plain strings that equal a field's value are not fields.
	if got := cli.Sprintf("%s", "retry ratio"); got != "retry ratio" {
		t.Errorf("a string was renamed: %q", got)
	}
	// Has tells a field the caller takes from one it does not.
	if !cli.Has(ratio) || cli.Has(replica) || Names(nil).Has(ratio) {
		t.Errorf("Has: %v %v %v, want true false false", cli.Has(ratio), cli.Has(replica), Names(nil).Has(ratio))
	}
}

func TestErrorNamesItsFieldAndWraps(t *testing.T) {
	err := Names{replica: "--replicas"}.Errorf(replica, "required with %s: %w", ratio, fs.ErrNotExist)
	if err.Error() != "--replicas: required with retry ratio: file does not exist" {
		t.Errorf("message: %q", err)
	}
	var ie *Error
	if !errors.As(err, &ie) || ie.Field != replica || ie.Name != "--replicas" {
		t.Errorf("not an *Error naming replicas: %#v", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Error("the wrapped error is lost")
	}
}
