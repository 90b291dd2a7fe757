package results

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// MarkerFile marks a directory proxysizer writes its files into that holds
// no sweep.json: a report's --out, a load run's --out. Its presence (or
// sweep.json's) is what makes a directory ours.
const MarkerFile = ".proxysizer"

// ErrNotOurs is an output directory that holds files proxysizer did not
// write there: writing into it would replace a stranger's report.md.
var ErrNotOurs = errors.New("holds files proxysizer did not write")

// CheckOutputDir says, before any work, whether proxysizer may write the
// named files and subdirectories into dir. The rule: dir does not exist
// yet, is empty, or is ours (it holds sweep.json or MarkerFile); and each
// name is absent or of its kind (a regular file, or a directory for dirs),
// so that only our own files are ever replaced.
func CheckOutputDir(dir string, files, dirs []string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return safefile.CheckWritable(dir)
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return &safefile.Error{Path: dir, Err: fmt.Errorf("is %s, not a directory", safefile.Kind(info.Mode()))}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(entries) > 0 && !isOurs(dir) {
		return &safefile.Error{Path: dir, Err: fmt.Errorf("%w (%s): choose a new or empty directory", ErrNotOurs, sample(entries))}
	}
	for _, name := range files {
		if err := checkKind(filepath.Join(dir, name), false); err != nil {
			return err
		}
	}
	for _, name := range dirs {
		if err := checkKind(filepath.Join(dir, name), true); err != nil {
			return err
		}
	}
	return nil
}

// ClaimOutputDir creates dir if it is missing and marks it ours unless it
// is a results directory already.
func ClaimOutputDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if isOurs(dir) {
		return nil
	}
	return safefile.WriteFile(filepath.Join(dir, MarkerFile), []byte("proxysizer writes its files into this directory; this file marks it as its own.\n"), 0o644)
}

func isOurs(dir string) bool {
	for _, name := range []string{FileName, MarkerFile} {
		if info, err := os.Lstat(filepath.Join(dir, name)); err == nil && info.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// checkKind: path is absent, or a regular file (a directory when dir).
func checkKind(path string, dir bool) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case dir && !info.IsDir():
		return &safefile.Error{Path: path, Err: fmt.Errorf("is %s where proxysizer writes a directory", safefile.Kind(info.Mode()))}
	case !dir && !info.Mode().IsRegular():
		return &safefile.Error{Path: path, Err: fmt.Errorf("is %s where proxysizer writes a file", safefile.Kind(info.Mode()))}
	}
	return nil
}

// sample names a few of the entries, for the message.
func sample(entries []fs.DirEntry) string {
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("and %d more", len(names)-3))
	}
	return strings.Join(names, ", ")
}
