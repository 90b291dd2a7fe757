package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/proxysizer/proxysizer/internal/safefile"
)

// FileName is the sweep record inside a results directory.
const FileName = "sweep.json"

// ErrNoResults means the directory holds no sweep.
var ErrNoResults = errors.New("not a proxysizer results directory")

// WriteFileAtomic writes data to path (mode 0644) with the tree's one
// writer, safefile.WriteFile: atomically over a regular file or where
// nothing exists (a reader, or a crash at any point, sees the old file or
// the new one, never a torn one), straight into a device, a pipe or a link,
// never over a directory.
func WriteFileAtomic(path string, data []byte) error {
	return WriteFileAtomicMode(path, data, 0o644)
}

// WriteFileAtomicMode is WriteFileAtomic with the file's permissions.
func WriteFileAtomicMode(path string, data []byte, perm os.FileMode) error {
	return safefile.WriteFile(path, data, perm)
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// Save writes dir/sweep.json atomically, inside dir (WriteRunFile).
func Save(dir string, s *Sweep) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return WriteRunFile(dir, FileName, append(data, '\n'))
}

// WriteRunFile writes a file of the results directory dir (name relative
// to it: steps/000-c1-l500m-200rps.json) atomically and only inside it: a
// link planted there, or a subdirectory linking out, never turns the write
// into one elsewhere. dir is made if it does not exist.
func WriteRunFile(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	return safefile.WriteFileIn(root, name, data, 0o644)
}

// WriteRunJSON is WriteRunFile of v as indented JSON.
func WriteRunJSON(dir, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteRunFile(dir, name, append(data, '\n'))
}

// Load reads dir/sweep.json and checks that this build can read it and
// that every file it names stays inside dir.
func Load(dir string) (*Sweep, error) {
	root, err := OpenDir(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	path := filepath.Join(dir, FileName)
	data, err := safefile.ReadFileIn(root, FileName, safefile.MaxSweep)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("results directory %s: no %s: %w (run `proxysizer sweep --out %s` first)", dir, FileName, ErrNoResults, dir)
	}
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// Parse reads sweep.json's content: a schema this build reads, and file
// names that stay inside the results directory.
func Parse(data []byte) (*Sweep, error) {
	var probe struct {
		SchemaVersion int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	switch {
	case probe.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("schema_version %d is newer than this build reads (%d): upgrade proxysizer", probe.SchemaVersion, SchemaVersion)
	case probe.SchemaVersion < 1:
		return nil, fmt.Errorf("no schema_version: %w", ErrNoResults)
	}
	var s Sweep
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if err := s.checkFiles(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ErrOutside is a file name in sweep.json that leaves the results
// directory: "../../etc/shadow" or an absolute path.
var ErrOutside = errors.New("is not a file inside the results directory")

// checkFiles refuses a record naming a file outside its directory; links
// that point out are refused when the file is read (ReadRunFile).
func (s *Sweep) checkFiles() error {
	check := func(what, name string) error {
		if name != "" && !filepath.IsLocal(name) {
			return fmt.Errorf("%s %q %w", what, name, ErrOutside)
		}
		return nil
	}
	var errs []error
	for i, r := range s.Baseline {
		errs = append(errs, check(fmt.Sprintf("baseline[%d].fortio_file", i), r.FortioFile))
	}
	for i, st := range s.Steps {
		errs = append(errs, check(fmt.Sprintf("steps[%d].file", i), st.File), check(fmt.Sprintf("steps[%d].fortio_file", i), st.FortioFile))
	}
	for i, search := range s.Searches {
		for j, st := range search.Steps {
			errs = append(errs, check(fmt.Sprintf("searches[%d].steps[%d].file", i, j), st.File),
				check(fmt.Sprintf("searches[%d].steps[%d].fortio_file", i, j), st.FortioFile))
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// OpenDir opens a results directory so that every file read from it
// resolves inside it, symbolic links included.
func OpenDir(dir string) (*os.Root, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("results directory %s: %w", dir, unwrapPath(err))
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("results directory %s: not a directory", dir)
	}
	return os.OpenRoot(dir)
}

// ReadRunFile reads a file sweep.json names (a step's or a run's, relative
// to the results directory), which must be a regular file inside it: a
// link out of the directory is refused, not followed.
func ReadRunFile(root *os.Root, name string) ([]byte, error) {
	return safefile.ReadFileIn(root, name, safefile.MaxRunFile)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
