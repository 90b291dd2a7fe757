package results

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// Stage writes a set of files into an output directory all or none: they
// are made in a hidden directory inside it, then each top-level name (a
// file, or a subdirectory replaced whole) is moved into place by a rename,
// and a failed move puts back every name it had replaced. Discard after a
// failure leaves the output directory as it was: a directory made for the
// stage is removed, a mark of ours written for it too.
type Stage struct {
	dir, into string
	// created is the topmost directory made for the stage ("" when into
	// existed); marker is the mark of ours made in an existing into.
	created, marker string
	committed       bool
}

// NewStage checks into with CheckOutputDir(files, dirs), claims it
// (ClaimOutputDir) and makes the staging directory inside it.
func NewStage(into string, files, dirs []string) (*Stage, error) {
	if err := CheckOutputDir(into, files, dirs); err != nil {
		return nil, err
	}
	s := &Stage{into: into, created: topMissing(into)}
	marker := filepath.Join(into, MarkerFile)
	if _, err := os.Lstat(marker); errors.Is(err, fs.ErrNotExist) && s.created == "" {
		s.marker = marker
	}
	if err := ClaimOutputDir(into); err != nil {
		s.Discard()
		return nil, err
	}
	if _, err := os.Lstat(marker); err != nil {
		s.marker = "" // a results directory: no mark was needed
	}
	var err error
	if s.dir, err = os.MkdirTemp(into, ".staging-"); err != nil {
		s.Discard()
		return nil, err
	}
	return s, nil
}

// Dir is where the files are made.
func (s *Stage) Dir() string { return s.dir }

// Commit moves each staged top-level name over its target; the first
// failure puts back every target already replaced.
func (s *Stage) Commit(names []string) error {
	type moved struct{ name, backup string }
	var done []moved
	rollback := func() {
		for i := len(done) - 1; i >= 0; i-- {
			target := filepath.Join(s.into, done[i].name)
			os.Rename(target, filepath.Join(s.dir, done[i].name))
			if done[i].backup != "" {
				os.Rename(done[i].backup, target)
			}
		}
	}
	for _, name := range names {
		target, staged := filepath.Join(s.into, name), filepath.Join(s.dir, name)
		m := moved{name: name}
		if _, err := os.Lstat(target); err == nil {
			m.backup = filepath.Join(s.dir, ".old-"+name)
			if err := os.Rename(target, m.backup); err != nil {
				rollback()
				return err
			}
		}
		if err := os.Rename(staged, target); err != nil {
			if m.backup != "" {
				os.Rename(m.backup, target)
			}
			rollback()
			return err
		}
		done = append(done, m)
	}
	s.committed = true
	return safefile.SyncDir(s.into)
}

// Discard removes the staging directory (with the files a commit
// replaced), and after no commit what was made for the stage.
func (s *Stage) Discard() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
	if s.committed {
		return
	}
	if s.created != "" {
		os.RemoveAll(s.created)
	}
	if s.marker != "" {
		os.Remove(s.marker)
	}
}

// topMissing is the topmost missing directory of path, "" if it exists.
func topMissing(path string) string {
	top := ""
	for p := filepath.Clean(path); ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			return top
		}
		top = p
		if filepath.Dir(p) == p {
			return top
		}
	}
}
