package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// WriteFile writes data to path, choosing by what path is now:
//
//   - nothing, or a regular file: atomically, so that a reader, or a crash
//     at any point, sees the old file or the new one, never a torn one (a
//     temporary file beside it, fsynced, renamed over it, the directory
//     fsynced); missing parent directories are created;
//   - a device, a named pipe or a symbolic link: straight into it, as a
//     shell's `>` does, so that -o /dev/stdout prints and a full device
//     fails with ENOSPC; the node or link itself is never replaced;
//   - a directory, or a link to one or to nothing: refused.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return writeAtomic(path, data, perm)
	case err != nil:
		return err
	case info.Mode().IsRegular():
		return writeAtomic(path, data, perm)
	case info.IsDir():
		return &Error{Path: path, Err: ErrIsDirectory}
	}
	return writeThrough(path, data)
}

// CheckWritable reports, before any work, whether WriteFile could write
// path: an existing directory, a link to nothing, or a parent that is not
// a directory is refused now rather than after the work.
func CheckWritable(path string) error {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return checkParent(path)
	case err != nil:
		return err
	case info.IsDir():
		return &Error{Path: path, Err: ErrIsDirectory}
	case info.Mode()&fs.ModeSymlink != 0:
		target, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return &Error{Path: path, Err: ErrDangling}
		}
		if err == nil && target.IsDir() {
			return &Error{Path: path, Err: ErrIsDirectory}
		}
		return err
	}
	return nil
}

// checkParent: the nearest existing ancestor must be a directory, so that
// the missing ones can be created.
func checkParent(path string) error {
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		info, err := os.Stat(dir)
		if err == nil {
			if !info.IsDir() {
				return &Error{Path: path, Err: fmt.Errorf("cannot be created: %s is %s, not a directory", dir, Kind(info.Mode()))}
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir {
			return err
		}
	}
}

func writeAtomic(path string, data []byte, perm os.FileMode) error {
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
		return &Error{Path: path, Err: err}
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return &Error{Path: path, Err: err}
	}
	if err := tmp.Close(); err != nil {
		return &Error{Path: path, Err: err}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so that a rename in it survives a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return syncClose(d)
}

// syncClose fsyncs an opened directory and closes it. Some filesystems
// cannot fsync a directory; the rename stands anyway.
func syncClose(d *os.File) error {
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// writeThrough writes into an existing device, named pipe or link target.
// A link to a regular file is truncated first, as `>` does; a device or a
// pipe has nothing to truncate. A named pipe is opened without waiting:
// one that no process reads is refused instead of blocking forever.
func writeThrough(path string, data []byte) error {
	if fd, ok := openDescriptor(path); ok {
		return writeDescriptor(path, fd, data)
	}
	target, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Error{Path: path, Err: ErrDangling}
	}
	if err != nil {
		return err
	}
	if target.IsDir() {
		return &Error{Path: path, Err: ErrIsDirectory}
	}
	flags, pipe := os.O_WRONLY, target.Mode()&fs.ModeNamedPipe != 0
	switch {
	case target.Mode().IsRegular():
		flags |= os.O_TRUNC
	case pipe:
		flags |= syscall.O_NONBLOCK
	}
	f, err := os.OpenFile(path, flags, 0)
	if errors.Is(err, syscall.ENXIO) && pipe {
		return &Error{Path: path, Err: ErrNoReader}
	}
	if err != nil {
		return err
	}
	_ = f.Fd() // blocking writes from here on: a reader exists
	if _, err := f.Write(data); err != nil {
		f.Close()
		return &Error{Path: path, Err: unwrapPathError(err)}
	}
	if err := f.Close(); err != nil {
		return &Error{Path: path, Err: unwrapPathError(err)}
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openDescriptor says whether path leads, through links, to one of this
// process's open descriptors (/dev/stdout -> /proc/self/fd/1, /dev/fd/3):
// reopening it would start a second file offset at 0, and a redirected
// stdout would be overwritten from its start.
func openDescriptor(path string) (int, bool) {
	for range 40 { // the kernel's own limit on links followed
		if fd, ok := descriptorPath(path); ok {
			return fd, true
		}
		info, err := os.Lstat(path)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			return 0, false
		}
		target, err := os.Readlink(path)
		if err != nil {
			return 0, false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return 0, false
}

func descriptorPath(path string) (int, bool) {
	self := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd/"
	for _, prefix := range []string{"/proc/self/fd/", "/proc/thread-self/fd/", "/dev/fd/", self} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			fd, err := strconv.Atoi(rest)
			return fd, err == nil && fd >= 0
		}
	}
	return 0, false
}

// writeDescriptor writes to a copy of an open descriptor, at its offset.
func writeDescriptor(path string, fd int, data []byte) error {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return &Error{Path: path, Err: err}
	}
	f := os.NewFile(uintptr(dup), path)
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return &Error{Path: path, Err: ErrIsDirectory}
	}
	if _, err := f.Write(data); err != nil {
		return &Error{Path: path, Err: unwrapPathError(err)}
	}
	return nil
}

// WriteFileIn writes name inside root atomically, and only inside it: a
// parent directory that is a link out of root is refused, and a link at
// name itself is replaced, not followed. For the files of a directory
// proxysizer owns (a results directory), where a link planted by someone
// else must not turn a write into one elsewhere.
func WriteFileIn(root *os.Root, name string, data []byte, perm os.FileMode) error {
	shown := filepath.Join(root.Name(), name)
	if !filepath.IsLocal(name) {
		return &Error{Path: shown, Err: ErrOutside}
	}
	dir := filepath.Dir(name)
	if dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return inRootError(shown, err)
		}
	}
	if info, err := root.Lstat(name); err == nil && info.IsDir() {
		return &Error{Path: shown, Err: ErrIsDirectory}
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.tmp-%d-%d", filepath.Base(name), os.Getpid(), time.Now().UnixNano()))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return inRootError(shown, err)
	}
	defer root.Remove(tmp) // fails once renamed
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &Error{Path: shown, Err: unwrapPathError(err)}
	}
	if err := root.Rename(tmp, name); err != nil {
		return inRootError(shown, err)
	}
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	return syncClose(d)
}

// PrivateDir makes dir (mode 0700) if it is missing and checks that it is
// this user's own directory: not a link, owned by this user, writable by
// no one else. For a state directory at a predictable name under /tmp,
// where another user could have planted a link to turn root's writes into
// writes elsewhere.
func PrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	switch {
	case !info.IsDir():
		return &Error{Path: dir, Err: fmt.Errorf("is %s, not a private directory", Kind(info.Mode()))}
	case ok && int(st.Uid) != os.Geteuid():
		return &Error{Path: dir, Err: fmt.Errorf("belongs to user %d, not to this user (%d)", st.Uid, os.Geteuid())}
	case info.Mode().Perm()&0o022 != 0:
		return &Error{Path: dir, Err: fmt.Errorf("is writable by others (mode %v)", info.Mode().Perm())}
	}
	return nil
}
