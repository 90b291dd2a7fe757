package local

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// The lab's work directory is inside the results directory, which someone
// else may have written into: its files are created only inside it, so
// that a link planted there never turns a write (as root) into one
// elsewhere.

// checkWorkDir refuses a work directory that is a link.
func checkWorkDir(dir string) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return &safefile.Error{Path: dir, Err: fmt.Errorf("is %s, not a directory", safefile.Kind(info.Mode()))}
	}
	return nil
}

// createIn creates (or empties) the file name inside dir, and only inside
// it, for a log.
func createIn(dir, name string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if d := filepath.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if info, err := root.Lstat(name); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		if err := root.Remove(name); err != nil { // a log is ours to replace
			return nil, err
		}
	}
	return root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
}

// writeIn writes the file name inside dir atomically, and only inside it.
func writeIn(dir, name string, data []byte) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return safefile.WriteFileIn(root, name, data, 0o644)
}
