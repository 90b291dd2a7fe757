package safefile_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/proxysizer/proxysizer/internal/fsguard"
	"github.com/proxysizer/proxysizer/internal/safefile"
)

// Every input that is not a regular file of bounded size is refused before
// it is read, and quickly: a device or a named pipe would read forever or
// block.
func TestReadFileRefusesWhatIsNotARegularBoundedFile(t *testing.T) {
	n := fsguard.MakeNodes(t)
	regular := filepath.Join(n.Dir, "profile.yaml")
	os.WriteFile(regular, []byte("name: x\n"), 0o644)
	linkToRegular := filepath.Join(n.Dir, "link-to-profile")
	os.Symlink(regular, linkToRegular)
	big := fsguard.Sparse(t, filepath.Join(n.Dir, "big"), 2<<20)
	tests := []struct {
		name, path string
		want       error
		wantText   string
	}{
		{"private /dev/zero", n.Zero, safefile.ErrNotRegular, "a character device"},
		{"private /dev/null", n.Null, safefile.ErrNotRegular, "a character device"},
		{"named pipe with no writer", n.FIFO, safefile.ErrNotRegular, "a named pipe"},
		{"directory", n.Dir, safefile.ErrNotRegular, "a directory"},
		{"link to a directory", n.LinkToDir, safefile.ErrNotRegular, "a directory"},
		{"link to a device", n.LinkToNull, safefile.ErrNotRegular, "a character device"},
		{"dangling link", n.Dangling, fs.ErrNotExist, "no such file"},
		{"missing", filepath.Join(n.Dir, "missing"), fs.ErrNotExist, "no such file"},
		{"over the limit (sparse 2 MiB)", big, safefile.ErrTooLarge, "more than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fsguard.Snap(t, n.Dir)
			start := time.Now()
			_, err := safefile.ReadFile(tt.path, 1<<20)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.wantText) || !strings.Contains(err.Error(), tt.path) {
				t.Errorf("ReadFile(%s) = %v, want %v (%q) naming the file", tt.path, err, tt.want, tt.wantText)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			before.AssertUnchanged(t)
		})
	}
	for _, ok := range []string{regular, linkToRegular} {
		if data, err := safefile.ReadFile(ok, 1<<20); err != nil || string(data) != "name: x\n" {
			t.Errorf("ReadFile(%s) = %q, %v", ok, data, err)
		}
	}
}

// A file read from inside a directory resolves inside it, links included.
func TestReadFileInStaysInside(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "results")
	os.MkdirAll(filepath.Join(dir, "steps"), 0o755)
	secret := filepath.Join(base, "secret")
	os.WriteFile(secret, []byte("root:x:0:0"), 0o600)
	os.WriteFile(filepath.Join(dir, "steps", "000.json"), []byte("{}"), 0o644)
	os.Symlink(secret, filepath.Join(dir, "steps", "abs-link.json"))
	os.Symlink("../../secret", filepath.Join(dir, "steps", "rel-link.json"))
	os.Symlink("000.json", filepath.Join(dir, "steps", "inside-link.json"))
	os.Symlink(base, filepath.Join(dir, "up"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"../secret", "../../../../etc/shadow", "/etc/shadow", secret, "steps/../../secret",
		"steps/abs-link.json", "steps/rel-link.json", "up/secret"} {
		data, err := safefile.ReadFileIn(root, name, 1<<20)
		if !errors.Is(err, safefile.ErrOutside) {
			t.Errorf("ReadFileIn(%q) = %q, %v; want %v", name, data, err, safefile.ErrOutside)
		}
	}
	for _, name := range []string{"steps/000.json", "steps/inside-link.json", "steps/./000.json"} {
		if data, err := safefile.ReadFileIn(root, name, 1<<20); err != nil || string(data) != "{}" {
			t.Errorf("ReadFileIn(%q) = %q, %v", name, data, err)
		}
	}
}

// The writer replaces regular files atomically, writes straight into
// devices, pipes and links (which stay what they are), and refuses
// directories and links to nothing.
func TestWriteFileByWhatThePathIs(t *testing.T) {
	n := fsguard.MakeNodes(t)
	regular := filepath.Join(n.Dir, "out.yaml")
	os.WriteFile(regular, []byte("old"), 0o644)
	target := filepath.Join(n.Dir, "target.yaml")
	os.WriteFile(target, []byte("old old old"), 0o644)
	linkToRegular := filepath.Join(n.Dir, "link-to-target")
	os.Symlink(target, linkToRegular)

	t.Run("new file in new directories", func(t *testing.T) {
		path := filepath.Join(n.Dir, "a", "b", "new.yaml")
		if err := safefile.WriteFile(path, []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		if info, _ := os.Stat(path); info == nil || info.Mode().Perm() != 0o600 {
			t.Errorf("mode %v", info)
		}
	})
	t.Run("regular file, atomically (a new inode)", func(t *testing.T) {
		var was syscall.Stat_t
		syscall.Stat(regular, &was)
		if err := safefile.WriteFile(regular, []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		var is syscall.Stat_t
		syscall.Stat(regular, &is)
		if data, _ := os.ReadFile(regular); string(data) != "new" || is.Ino == was.Ino {
			t.Errorf("content %q, inode %d -> %d", data, was.Ino, is.Ino)
		}
	})
	t.Run("link to a regular file: written through, the link kept", func(t *testing.T) {
		if err := safefile.WriteFile(linkToRegular, []byte("new"), 0o644); err != nil {
			t.Fatal(err)
		}
		info, _ := os.Lstat(linkToRegular)
		if data, _ := os.ReadFile(target); string(data) != "new" || info.Mode()&fs.ModeSymlink == 0 {
			t.Errorf("target %q, link %v", data, info.Mode())
		}
	})
	t.Run("private /dev/null and a link to it", func(t *testing.T) {
		before := fsguard.Snap(t, n.Null, n.LinkToNull)
		for _, path := range []string{n.Null, n.LinkToNull} {
			if err := safefile.WriteFile(path, []byte("into the void"), 0o644); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
		before.AssertUnchanged(t)
	})
	t.Run("private /dev/full fails with ENOSPC and stays a device", func(t *testing.T) {
		before := fsguard.Snap(t, n.Dir)
		err := safefile.WriteFile(n.Full, []byte("x"), 0o644)
		if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), n.Full) {
			t.Errorf("err = %v, want ENOSPC naming %s", err, n.Full)
		}
		before.AssertUnchanged(t)
	})
	t.Run("named pipe with a reader", func(t *testing.T) {
		got := make(chan string)
		go func() {
			f, err := os.Open(n.FIFO)
			if err != nil {
				got <- err.Error()
				return
			}
			data, _ := io.ReadAll(f)
			f.Close() // before the test goes on: the next one needs the pipe without a reader
			got <- string(data)
		}()
		deadline := time.Now().Add(5 * time.Second)
		var err error
		for err = safefile.WriteFile(n.FIFO, []byte("through the pipe"), 0o644); errors.Is(err, safefile.ErrNoReader) && time.Now().Before(deadline); err = safefile.WriteFile(n.FIFO, []byte("through the pipe"), 0o644) {
			time.Sleep(10 * time.Millisecond) // the reader is still opening
		}
		if err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "through the pipe" {
			t.Errorf("reader got %q", s)
		}
		if info, _ := os.Lstat(n.FIFO); info.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("the pipe became %v", info.Mode())
		}
	})
	refused := []struct {
		name, path string
		want       error
	}{
		{"directory", n.Dir, safefile.ErrIsDirectory},
		{"link to a directory", n.LinkToDir, safefile.ErrIsDirectory},
		{"link to nothing", n.Dangling, safefile.ErrDangling},
		{"named pipe with no reader", n.FIFO, safefile.ErrNoReader},
		{"below a regular file", filepath.Join(regular, "x"), syscall.ENOTDIR},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			before := fsguard.Snap(t, n.Dir)
			start := time.Now()
			if err := safefile.WriteFile(tt.path, []byte("x"), 0o644); !errors.Is(err, tt.want) {
				t.Errorf("WriteFile(%s) = %v, want %v", tt.path, err, tt.want)
			}
			if err := safefile.CheckWritable(tt.path); err == nil && tt.want != safefile.ErrNoReader {
				t.Errorf("CheckWritable(%s) = nil, want an error", tt.path)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			before.AssertUnchanged(t)
		})
	}
	for _, ok := range []string{regular, n.Null, n.Full, n.LinkToNull, linkToRegular, filepath.Join(n.Dir, "x", "y", "z")} {
		if err := safefile.CheckWritable(ok); err != nil {
			t.Errorf("CheckWritable(%s) = %v", ok, err)
		}
	}
}

// A link to one of this process's open descriptors (what /dev/stdout is)
// is written through that descriptor, at its offset: a redirected stdout
// keeps what was printed before, a pipe gets the bytes.
func TestWriteFileThroughAnOpenDescriptor(t *testing.T) {
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pipeLink := filepath.Join(dir, "stdout-pipe")
	os.Symlink("/proc/self/fd/"+strconv.Itoa(int(w.Fd())), pipeLink)
	if err := safefile.WriteFile(pipeLink, []byte("profile"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if got, _ := io.ReadAll(r); string(got) != "profile" {
		t.Errorf("the pipe got %q", got)
	}

	redirected := filepath.Join(dir, "redirected.txt")
	f, err := os.OpenFile(redirected, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("printed first\n")
	// Two hops, as /dev/stdout -> /proc/self/fd/1.
	hop := filepath.Join(dir, "fd")
	os.Symlink("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), hop)
	fileLink := filepath.Join(dir, "stdout-file")
	os.Symlink("fd", fileLink)
	if err := safefile.WriteFile(fileLink, []byte("then the profile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.WriteString("and after\n")
	if got, _ := os.ReadFile(redirected); string(got) != "printed first\nthen the profile\nand after\n" {
		t.Errorf("the redirected file holds %q", got)
	}
	if info, _ := os.Lstat(fileLink); info.Mode()&fs.ModeSymlink == 0 {
		t.Error("the link was replaced")
	}
}

// ReadStream reads pipes too (process substitution), to its bound, and a
// named pipe nobody writes as empty, without blocking.
func TestReadStream(t *testing.T) {
	n := fsguard.MakeNodes(t)
	start := time.Now()
	if data, err := safefile.ReadStream(n.FIFO, 1<<20); err != nil || len(data) != 0 {
		t.Errorf("a pipe nobody writes: %q, %v", data, err)
	}
	if time.Since(start) > time.Second {
		t.Error("blocked on a pipe nobody writes")
	}
	r, w, _ := os.Pipe()
	go func() { w.Write(make([]byte, 2<<20)); w.Close() }()
	if _, err := safefile.ReadStream("/proc/self/fd/"+strconv.Itoa(int(r.Fd())), 1<<20); !errors.Is(err, safefile.ErrTooLarge) {
		t.Errorf("a pipe of 2 MiB: %v, want too large", err)
	}
	r.Close()
	for _, refused := range []string{n.Zero, n.Dir} {
		if _, err := safefile.ReadStream(refused, 1<<20); !errors.Is(err, safefile.ErrNotRegular) {
			t.Errorf("ReadStream(%s) = %v", refused, err)
		}
	}
}

// Inside a directory of ours, a write replaces a link rather than follow
// it, and a subdirectory linking out is refused.
func TestWriteFileInStaysInside(t *testing.T) {
	base := t.TempDir()
	dir, outside := filepath.Join(base, "results"), filepath.Join(base, "outside")
	os.MkdirAll(filepath.Join(dir, "baseline"), 0o755)
	os.MkdirAll(outside, 0o755)
	victim := filepath.Join(outside, "crontab")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	os.Symlink(victim, filepath.Join(dir, "baseline", "200rps.fortio.json"))
	os.Symlink(outside, filepath.Join(dir, "steps"))
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	before := fsguard.Snap(t, outside)
	if err := safefile.WriteFileIn(root, "baseline/200rps.fortio.json", []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Lstat(filepath.Join(dir, "baseline", "200rps.fortio.json")); !info.Mode().IsRegular() {
		t.Errorf("the planted link is still %v", info.Mode())
	}
	for _, name := range []string{"steps/000.json", "../outside/x", "/tmp/x"} {
		if err := safefile.WriteFileIn(root, name, []byte("{}"), 0o644); !errors.Is(err, safefile.ErrOutside) {
			t.Errorf("WriteFileIn(%q) = %v, want %v", name, err, safefile.ErrOutside)
		}
	}
	before.AssertUnchanged(t)
}

// A state directory at a predictable name is used only if it is this
// user's own: a link planted there, or a directory others can write, is
// refused.
func TestPrivateDir(t *testing.T) {
	base := t.TempDir()
	if err := safefile.PrivateDir(filepath.Join(base, "new")); err != nil {
		t.Errorf("a new directory: %v", err)
	}
	os.Symlink(base, filepath.Join(base, "planted"))
	os.Mkdir(filepath.Join(base, "open"), 0o777)
	os.Chmod(filepath.Join(base, "open"), 0o777)
	for _, refused := range []string{filepath.Join(base, "planted"), filepath.Join(base, "open")} {
		if err := safefile.PrivateDir(refused); err == nil {
			t.Errorf("PrivateDir(%s) = nil", refused)
		}
	}
}
