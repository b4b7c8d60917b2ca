package checkpoint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
	"github.com/ckpt-dev/ckpt/storage"
)

// holdFS wraps local storage: the first Write of each file hold picks
// blocks until release is closed, after telling entered.
type holdFS struct {
	storage.FS
	hold    func(uri string) bool
	entered chan string
	release chan struct{}
}

func newHoldFS(hold func(string) bool) *holdFS {
	return &holdFS{FS: storage.NewLocal(), hold: hold, entered: make(chan string, 16), release: make(chan struct{})}
}

func (h *holdFS) Create(ctx context.Context, uri string, opts storage.CreateOptions) (storage.Writer, error) {
	w, err := h.FS.Create(ctx, uri, opts)
	if err != nil || !h.hold(uri) {
		return w, err
	}
	return &holdWriter{Writer: w, h: h, uri: uri}, nil
}

type holdWriter struct {
	storage.Writer
	h    *holdFS
	uri  string
	held bool
}

func (w *holdWriter) Write(b []byte) (int, error) {
	if !w.held {
		w.held = true
		w.h.entered <- w.uri
		<-w.h.release
	}
	return w.Writer.Write(b)
}

// scriptRuntime lets a test play the tasks: it only records barriers.
type scriptRuntime struct {
	barriers chan int64
	aborted  chan int64
}

func newScriptRuntime() *scriptRuntime {
	return &scriptRuntime{barriers: make(chan int64, 16), aborted: make(chan int64, 16)}
}

func (r *scriptRuntime) InjectBarrier(id int64, _ BarrierOptions) error { r.barriers <- id; return nil }
func (r *scriptRuntime) ResumeSources()                                 {}
func (r *scriptRuntime) NotifyComplete(int64)                           {}
func (r *scriptRuntime) NotifyAborted(id int64)                         { r.aborted <- id }

const testJobID = "0123456789abcdef0123456789abcdef"

// twoSubtasks is a coordinator over one source of parallelism 2 whose
// checkpoints go to dir (create-subdir as given).
func twoSubtasks(t *testing.T, fsys storage.FS, dir string, subdir bool, opts config.Checkpointing) (*Coordinator, *scriptRuntime, chan event.Event) {
	t.Helper()
	g := graph.New("t")
	g.Source("s", func() operator.Source { return nil }).UID("s").Parallelism(2)
	if err := g.Finalize(2, 0); err != nil {
		t.Fatal(err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	opts.NumRetained = max(opts.NumRetained, 1)
	opts.MaxConcurrent = max(opts.MaxConcurrent, 1)
	if opts.Retention == "" {
		opts.Retention = config.DeleteOnCancellation
	}
	events := make(chan event.Event, 1000)
	c := New(opts, NewLayout(fsys, dir, testJobID, subdir), g, testJobID, func(e event.Event) {
		select {
		case events <- e:
		default:
		}
	}, func(err error) { t.Errorf("the job was failed over: %v", err) })
	rt := newScriptRuntime()
	c.Attach(rt)
	return c, rt, events
}

// precious writes files that are not the job's into dir and returns a
// check that they are all still there, unchanged.
func precious(t *testing.T, dir string, rel ...string) func() {
	t.Helper()
	for _, r := range rel {
		p := filepath.Join(dir, r)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("precious "+r), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		t.Helper()
		for _, r := range rel {
			b, err := os.ReadFile(filepath.Join(dir, r))
			if err != nil || string(b) != "precious "+r {
				t.Errorf("%s was not the job's and is gone or changed: %v", r, err)
			}
		}
	}
}

// tree lists every file and directory below dir, relative and sorted.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// keyedStaging is a staging directory with one shared and one private file.
func keyedStaging(t *testing.T) *KeyedSnapshot {
	dir := t.TempDir()
	var files []state.File
	for _, f := range []struct {
		name   string
		shared bool
	}{{"000007.sst", true}, {"MANIFEST-000001", false}} {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, []byte(strings.Repeat(f.name, 100)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, state.File{Name: f.name, Path: p, Size: int64(100 * len(f.name)), Shared: f.shared})
	}
	return &KeyedSnapshot{Staging: dir, Files: files, BackendID: NewHandleID(), Range: keygroup.Range{Start: 0, End: 63}}
}

// bigOpState is operator state above the inline threshold: it is written
// to a file in the checkpoint's directory.
func bigOpState() operator.State {
	return operator.State{"offsets": {make([]byte, memoryThreshold+1)}}
}

// A checkpoint aborted while one of its uploads is still writing into
// chk-N: the upload finishes after the abort, and then nothing of the
// checkpoint remains — not its chk-N, not the shared file the upload put
// into shared/ — while an upload that starts only after the abort is
// refused and writes nothing. Nothing that is not the job's is touched
// (create-subdir off: the job directory is the configured one).
func TestAbortedCheckpointWaitsForItsUploads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	intact := precious(t, dir, "README.txt", "chk-5/_metadata", "shared/other-jobs.sst")
	fsys := newHoldFS(func(uri string) bool { return storage.Base(storage.Dir(uri)) == "chk-1" })
	c, rt, _ := twoSubtasks(t, fsys, dir, false, config.Checkpointing{Tolerable: 5})
	id, done := c.Trigger(false)
	if id != 1 {
		t.Fatalf("checkpoint %d, want 1", id)
	}
	<-rt.barriers
	uploaded := make(chan error, 1)
	go func() {
		res, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true,
			OperatorSnapshot{Vertex: 0, Subtask: 0, Keyed: keyedStaging(t)})
		c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}, Err: err})
		uploaded <- err
	}()
	held := <-fsys.entered // the shared file is up; chk-1's private file is being written
	c.Ack(TaskAck{CheckpointID: id, Err: errors.New("subtask 1 declined")})
	if err := <-done; err == nil || !strings.Contains(err.Error(), "declined") {
		t.Fatalf("checkpoint 1 ended with %v, want the decline", err)
	}
	if got := <-rt.aborted; got != id {
		t.Fatalf("tasks told of the abort of %d, want %d", got, id)
	}
	// The task that sees the barrier only now: refused, nothing written.
	_, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true,
		OperatorSnapshot{Vertex: 0, Subtask: 1, OpState: bigOpState()})
	if !errors.Is(err, ErrNotPending) {
		t.Fatalf("upload after the abort: %v, want ErrNotPending", err)
	}
	if _, err := os.Stat(filepath.FromSlash(held)); !os.IsNotExist(err) {
		t.Fatalf("%s visible while its upload is held (%v)", held, err)
	}
	close(fsys.release)
	<-uploaded
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitCleanup(ctx); err != nil {
		t.Fatal(err)
	}
	want := []string{"README.txt", "chk-5", "chk-5/_metadata", "shared", "shared/other-jobs.sst", "taskowned"}
	if got := tree(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the abort the configured directory holds %v, want %v", got, want)
	}
	intact()
	c.Shutdown("CANCELED")
	// taskowned/ was the job's and is empty; shared/ holds another job's file.
	want = []string{"README.txt", "chk-5", "chk-5/_metadata", "shared", "shared/other-jobs.sst"}
	if got := tree(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("after the job ended the configured directory holds %v, want %v", got, want)
	}
	intact()
}

// The coordinator's own _metadata write racing the checkpoint's expiry:
// the metadata lands after the abort and is removed with the rest, so no
// complete-looking chk-N without its files remains.
func TestExpiryDuringMetadataWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ckpt")
	fsys := newHoldFS(func(uri string) bool { return storage.Base(uri) == MetadataName })
	c, rt, _ := twoSubtasks(t, fsys, dir, true, config.Checkpointing{Timeout: 300 * time.Millisecond, Tolerable: 5})
	id, done := c.Trigger(false)
	<-rt.barriers
	for sub := 0; sub < 2; sub++ {
		res, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true, OperatorSnapshot{Vertex: 0, Subtask: sub, OpState: bigOpState()})
		if err != nil {
			t.Fatal(err)
		}
		go c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}})
	}
	<-fsys.entered
	if err := <-done; err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("checkpoint ended with %v, want expiry", err)
	}
	close(fsys.release)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitCleanup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := FindLatest(ctx, storage.NewLocal(), dir); ok || err != nil {
		t.Fatalf("a complete checkpoint remains after the expiry (%v)", err)
	}
	if got := tree(t, c.Layout().JobDir); strings.Join(got, " ") != "shared taskowned" {
		t.Fatalf("job directory holds %v after the expiry", got)
	}
}

// A chk-N the job did not create (another job's, create-subdir off) is
// never written into nor deleted: that checkpoint fails without counting
// towards tolerable failures, the next one completes. When the job ends,
// its own checkpoint goes, the other job's files and the user's stay.
func TestForeignCheckpointDirIsNeverTouched(t *testing.T) {
	for _, status := range []string{"FINISHED", "CANCELED"} {
		t.Run(status, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ckpt")
			intact := precious(t, dir, "README.txt", "chk-1/_metadata", "chk-1/state")
			c, rt, _ := twoSubtasks(t, storage.NewLocal(), dir, false, config.Checkpointing{})
			_, done := c.Trigger(false)
			if err := <-done; err == nil || !strings.Contains(err.Error(), "already exists") {
				t.Fatalf("checkpoint 1 into another job's chk-1: %v, want a refusal", err)
			}
			select {
			case id := <-rt.barriers:
				t.Fatalf("barrier %d injected for a refused checkpoint", id)
			default:
			}
			id, done := c.Trigger(false)
			<-rt.barriers
			for sub := 0; sub < 2; sub++ {
				res, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true,
					OperatorSnapshot{Vertex: 0, Subtask: sub, OpState: bigOpState(), Keyed: keyedStaging(t)})
				if err != nil {
					t.Fatal(err)
				}
				c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}})
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, "chk-2", MetadataName)); err != nil {
				t.Fatal(err)
			}
			c.Shutdown(status)
			want := []string{"README.txt", "chk-1", "chk-1/_metadata", "chk-1/state"}
			if got := tree(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("after the job ended %s the configured directory holds %v, want %v", status, got, want)
			}
			intact()
		})
	}
}

// A failed savepoint removes exactly the files its tasks uploaded. Into a
// directory the user gave that already held files, those stay and so does
// the directory; a directory the savepoint created goes.
func TestFailedSavepointRemovesOnlyItsFiles(t *testing.T) {
	tests := []struct {
		name     string
		existing []string // in the savepoint directory before
	}{
		{"into a user directory with notes", []string{"notes.txt"}},
		{"into a directory it creates", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spDir := filepath.Join(t.TempDir(), "savepoints", "target")
			intact := precious(t, spDir, tt.existing...)
			if len(tt.existing) == 0 {
				os.RemoveAll(spDir) // the savepoint makes it
			}
			c, rt, _ := twoSubtasks(t, storage.NewLocal(), filepath.Join(t.TempDir(), "ckpt"), true, config.Checkpointing{Tolerable: 5})
			sp := &SavepointTarget{Dir: spDir, Format: snapshot.FormatCanonical}
			id, done := c.TriggerSavepoint(sp, false)
			<-rt.barriers
			res, err := UploadSavepoint(context.Background(), c.Layout().FS, sp, id, OperatorSnapshot{Vertex: 0, Subtask: 0, OpState: bigOpState()})
			if err != nil {
				t.Fatal(err)
			}
			if got := tree(t, spDir); len(got) != len(tt.existing)+1 {
				t.Fatalf("savepoint directory holds %v, want the upload beside %v", got, tt.existing)
			}
			c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}})
			c.Ack(TaskAck{CheckpointID: id, Err: errors.New("subtask 1 failed")})
			if err := <-done; err == nil {
				t.Fatal("savepoint succeeded")
			}
			// A late upload of the failed savepoint writes nothing.
			if _, err := UploadSavepoint(context.Background(), c.Layout().FS, sp, id, OperatorSnapshot{Vertex: 0, Subtask: 1, OpState: bigOpState()}); !errors.Is(err, ErrNotPending) {
				t.Fatalf("late savepoint upload: %v, want ErrNotPending", err)
			}
			got := tree(t, spDir)
			if strings.Join(got, " ") != strings.Join(tt.existing, " ") {
				t.Fatalf("after the failed savepoint its directory holds %v, want %v", got, tt.existing)
			}
			_, statErr := os.Stat(spDir)
			if kept := statErr == nil; kept != (len(tt.existing) > 0) {
				t.Fatalf("savepoint directory kept=%v (%v)", kept, statErr)
			}
			intact()
			c.Shutdown("CANCELED")
		})
	}
}

// With create-subdir on, <dir>/<job-id> is the job's: when the job ends
// under a deleting policy it goes — but only once empty. A file somebody
// put into it, or into its shared/, stays, and so do the directories
// holding it; the job's own checkpoints and shared files go.
func TestJobDirGoesOnlyWhenEmpty(t *testing.T) {
	tests := []struct {
		name    string
		foreign []string // put into the job directory while it runs
		want    []string // left in the job directory at the end
	}{
		{"empty at the end", nil, nil},
		{"a note beside the checkpoints", []string{"notes.txt"}, []string{"notes.txt"}},
		{"a file in shared/", []string{"shared/user.bin"}, []string{"shared", "shared/user.bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := filepath.Join(t.TempDir(), "ckpt")
			c, rt, _ := twoSubtasks(t, storage.NewLocal(), base, true, config.Checkpointing{NumRetained: 2})
			for i := 0; i < 3; i++ {
				id, done := c.Trigger(false)
				<-rt.barriers
				for sub := 0; sub < 2; sub++ {
					res, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true,
						OperatorSnapshot{Vertex: 0, Subtask: sub, OpState: bigOpState(), Keyed: keyedStaging(t)})
					if err != nil {
						t.Fatal(err)
					}
					c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}})
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			jobDir := c.Layout().JobDir
			intact := precious(t, jobDir, tt.foreign...)
			c.Shutdown("FINISHED")
			got := tree(t, jobDir)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("job directory holds %v after the job finished, want %v", got, tt.want)
			}
			_, err := os.Stat(jobDir)
			if gone := os.IsNotExist(err); gone != (len(tt.want) == 0) {
				t.Fatalf("job directory gone=%v (%v), want gone only when empty", gone, err)
			}
			intact()
			if _, err := os.Stat(base); err != nil {
				t.Fatalf("the configured directory went with the job's: %v", err)
			}
		})
	}
}

// A subsumed checkpoint goes file by file: a file somebody put into its
// chk-N stays, with chk-N, and the discard event names it.
func TestSubsumedCheckpointKeepsForeignFile(t *testing.T) {
	base := filepath.Join(t.TempDir(), "ckpt")
	c, rt, events := twoSubtasks(t, storage.NewLocal(), base, true, config.Checkpointing{NumRetained: 1})
	take := func() int64 {
		id, done := c.Trigger(false)
		<-rt.barriers
		for sub := 0; sub < 2; sub++ {
			res, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true,
				OperatorSnapshot{Vertex: 0, Subtask: sub, OpState: bigOpState(), Keyed: keyedStaging(t)})
			if err != nil {
				t.Fatal(err)
			}
			c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}})
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := take()
	chk := c.Layout().ChkDir(first)
	intact := precious(t, chk, "user.txt")
	take() // subsumes the first
	if got := tree(t, chk); strings.Join(got, " ") != "user.txt" {
		t.Fatalf("subsumed %s holds %v, want only the user's file", chk, got)
	}
	intact()
	for {
		select {
		case e := <-events:
			if e.Kind != event.CheckpointDiscarded {
				continue
			}
			if e.CheckpointID != first || !strings.Contains(e.Cause, "subsumed") || !strings.Contains(e.Cause, "user.txt") {
				t.Fatalf("discard event %d %q, want checkpoint %d subsumed, naming user.txt", e.CheckpointID, e.Cause, first)
			}
			c.Shutdown("CANCELED")
			intact()
			return
		default:
			t.Fatal("no discard event")
		}
	}
}

// The cleanup of a failed checkpoint removes the files its uploads wrote;
// one somebody else put into its chk-N stays, with chk-N, and an event
// names it.
func TestFailedCheckpointCleanupKeepsForeignFile(t *testing.T) {
	base := filepath.Join(t.TempDir(), "ckpt")
	c, rt, events := twoSubtasks(t, storage.NewLocal(), base, true, config.Checkpointing{Tolerable: 5})
	id, done := c.Trigger(false)
	<-rt.barriers
	res, err := Upload(context.Background(), c.Layout(), c.Registry(), id, true,
		OperatorSnapshot{Vertex: 0, Subtask: 0, OpState: bigOpState(), Keyed: keyedStaging(t)})
	if err != nil {
		t.Fatal(err)
	}
	chk := c.Layout().ChkDir(id)
	intact := precious(t, chk, "user.txt")
	c.Ack(TaskAck{CheckpointID: id, Results: []SubtaskResult{res}})
	c.Ack(TaskAck{CheckpointID: id, Err: errors.New("subtask 1 declined")})
	<-done
	if got := tree(t, chk); strings.Join(got, " ") != "user.txt" {
		t.Fatalf("failed %s holds %v, want only the user's file", chk, got)
	}
	if got := tree(t, c.Layout().SharedDir()); len(got) != 0 {
		t.Fatalf("shared/ holds %v after the only checkpoint failed", got)
	}
	intact()
	for {
		select {
		case e := <-events:
			if e.Kind == event.CheckpointDiscarded {
				if e.CheckpointID != id || !strings.Contains(e.Cause, "user.txt") {
					t.Fatalf("discard event %d %q, want checkpoint %d naming user.txt", e.CheckpointID, e.Cause, id)
				}
				return
			}
		default:
			t.Fatal("nothing says what the cleanup of the failed checkpoint left")
		}
	}
}
