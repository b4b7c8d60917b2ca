package storage

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

// The storage contract: one suite, run unchanged against every backend
// (local disk and a real HDFS). Each backend only says how to get a fresh
// base directory and how to act as a user without rights.

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	peers.RunTests(m)
}

// blockSize is the HDFS peer's block size (peers/hdfs/start.sh): files of a
// few MiB span several blocks there.
const blockSize = 1 << 20

type contractBackend struct {
	name string
	fsys FS
	// newBase returns a fresh, empty directory URI for one subtest.
	newBase func(t *testing.T) string
	// strangerProbe makes dir unreadable for another user and reports what
	// each probe op, done as that user, returned.
	strangerProbe func(t *testing.T, dir string, probes []probe) []probeResult
	// childEnv is extra environment for subprocesses that use the backend.
	childEnv []string
	// noDirRename marks an object store: renaming a directory would copy
	// every object below it, so the backend refuses (errors.ErrUnsupported)
	// and nothing moves.
	noDirRename bool
	// listCount is how many entries List10000 lists (0: 10,000). An
	// object store pays three requests per directory; its own test
	// (TestS3ListingPages) already pages past 1,000 keys.
	listCount int
}

type probe struct{ Op, URI string }

type probeResult struct {
	Err        string // "" = no error
	Permission bool   // the error matched fs.ErrPermission
	NotExist   bool   // the error matched fs.ErrNotExist
	NamesURI   bool   // the error is a *Error naming the probed URI
}

func TestContractLocal(t *testing.T) {
	runContract(t, contractBackend{
		name:          "local",
		fsys:          NewRouter(Options{}),
		newBase:       localBase,
		strangerProbe: localStrangerProbe,
	})
}

func TestContractHDFS(t *testing.T) {
	p := peers.HDFS(t)
	runContract(t, contractBackend{
		name:    "hdfs",
		fsys:    NewRouter(Options{Timeout: 30 * time.Second}),
		newBase: func(t *testing.T) string { return p.BaseURI(t) },
		strangerProbe: func(t *testing.T, dir string, probes []probe) []probeResult {
			// The superuser made dir; 0700 keeps every other HDFS user out
			// (permissions are on in the peer).
			c, err := p.Client("")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			loc, _ := Parse(dir)
			if err := c.Chmod(loc.Path, 0o700); err != nil {
				t.Fatal(err)
			}
			stranger := NewRouter(Options{User: "ckpt-stranger", Timeout: 30 * time.Second})
			return runProbes(stranger, probes)
		},
	})
}

func localBase(t *testing.T) string {
	base := t.TempDir()
	if os.Geteuid() == 0 {
		// The stranger probe runs as nobody: let it reach the base dir.
		os.Chmod(filepath.Dir(base), 0o755)
		os.Chmod(base, 0o755)
	}
	return base
}

// localStrangerProbe denies dir with chmod 000. Root ignores file modes, so
// as root the probes run in a child process as nobody.
func localStrangerProbe(t *testing.T, dir string, probes []probe) []probeResult {
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return runProbes(NewLocal(), probes)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The test binary lives in a 0700 build dir; nobody needs a copy it can run.
	binDir, err := os.MkdirTemp("", "ckpt-stranger-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(binDir) })
	os.Chmod(binDir, 0o755)
	bin := filepath.Join(binDir, "storage.test")
	if err := copyFile(os.Args[0], bin, 0o755); err != nil {
		t.Fatal(err)
	}
	var spec strings.Builder
	for _, p := range probes {
		fmt.Fprintf(&spec, "%s\t%s\n", p.Op, p.URI)
	}
	cmd := exec.Command(bin)
	cmd.Dir = binDir
	cmd.Env = append(os.Environ(), childEnv+"=probe", "CKPT_PROBES="+spec.String())
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("stranger child: %v\n%s", err, out)
	}
	return parseProbeResults(t, string(out), len(probes))
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}

func runProbes(fsys FS, probes []probe) []probeResult {
	ctx := context.Background()
	var out []probeResult
	for _, p := range probes {
		var err error
		switch p.Op {
		case "stat":
			_, err = fsys.Stat(ctx, p.URI)
		case "list":
			_, err = ListAll(ctx, fsys, p.URI)
		case "read":
			_, err = ReadAll(ctx, fsys, p.URI)
		case "create":
			err = WriteFile(ctx, fsys, p.URI, []byte("x"), CreateOptions{})
		case "mkdir":
			err = fsys.MkdirAll(ctx, p.URI)
		case "remove":
			err = fsys.Remove(ctx, p.URI)
		default:
			err = fmt.Errorf("unknown probe op %q", p.Op)
		}
		r := probeResult{}
		if err != nil {
			var se *Error
			r = probeResult{Err: err.Error(), Permission: errors.Is(err, fs.ErrPermission), NotExist: errors.Is(err, fs.ErrNotExist),
				NamesURI: errors.As(err, &se) && se.URI == p.URI && strings.Contains(err.Error(), p.URI)}
		}
		out = append(out, r)
	}
	return out
}

func parseProbeResults(t *testing.T, out string, n int) []probeResult {
	var res []probeResult
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.SplitN(line, "\t", 4)
		if len(f) != 4 || f[0] != "probe" {
			continue
		}
		res = append(res, probeResult{Permission: f[1] == "1", NotExist: f[2] == "1", NamesURI: strings.HasPrefix(f[3], "uri:"), Err: strings.TrimPrefix(strings.TrimPrefix(f[3], "uri:"), "-:")})
	}
	if len(res) != n {
		t.Fatalf("stranger child answered %d probes, want %d:\n%s", len(res), n, out)
	}
	return res
}

// childEnv selects a child mode of this test binary (see runChild).
const childEnv = "CKPT_STORAGE_CHILD"

// runChild runs the test binary as a helper process:
//   - probe: run CKPT_PROBES (op<TAB>uri lines) and print one result line each;
//   - writer: create CKPT_WRITE_URI, write CKPT_WRITE_BYTES bytes, print
//     "WRITING", then wait to be killed — never closing the file.
func runChild() int {
	ctx := context.Background()
	switch os.Getenv(childEnv) {
	case "probe":
		var probes []probe
		for _, line := range strings.Split(strings.TrimSpace(os.Getenv("CKPT_PROBES")), "\n") {
			if op, uri, ok := strings.Cut(line, "\t"); ok {
				probes = append(probes, probe{op, uri})
			}
		}
		for _, r := range runProbes(NewLocal(), probes) {
			b := func(v bool) string {
				if v {
					return "1"
				}
				return "0"
			}
			named := "-:"
			if r.NamesURI {
				named = "uri:"
			}
			fmt.Printf("probe\t%s\t%s\t%s%s\n", b(r.Permission), b(r.NotExist), named, strings.ReplaceAll(r.Err, "\n", " "))
		}
		return 0
	case "writer":
		uri := os.Getenv("CKPT_WRITE_URI")
		n, _ := strconv.Atoi(os.Getenv("CKPT_WRITE_BYTES"))
		w, err := NewRouter(Options{}).Create(ctx, uri, CreateOptions{})
		if err != nil {
			fmt.Println("ERROR", err)
			return 1
		}
		if _, err := w.Write(testData(n, 7)); err != nil {
			fmt.Println("ERROR", err)
			return 1
		}
		fmt.Println("WRITING")
		time.Sleep(10 * time.Minute) // killed long before
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown child mode", os.Getenv(childEnv))
	return 2
}

// testData is n reproducible pseudo-random bytes, so a misplaced block or
// range shows up as a mismatch rather than hiding in repeated patterns.
func testData(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

func runContract(t *testing.T, b contractBackend) {
	ctx := context.Background()
	fsys := b.fsys
	mustWrite := func(t *testing.T, uri string, data []byte) {
		t.Helper()
		if err := WriteFile(ctx, fsys, uri, data, CreateOptions{}); err != nil {
			t.Fatalf("write %s: %v", uri, err)
		}
	}
	mustRead := func(t *testing.T, uri string) []byte {
		t.Helper()
		got, err := ReadAll(ctx, fsys, uri)
		if err != nil {
			t.Fatalf("read %s: %v", uri, err)
		}
		return got
	}
	names := func(t *testing.T, dir string) []string {
		t.Helper()
		ents, err := ListAll(ctx, fsys, dir)
		if err != nil {
			t.Fatalf("list %s: %v", dir, err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name)
		}
		sort.Strings(out)
		return out
	}

	t.Run("RoundTrip", func(t *testing.T) {
		base := b.newBase(t)
		for _, n := range []int{0, 1, 4095, blockSize, 2*blockSize + blockSize/2 + 13} {
			uri := Join(base, fmt.Sprintf("f-%d", n))
			data := testData(n, uint64(n))
			mustWrite(t, uri, data)
			got := mustRead(t, uri)
			if !bytes.Equal(got, data) {
				t.Fatalf("%d bytes: read back differs (got %d bytes)", n, len(got))
			}
			fi, err := fsys.Stat(ctx, uri)
			if err != nil || fi.Size != int64(n) || fi.IsDir || fi.Name != path.Base(uri) || fi.URI != uri {
				t.Fatalf("stat %s = %+v, %v", uri, fi, err)
			}
			if fi.ModTime.IsZero() || time.Since(fi.ModTime) > time.Hour {
				t.Errorf("stat %s: implausible mtime %v", uri, fi.ModTime)
			}
			// Sequential reads through a small buffer cross block edges.
			f, err := fsys.Open(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := io.CopyBuffer(&buf, struct{ io.Reader }{f}, make([]byte, 4093)); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if !bytes.Equal(buf.Bytes(), data) || f.Size() != int64(n) {
				t.Fatalf("%d bytes: sequential read differs (got %d, Size %d)", n, buf.Len(), f.Size())
			}
		}
	})

	// Uploads copy local files with io.Copy: the kernel's copy where the
	// writer offers ReadFrom (local), a buffer elsewhere; same bytes.
	t.Run("CopyFromLocalFile", func(t *testing.T) {
		base := b.newBase(t)
		data := testData(3*blockSize+17, 7)
		src := filepath.Join(t.TempDir(), "src")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(src)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		uri := Join(base, "copied")
		w, err := fsys.Create(ctx, uri, CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(w, f); err != nil || n != int64(len(data)) {
			t.Fatalf("copy: %d, %v", n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, uri); !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, differs", len(got))
		}
		if rf, ok := w.(io.ReaderFrom); ok {
			if _, err := rf.ReadFrom(bytes.NewReader(data)); err == nil {
				t.Fatal("ReadFrom after Close succeeded")
			}
		}
	})

	t.Run("RangedReads", func(t *testing.T) {
		base := b.newBase(t)
		uri := Join(base, "ranged")
		data := testData(3*blockSize+100, 3)
		mustWrite(t, uri, data)
		f, err := fsys.Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		size := int64(len(data))
		cases := []struct {
			name    string
			off     int64
			n       int
			wantN   int
			wantEOF bool
		}{
			{"head", 0, 100, 100, false},
			{"middle", 12345, 5000, 5000, false},
			{"across first block edge", blockSize - 10, 20, 20, false},
			{"across two block edges", blockSize - 1, blockSize + 2, blockSize + 2, false},
			{"last byte", size - 1, 1, 1, false},
			{"runs past end", size - 10, 100, 10, true},
			{"at end", size, 10, 0, true},
			{"past end", size + 5, 10, 0, true},
		}
		for _, tc := range cases {
			buf := make([]byte, tc.n)
			n, err := f.ReadAt(buf, tc.off)
			if n != tc.wantN || (err == io.EOF) != tc.wantEOF || (err != nil && err != io.EOF) {
				t.Fatalf("%s: ReadAt(%d bytes at %d) = %d, %v; want %d, EOF=%v", tc.name, tc.n, tc.off, n, err, tc.wantN, tc.wantEOF)
			}
			if !bytes.Equal(buf[:n], data[min(tc.off, size):min(tc.off, size)+int64(n)]) {
				t.Fatalf("%s: wrong bytes", tc.name)
			}
		}
		// ReadAt leaves the sequential position alone; Seek moves it.
		head := make([]byte, 10)
		if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, data[:10]) {
			t.Fatalf("sequential read after ReadAt: %v", err)
		}
		if pos, err := f.Seek(2*blockSize+5, io.SeekStart); err != nil || pos != 2*blockSize+5 {
			t.Fatalf("seek: %d, %v", pos, err)
		}
		if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, data[2*blockSize+5:2*blockSize+15]) {
			t.Fatalf("read after seek: %v", err)
		}
		if pos, err := f.Seek(-4, io.SeekEnd); err != nil || pos != size-4 {
			t.Fatalf("seek from end: %d, %v", pos, err)
		}
		tailB, err := io.ReadAll(f)
		if err != nil || !bytes.Equal(tailB, data[size-4:]) {
			t.Fatalf("read to end after seek: %q, %v", tailB, err)
		}
		// Concurrent ReadAt calls are allowed by io.ReaderAt.
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				off := int64(i) * (size / 8)
				buf := make([]byte, 4096)
				if _, err := f.ReadAt(buf, off); err != nil {
					errs <- err
				} else if !bytes.Equal(buf, data[off:off+4096]) {
					errs <- fmt.Errorf("concurrent ReadAt at %d: wrong bytes", off)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	})

	t.Run("AtomicCreate", func(t *testing.T) {
		base := b.newBase(t)
		uri := Join(base, "_metadata")
		w, err := fsys.Create(ctx, uri, CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(testData(blockSize+10, 1)); err != nil {
			t.Fatal(err)
		}
		// Mid-write: nothing at the target; only a temporary name, which
		// readers recognise.
		if _, err := fsys.Stat(ctx, uri); !IsNotExist(err) {
			t.Fatalf("target visible before Close: %v", err)
		}
		if got := names(t, base); len(got) != 1 || !IsTemporary(got[0]) || !strings.Contains(got[0], "_metadata") {
			t.Fatalf("listing mid-write = %q, want one temporary name", got)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := names(t, base); len(got) != 1 || got[0] != "_metadata" {
			t.Fatalf("listing after Close = %q, want [_metadata]", got)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}

		// No overwrite without Overwrite: the old bytes stay.
		err = WriteFile(ctx, fsys, uri, []byte("new"), CreateOptions{})
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("create over existing file: %v, want fs.ErrExist", err)
		}
		if got := mustRead(t, uri); len(got) != blockSize+10 {
			t.Fatalf("existing file changed to %d bytes", len(got))
		}
		if err := WriteFile(ctx, fsys, uri, []byte("new"), CreateOptions{Overwrite: true, Sync: true}); err != nil {
			t.Fatalf("overwrite: %v", err)
		}
		if got := mustRead(t, uri); string(got) != "new" {
			t.Fatalf("after overwrite: %q", got)
		}

		// Abort leaves nothing behind.
		w, err = fsys.Create(ctx, Join(base, "aborted"), CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(testData(blockSize+5, 2))
		if err := w.Abort(); err != nil {
			t.Fatalf("abort: %v", err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Fatal("Write after Abort succeeded")
		}
		if got := names(t, base); len(got) != 1 || got[0] != "_metadata" {
			t.Fatalf("listing after Abort = %q, want only _metadata", got)
		}

		// A target that appears while we write wins; ours is dropped.
		w, err = fsys.Create(ctx, Join(base, "raced"), CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("loser"))
		mustWrite(t, Join(base, "raced"), []byte("winner"))
		if err := w.Close(); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Close onto a target created meanwhile: %v, want fs.ErrExist", err)
		}
		if got := mustRead(t, Join(base, "raced")); string(got) != "winner" {
			t.Fatalf("raced target = %q", got)
		}
		if got := names(t, base); len(got) != 2 {
			t.Fatalf("failed Close left files behind: %q", got)
		}

		// Creating in a missing directory fails, naming the URI.
		missing := Join(base, "no-such-dir", "f")
		err = WriteFile(ctx, fsys, missing, []byte("x"), CreateOptions{})
		if !IsNotExist(err) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("create in missing dir: %v", err)
		}
	})

	t.Run("AtomicCreateWriterKilled", func(t *testing.T) {
		base := b.newBase(t)
		uri := Join(base, "chk-1", "_metadata")
		if err := fsys.MkdirAll(ctx, Dir(uri)); err != nil {
			t.Fatal(err)
		}
		// A separate process writes more than a block, then is SIGKILLed
		// before Close: no cleanup code of ours runs.
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(append(os.Environ(), b.childEnv...), childEnv+"=writer", "CKPT_WRITE_URI="+uri,
			"CKPT_WRITE_BYTES="+strconv.Itoa(blockSize+blockSize/2))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if strings.TrimSpace(line) != "WRITING" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("writer child said %q", line)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()

		if _, err := fsys.Stat(ctx, uri); !IsNotExist(err) {
			t.Fatalf("partial file visible at %s after the writer died: %v", uri, err)
		}
		if _, err := ReadAll(ctx, fsys, uri); !IsNotExist(err) {
			t.Fatalf("reading the target after the writer died: %v", err)
		}
		left := names(t, Dir(uri))
		if len(left) != 1 || !IsTemporary(left[0]) {
			t.Fatalf("after the killed write the dir holds %q, want one temporary name", left)
		}
		// The leftover does not block a later writer of the same file.
		mustWrite(t, uri, []byte("complete"))
		if got := mustRead(t, uri); string(got) != "complete" {
			t.Fatalf("rewrite = %q", got)
		}
	})

	t.Run("List10000", func(t *testing.T) {
		base := b.newBase(t)
		dir := Join(base, "many")
		n := 10000
		if b.listCount > 0 {
			n = b.listCount
		}
		want := map[string]bool{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		errc := make(chan error, 1)
		work := make(chan int)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					name := fmt.Sprintf("e-%05d", i)
					var err error
					if i%1000 == 0 {
						err = WriteFile(ctx, fsys, Join(dir, name), []byte(name), CreateOptions{})
					} else {
						err = fsys.MkdirAll(ctx, Join(dir, name))
					}
					if err != nil {
						select {
						case errc <- err:
						default:
						}
						return
					}
					mu.Lock()
					want[name] = true
					mu.Unlock()
				}
			}()
		}
		if err := fsys.MkdirAll(ctx, dir); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		select {
		case err := <-errc:
			t.Fatal(err)
		default:
		}

		l, err := fsys.List(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		seen := map[string]int{}
		pages, biggest := 0, 0
		for {
			page, err := l.Next(ctx)
			if len(page) > 0 {
				pages++
				biggest = max(biggest, len(page))
			}
			for _, e := range page {
				seen[e.Name]++
				if e.URI != Join(dir, e.Name) {
					t.Fatalf("entry %s has URI %s, want %s", e.Name, e.URI, Join(dir, e.Name))
				}
				if wantDir := !strings.HasSuffix(e.Name, "000"); e.IsDir != wantDir {
					t.Fatalf("entry %s: IsDir=%v", e.Name, e.IsDir)
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(seen) != n {
			t.Fatalf("listed %d distinct names, want %d", len(seen), n)
		}
		for name, c := range seen {
			if c != 1 || !want[name] {
				t.Fatalf("%s listed %d times (created: %v)", name, c, want[name])
			}
		}
		if pages < max(2, n/1000) || biggest > listPage {
			t.Fatalf("%d pages of at most %d entries: listing is not paged", pages, biggest)
		}
		if _, err := l.Next(ctx); !errors.Is(err, io.EOF) {
			t.Fatalf("Next after the end: %v, want io.EOF", err)
		}
	})

	t.Run("Rename", func(t *testing.T) {
		base := b.newBase(t)
		a, c := Join(base, "a"), Join(base, "c")
		mustWrite(t, a, []byte("A"))
		if err := fsys.Rename(ctx, a, Join(base, "b")); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Stat(ctx, a); !IsNotExist(err) {
			t.Fatalf("source still there: %v", err)
		}
		if got := mustRead(t, Join(base, "b")); string(got) != "A" {
			t.Fatalf("renamed file = %q", got)
		}
		// Onto an existing target: refused, both untouched.
		mustWrite(t, c, []byte("C"))
		err := fsys.Rename(ctx, Join(base, "b"), c)
		if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), c) {
			t.Fatalf("rename onto existing: %v, want fs.ErrExist naming %s", err, c)
		}
		if string(mustRead(t, Join(base, "b"))) != "A" || string(mustRead(t, c)) != "C" {
			t.Fatal("a refused rename changed a file")
		}
	})

	t.Run("RenameDir", func(t *testing.T) {
		base := b.newBase(t)
		if err := fsys.MkdirAll(ctx, Join(base, "d1", "x")); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, Join(base, "d1", "x", "y"), []byte("Y"))
		if b.noDirRename {
			err := fsys.Rename(ctx, Join(base, "d1"), Join(base, "d2"))
			if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), Join(base, "d1")) {
				t.Fatalf("dir rename on %s: %v, want errors.ErrUnsupported naming the dir", b.name, err)
			}
			if string(mustRead(t, Join(base, "d1", "x", "y"))) != "Y" {
				t.Fatal("a refused dir rename changed the source")
			}
			if _, err := fsys.Stat(ctx, Join(base, "d2")); !IsNotExist(err) {
				t.Fatalf("a refused dir rename made the target: %v", err)
			}
			missing := Join(base, "nope")
			if err := fsys.Rename(ctx, missing, Join(base, "d4")); !IsNotExist(err) || !strings.Contains(err.Error(), missing) {
				t.Fatalf("rename of missing source: %v", err)
			}
			return
		}
		if err := fsys.Rename(ctx, Join(base, "d1"), Join(base, "d2")); err != nil {
			t.Fatal(err)
		}
		if string(mustRead(t, Join(base, "d2", "x", "y"))) != "Y" {
			t.Fatal("dir rename lost its contents")
		}
		if err := fsys.MkdirAll(ctx, Join(base, "d3")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Rename(ctx, Join(base, "d2"), Join(base, "d3")); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("dir rename onto existing dir: %v, want fs.ErrExist", err)
		}
		missing := Join(base, "nope")
		if err := fsys.Rename(ctx, missing, Join(base, "d4")); !IsNotExist(err) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("rename of missing source: %v", err)
		}
	})

	t.Run("MkdirAll", func(t *testing.T) {
		base := b.newBase(t)
		deep := Join(base, "a", "b", "c")
		for range 2 { // idempotent
			if err := fsys.MkdirAll(ctx, deep); err != nil {
				t.Fatal(err)
			}
		}
		if fi, err := fsys.Stat(ctx, deep); err != nil || !fi.IsDir {
			t.Fatalf("stat %s: %+v %v", deep, fi, err)
		}
		mustWrite(t, Join(base, "file"), []byte("x"))
		if err := fsys.MkdirAll(ctx, Join(base, "file", "sub")); err == nil {
			t.Fatal("mkdir below a file succeeded")
		}
	})

	t.Run("Remove", func(t *testing.T) {
		// Remove is never recursive: a directory with entries stays whole.
		base := b.newBase(t)
		root := Join(base, "job")
		for _, p := range []string{"chk-1/_metadata", "chk-1/a", "shared/s1"} {
			uri := Join(root, filepath.FromSlash(p))
			if err := fsys.MkdirAll(ctx, Dir(uri)); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, uri, testData(100, 1))
		}
		if err := fsys.Remove(ctx, Join(root, "chk-1")); !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), Join(root, "chk-1")) {
			t.Fatalf("remove of a non-empty dir: %v, want ErrNotEmpty naming it", err)
		}
		if got := names(t, Join(root, "chk-1")); strings.Join(got, ",") != "_metadata,a" {
			t.Fatalf("non-empty dir lost entries: %q", got)
		}
		for _, f := range []string{"chk-1/_metadata", "chk-1/a"} {
			if err := fsys.Remove(ctx, Join(root, filepath.FromSlash(f))); err != nil {
				t.Fatal(err)
			}
		}
		if err := fsys.Remove(ctx, Join(root, "chk-1")); err != nil {
			t.Fatalf("remove of an empty dir: %v", err)
		}
		if got := names(t, root); strings.Join(got, ",") != "shared" {
			t.Fatalf("after removing chk-1: %q", got)
		}
		if err := fsys.Remove(ctx, Join(root, "chk-1")); err != nil {
			t.Fatalf("removing a missing path: %v, want nil", err)
		}
		fi, err := fsys.Lstat(ctx, Join(root, "shared", "s1"))
		if err != nil || fi.IsDir || fi.IsSymlink() || fi.Size != 100 {
			t.Fatalf("lstat of a file: %+v %v", fi, err)
		}
		if _, err := fsys.Lstat(ctx, Join(root, "nope")); !IsNotExist(err) {
			t.Fatalf("lstat of a missing path: %v", err)
		}
	})

	t.Run("WalkAndDiskUsage", func(t *testing.T) {
		base := b.newBase(t)
		root := Join(base, "job")
		files := map[string]int{
			"chk-3/_metadata":   1234,
			"chk-3/op-state":    blockSize + 7,
			"chk-4/_metadata":   999,
			"shared/sst-1":      2*blockSize + 1,
			"shared/sst-2":      0,
			"shared/nested/x":   17,
			"taskowned/empty/y": 3,
		}
		var total int64
		for p, n := range files {
			uri := Join(root, filepath.FromSlash(p))
			if err := fsys.MkdirAll(ctx, Dir(uri)); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, uri, testData(n, uint64(n)))
			total += int64(n)
		}
		if err := fsys.MkdirAll(ctx, Join(root, "emptydir")); err != nil {
			t.Fatal(err)
		}
		// root, chk-3, chk-4, shared, shared/nested, taskowned, taskowned/empty, emptydir
		want := Usage{Files: int64(len(files)), Dirs: 8, Bytes: total}
		u, err := DiskUsage(ctx, fsys, root)
		if err != nil || u != want {
			t.Fatalf("DiskUsage = %+v, %v; want %+v", u, err, want)
		}
		if u, err := Summarize(ctx, fsys, root); err != nil || u != want {
			t.Fatalf("Summarize = %+v, %v; want %+v", u, err, want)
		}
		if u, err := DiskUsage(ctx, fsys, Join(root, "chk-3", "_metadata")); err != nil || u != (Usage{Files: 1, Bytes: 1234}) {
			t.Fatalf("DiskUsage of one file = %+v, %v", u, err)
		}
		if u, err := Summarize(ctx, fsys, Join(root, "chk-3", "_metadata")); err != nil || u != (Usage{Files: 1, Bytes: 1234}) {
			t.Fatalf("Summarize of one file = %+v, %v", u, err)
		}

		// Walk: every entry once, parents first, sizes as written.
		var order []string
		seen := map[string]FileInfo{}
		err = fsys.Walk(ctx, root, func(fi FileInfo) error {
			rel := strings.TrimPrefix(strings.TrimPrefix(filepath.ToSlash(fi.URI), filepath.ToSlash(root)), "/")
			if _, dup := seen[rel]; dup {
				return fmt.Errorf("%s visited twice", rel)
			}
			if rel != "" {
				if _, ok := seen[path.Dir(rel)]; !ok && path.Dir(rel) != "." {
					return fmt.Errorf("%s visited before its parent", rel)
				}
			}
			seen[rel] = fi
			order = append(order, rel)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) != len(files)+8 {
			t.Fatalf("walk visited %d entries, want %d: %q", len(seen), len(files)+8, order)
		}
		for p, n := range files {
			if fi, ok := seen[p]; !ok || fi.Size != int64(n) || fi.IsDir {
				t.Fatalf("walk saw %s as %+v", p, fi)
			}
		}
		// SkipDir prunes a subtree; another error stops the walk.
		var visited []string
		stop := errors.New("stop")
		err = fsys.Walk(ctx, root, func(fi FileInfo) error {
			visited = append(visited, fi.Name)
			if fi.IsDir && fi.Name == "shared" {
				return fs.SkipDir
			}
			if fi.Name == "taskowned" {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Fatalf("walk returned %v, want the callback's error", err)
		}
		for _, v := range visited {
			if v == "sst-1" || v == "nested" || v == "empty" {
				t.Fatalf("walk went into a skipped or stopped dir: %q", visited)
			}
		}
	})

	t.Run("Errors", func(t *testing.T) {
		base := b.newBase(t)
		missing := Join(base, "missing")
		mustWrite(t, Join(base, "file"), []byte("x"))
		check := func(what string, err error, uri string, want error) {
			t.Helper()
			var se *Error
			if !errors.Is(err, want) || !errors.As(err, &se) || !strings.Contains(err.Error(), uri) {
				t.Errorf("%s: %v; want %v naming %s", what, err, want, uri)
			}
		}
		_, err := fsys.Stat(ctx, missing)
		check("stat missing", err, missing, fs.ErrNotExist)
		_, err = fsys.Open(ctx, missing)
		check("open missing", err, missing, fs.ErrNotExist)
		_, err = fsys.List(ctx, missing)
		check("list missing", err, missing, fs.ErrNotExist)
		err = fsys.Walk(ctx, missing, func(FileInfo) error { return nil })
		check("walk missing", err, missing, fs.ErrNotExist)
		if _, err := fsys.List(ctx, Join(base, "file")); err == nil || !strings.Contains(err.Error(), "not a directory") {
			t.Errorf("list of a file: %v", err)
		}
		if _, err := fsys.Open(ctx, base); err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("open of a directory: %v", err)
		}
		// A cancelled context stops a call before it starts.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := fsys.Stat(cctx, base); !errors.Is(err, context.Canceled) {
			t.Errorf("stat with a cancelled context: %v", err)
		}
	})

	t.Run("PermissionDenied", func(t *testing.T) {
		base := b.newBase(t)
		private := Join(base, "private")
		if err := fsys.MkdirAll(ctx, private); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, Join(private, "secret"), []byte("s"))
		probes := []probe{
			{"stat", Join(private, "secret")},
			{"list", private},
			{"read", Join(private, "secret")},
			{"create", Join(private, "new")},
			{"mkdir", Join(private, "sub")},
		}
		res := b.strangerProbe(t, private, probes)
		for i, p := range probes {
			r := res[i]
			if !r.Permission || !r.NamesURI || r.NotExist {
				t.Errorf("%s %s as a stranger: %+v; want permission denied naming the URI", p.Op, p.URI, r)
			}
		}
		// The owner still gets in.
		if got := names(t, private); strings.Join(got, ",") != "secret" {
			t.Fatalf("owner lists %q", got)
		}
	})
}
