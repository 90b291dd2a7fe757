package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FileName is the sweep record inside a results directory.
const FileName = "sweep.json"

// ErrNoResults means the directory holds no sweep.
var ErrNoResults = errors.New("not a proxysizer results directory")

// WriteFileAtomic replaces path with data (mode 0644) so that a reader, or
// a crash at any point, sees either the old file or the new one, never a
// torn one: write a temporary file beside it, fsync it, rename it over,
// fsync the directory.
func WriteFileAtomic(path string, data []byte) error {
	return WriteFileAtomicMode(path, data, 0o644)
}

// WriteFileAtomicMode is WriteFileAtomic with the file's permissions.
func WriteFileAtomicMode(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some filesystems cannot fsync a directory; the rename stands anyway.
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// WriteJSON writes v as indented JSON, atomically.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(data, '\n'))
}

// Save writes dir/sweep.json atomically.
func Save(dir string, s *Sweep) error {
	return WriteJSON(filepath.Join(dir, FileName), s)
}

// Load reads dir/sweep.json and checks that this build can read it.
func Load(dir string) (*Sweep, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("results directory %s: %w", dir, unwrapPath(err))
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("results directory %s: not a directory", dir)
	}
	path := filepath.Join(dir, FileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("results directory %s: no %s: %w (run `proxysizer sweep --out %s` first)", dir, FileName, ErrNoResults, dir)
	}
	if err != nil {
		return nil, err
	}
	var probe struct {
		SchemaVersion int `json:"schema_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("%s: not valid JSON: %v", path, err)
	}
	switch {
	case probe.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("%s: schema_version %d is newer than this build reads (%d): upgrade proxysizer", path, probe.SchemaVersion, SchemaVersion)
	case probe.SchemaVersion < 1:
		return nil, fmt.Errorf("%s: no schema_version: %w", path, ErrNoResults)
	}
	var s Sweep
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &s, nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
