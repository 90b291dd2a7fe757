// Package safefile owns how proxysizer touches files it did not create
// itself: every input file is read through ReadFile or ReadFileIn (a regular
// file of bounded size, and inside its directory where it comes from one),
// and every output file is written through WriteFile (atomically over a
// regular file or where nothing exists, straight into a device, a pipe or a
// symbolic link, never over a directory). One reader and one writer for the
// whole tree, so a rule about files holds everywhere.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The most each kind of input file may hold. Each is far above what
// proxysizer itself writes there (a profile or a journal is a few KiB; a
// sweep of the largest grid, 64 concurrencies x 20 limits x 10 rates x 10
// repeats, is about 60 MiB) and low enough that reading one never exhausts
// memory.
const (
	MaxProfile    = 1 << 20   // a cost profile (YAML)
	MaxJournal    = 1 << 20   // a Kubernetes sweep's journal
	MaxToken      = 64 << 10  // a bearer token file
	MaxState      = 1 << 20   // a local sweep's state file
	MaxManifest   = 32 << 20  // a manifest file, stdin, a mesh configuration
	MaxKubeconfig = 16 << 20  // a kubeconfig
	MaxSweep      = 128 << 20 // sweep.json
	MaxRunFile    = 64 << 20  // one step's or run's file in a results directory (fortio's JSON)
)

var (
	// ErrNotRegular is an input that is not a regular file: a directory,
	// a device (/dev/zero reads forever), a named pipe, a socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is an input larger than its kind may be.
	ErrTooLarge = errors.New("too large")
	// ErrIsDirectory is an output path naming a directory.
	ErrIsDirectory = errors.New("is a directory, not a file")
	// ErrDangling is an output path that is a symbolic link to nothing.
	ErrDangling = errors.New("is a symbolic link to a file that does not exist")
	// ErrNoReader is an output named pipe that no process reads.
	ErrNoReader = errors.New("is a named pipe that no process reads")
)

// Error is a problem with one file: its path and what is wrong.
type Error struct {
	Path string
	Err  error
}

func (e *Error) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Kind describes a file mode in words: "a directory", "a named pipe".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	}
	return "not a regular file"
}

func notRegular(path string, m fs.FileMode) error {
	return &Error{Path: path, Err: fmt.Errorf("%w: it is %s", ErrNotRegular, Kind(m))}
}

func tooLarge(path string, limit int64) error {
	return &Error{Path: path, Err: fmt.Errorf("%w: more than %s", ErrTooLarge, Size(limit))}
}

// Size writes a byte count as the limits are stated: 1 MiB, 64 KiB.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ReadFile reads the regular file at path (a symbolic link to one is
// fine) if it holds at most limit bytes. Anything else is refused before a
// byte is read: a directory, a device, a named pipe (opened without
// waiting for a writer), a socket.
func ReadFile(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, notRegular(path, info.Mode())
	}
	// O_NONBLOCK: if the file was swapped for a named pipe since the
	// Stat, the open still returns at once, and the Stat below refuses it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpened(f, path, limit)
}

// ReadStream is ReadFile that also reads a pipe (at most limit bytes): a
// shell's process substitution, `check -f <(helm template ...)`, names
// one (/dev/fd/63). A named pipe nobody writes reads as empty rather than
// blocking; a device, a socket or a directory is refused as by ReadFile.
func ReadStream(path string, limit int64) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode()&fs.ModeNamedPipe == 0 {
		return ReadFile(path, limit)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode()&fs.ModeNamedPipe == 0 {
		return nil, notRegular(path, st.Mode())
	}
	return readLimited(f, path, limit)
}

// CheckReadable says whether ReadFile would read path, without reading it:
// for files another library reads (a kubeconfig, which client-go loads).
func CheckReadable(path string, limit int64) error {
	info, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case !info.Mode().IsRegular():
		return notRegular(path, info.Mode())
	case info.Size() > limit:
		return tooLarge(path, limit)
	}
	return nil
}

// ReadFileIn reads name inside root under ReadFile's rules, and only if
// it resolves inside root, symbolic links included: "../x", "/etc/x" and a
// link pointing out of root are refused. dir is root's name for messages.
func ReadFileIn(root *os.Root, name string, limit int64) ([]byte, error) {
	shown := filepath.Join(root.Name(), name)
	if !filepath.IsLocal(name) {
		return nil, &Error{Path: shown, Err: ErrOutside}
	}
	info, err := root.Stat(name)
	if err != nil {
		return nil, inRootError(shown, err)
	}
	if !info.Mode().IsRegular() {
		return nil, notRegular(shown, info.Mode())
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, inRootError(shown, err)
	}
	defer f.Close()
	return readOpened(f, shown, limit)
}

// ErrOutside is a path that leaves the directory it must stay in.
var ErrOutside = errors.New("resolves outside its directory")

// inRootError words os.Root's refusal of a path that escapes it.
func inRootError(shown string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &fs.PathError{Op: "open", Path: shown, Err: fs.ErrNotExist}
	}
	// os.Root's own error is not exported; it may come wrapped twice
	// (mkdirat: statat: ...).
	if strings.HasSuffix(err.Error(), "path escapes from parent") {
		return &Error{Path: shown, Err: ErrOutside}
	}
	return err
}

func readOpened(f *os.File, path string, limit int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, notRegular(path, info.Mode())
	}
	if info.Size() > limit {
		return nil, tooLarge(path, limit)
	}
	return readLimited(f, path, limit)
}

// Read reads r (stdin) to its end if it holds at most limit bytes; name
// is what messages call it.
func Read(r io.Reader, name string, limit int64) ([]byte, error) {
	return readLimited(r, name, limit)
}

func readLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &Error{Path: name, Err: err}
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(name, limit)
	}
	return data, nil
}
