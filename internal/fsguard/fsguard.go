// Package fsguard gives the hostile-input tests their files: private device
// nodes, named pipes and links made in a test's temporary directory (never
// the machine's own /dev entries, which a broken writer would replace), and
// a snapshot of a directory tree that proves a refused command left it
// untouched: no file created, replaced, removed or half-written.
package fsguard

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Nodes are private special files in one directory: copies of /dev/full,
// /dev/null and /dev/zero (the same device numbers), a named pipe no
// process opens, and links to them.
type Nodes struct {
	Dir                   string
	Full, Null, Zero      string // character devices 1,7 / 1,3 / 1,5
	FIFO                  string // a named pipe with no writer and no reader
	LinkToNull, LinkToDir string // symbolic links to Null and to Dir
	Dangling              string // a symbolic link to nothing
}

// MakeNodes creates Nodes in a new temporary directory. It needs root
// (mknod), which the project's tests run as; it fails the test otherwise.
func MakeNodes(t testing.TB) Nodes {
	t.Helper()
	dir := t.TempDir()
	n := Nodes{Dir: dir, Full: filepath.Join(dir, "full"), Null: filepath.Join(dir, "null"), Zero: filepath.Join(dir, "zero"),
		FIFO: filepath.Join(dir, "fifo"), LinkToNull: filepath.Join(dir, "link-to-null"), LinkToDir: filepath.Join(dir, "link-to-dir"),
		Dangling: filepath.Join(dir, "dangling")}
	for path, minor := range map[string]int{n.Full: 7, n.Null: 3, n.Zero: 5} {
		if err := syscall.Mknod(path, syscall.S_IFCHR|0o666, int(unix.Mkdev(1, uint32(minor)))); err != nil {
			t.Fatalf("mknod %s (the hostile-input tests run as root): %v", path, err)
		}
	}
	if err := syscall.Mkfifo(n.FIFO, 0o644); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{n.LinkToNull: n.Null, n.LinkToDir: dir, n.Dangling: filepath.Join(dir, "nothing-here")} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// Sparse creates a file of size bytes that takes no space: for inputs over
// a size limit.
func Sparse(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}

// hashUpTo: larger files (the sparse ones over a size limit) are told
// apart by size, inode and modification time only.
const hashUpTo = 4 << 20

// entry is what a snapshot records of one file.
type entry struct {
	mode    fs.FileMode
	size    int64
	sum     [32]byte
	link    string
	rdev    uint64
	inode   uint64
	modTime time.Time
}

func (e entry) String() string {
	switch {
	case e.mode&fs.ModeSymlink != 0:
		return fmt.Sprintf("link -> %s", e.link)
	case e.mode&fs.ModeDevice != 0:
		return fmt.Sprintf("%v device %d", e.mode, e.rdev)
	case e.mode.IsRegular():
		return fmt.Sprintf("%v %d bytes sha256 %x inode %d", e.mode, e.size, e.sum[:4], e.inode)
	}
	return e.mode.String()
}

// Snapshot is the state of some directory trees.
type Snapshot struct {
	roots   []string
	entries map[string]entry
}

// Snap records every file under roots (not following links; named pipes
// and devices are never opened).
func Snap(t testing.TB, roots ...string) Snapshot {
	t.Helper()
	s := Snapshot{roots: roots, entries: map[string]entry{}}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) && path == root {
					return nil // a root that does not exist yet must stay so
				}
				return err
			}
			info, err := os.Lstat(path)
			if err != nil {
				return err
			}
			st := info.Sys().(*syscall.Stat_t)
			e := entry{mode: info.Mode(), size: info.Size(), rdev: st.Rdev, inode: st.Ino, modTime: info.ModTime()}
			switch {
			case info.Mode()&fs.ModeSymlink != 0:
				e.link, err = os.Readlink(path)
			case info.Mode().IsRegular() && info.Size() <= hashUpTo:
				var data []byte
				data, err = os.ReadFile(path)
				e.sum = sha256.Sum256(data)
			}
			s.entries[path] = e
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// AssertUnchanged fails the test for every file under the snapshot's roots
// that was created, removed or changed since.
func (s Snapshot) AssertUnchanged(t testing.TB) {
	t.Helper()
	now := Snap(t, s.roots...)
	var diffs []string
	for path, was := range s.entries {
		is, ok := now.entries[path]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("removed %s (was %s)", path, was))
		case is.mode != was.mode || is.size != was.size || is.sum != was.sum || is.link != was.link || is.rdev != was.rdev ||
			(was.mode.IsRegular() && (is.inode != was.inode || !is.modTime.Equal(was.modTime))):
			diffs = append(diffs, fmt.Sprintf("changed %s: was %s, now %s", path, was, is))
		}
	}
	for path, is := range now.entries {
		if _, ok := s.entries[path]; !ok {
			diffs = append(diffs, fmt.Sprintf("created %s (%s)", path, is))
		}
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		t.Errorf("the filesystem changed:\n  %s", strings.Join(diffs, "\n  "))
	}
}
