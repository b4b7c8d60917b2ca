package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The coordinator hands the tasks a storage.FS that knows which checkpoint
// and savepoint directories are being written. A write into the directory
// of a checkpoint that is no longer pending (aborted, expired, subsumed,
// or completed) is refused, and the files written into an aborted one are
// removed only once every write into it has ended: a late upload can
// neither recreate a directory the cleanup just removed nor leave its file
// behind it (on a full disk such leftovers kept the disk full).

// ErrNotPending is wrapped by the error a write gets into the directory of
// a checkpoint or savepoint that was aborted or has ended.
var ErrNotPending = errors.New("the checkpoint is no longer pending (aborted or ended): its directory takes no more files")

// flight is the exclusive directory of one pending checkpoint or savepoint
// and what was written into it.
type flight struct {
	id      int64
	dir     string
	created bool // the coordinator made dir, so it may remove it once empty
	open    bool
	writing int      // writes in progress
	files   []string // every file created in dir
	// cleanup, set when the checkpoint was aborted, runs once writing is 0.
	cleanup func(*flight)
}

// flights tracks the flights of one coordinator.
type flights struct {
	jobDir string // "" without persisted checkpoints

	mu   sync.Mutex
	byID map[int64]*flight
	// ended are the directories of savepoints that ended: their names are
	// random, so unlike chk-N they are remembered to refuse late writes.
	ended    []string
	cleaning sync.WaitGroup
}

func newFlights(jobDir string) *flights {
	return &flights{jobDir: jobDir, byID: map[int64]*flight{}}
}

// start registers the directory of pending checkpoint id.
func (f *flights) start(id int64, dir string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byID[id] = &flight{id: id, dir: dir, open: true}
}

// enter begins the creation of id's directory, like a write into it: an
// abort meanwhile waits for it (end) before cleaning up. It returns nil
// when id is no longer pending.
func (f *flights) enter(id int64) *flight {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.byID[id]
	if fl == nil || !fl.open {
		return nil
	}
	fl.writing++
	return fl
}

// made records whether the coordinator created fl's directory (it did not
// exist before), so that an abort may remove it once empty.
func (f *flights) made(fl *flight, created bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl.created = created
}

// pending reports whether id's directory still takes files.
func (f *flights) pending(id int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.byID[id]
	return fl != nil && fl.open
}

// finish closes id's flight: no more writes into its directory. With a
// cleanup (an aborted checkpoint), cleanup runs now if nothing is being
// written, else when the last write in progress ends.
func (f *flights) finish(id int64, savepoint bool, cleanup func(*flight)) {
	f.mu.Lock()
	fl := f.byID[id]
	if fl == nil || !fl.open {
		f.mu.Unlock()
		return
	}
	fl.open = false
	if savepoint {
		f.ended = append(f.ended, fl.dir)
	}
	if cleanup == nil {
		delete(f.byID, id)
		f.mu.Unlock()
		return
	}
	fl.cleanup = cleanup
	f.cleaning.Add(1)
	run := fl.writing == 0
	f.mu.Unlock()
	if run {
		f.clean(fl)
	}
}

func (f *flights) clean(fl *flight) {
	defer f.cleaning.Done()
	f.mu.Lock()
	snap := &flight{id: fl.id, dir: fl.dir, created: fl.created, files: append([]string(nil), fl.files...)}
	f.mu.Unlock()
	fl.cleanup(snap)
	f.mu.Lock()
	delete(f.byID, fl.id)
	f.mu.Unlock()
}

// wait waits for the cleanups of aborted checkpoints whose writes are
// still in progress, at most until ctx ends.
func (f *flights) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		f.cleaning.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// begin is called before a file is created at uri: it returns the flight
// the file belongs to (nil for a file outside every checkpoint directory),
// or an error when that checkpoint is no longer pending.
func (f *flights) begin(uri string) (*flight, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fl := range f.byID {
		if inside(fl.dir, uri) {
			if !fl.open {
				return nil, fmt.Errorf("checkpoint %d: %w", fl.id, ErrNotPending)
			}
			fl.writing++
			return fl, nil
		}
	}
	if err := f.endedLocked(uri); err != nil {
		return nil, err
	}
	return nil, nil
}

// end is called when a write begun into fl ended; written says the file
// became visible at uri (a write that failed or was aborted leaves
// nothing: the backend removes its temporary file).
func (f *flights) end(fl *flight, uri string, written bool) {
	f.mu.Lock()
	if written {
		fl.files = append(fl.files, uri)
	}
	fl.writing--
	run := !fl.open && fl.writing == 0 && fl.cleanup != nil
	f.mu.Unlock()
	if run {
		f.clean(fl)
	}
}

// mkdir refuses to (re)create the directory of a checkpoint or savepoint
// that is no longer pending, or anything below it.
func (f *flights) mkdir(uri string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fl := range f.byID {
		if storage.Within(fl.dir, uri) {
			if !fl.open {
				return fmt.Errorf("checkpoint %d: %w", fl.id, ErrNotPending)
			}
			return nil
		}
	}
	return f.endedLocked(uri)
}

// endedLocked: uri is (in) a chk-N directory of the job with no open
// flight, or (in) the directory of a savepoint that ended.
func (f *flights) endedLocked(uri string) error {
	for _, d := range f.ended {
		if storage.Within(d, uri) {
			return fmt.Errorf("savepoint %s: %w", d, ErrNotPending)
		}
	}
	rel, ok := snapshot.RelativeTo(f.jobDir, uri)
	if !ok {
		return nil
	}
	first, _, _ := strings.Cut(rel, "/")
	if id, isChk := snapshot.ParseCheckpointDirName(first); isChk {
		if fl := f.byID[id]; fl == nil || !fl.open {
			return fmt.Errorf("checkpoint %d: %w", id, ErrNotPending)
		}
	}
	return nil
}

// removeWritten removes the files written into an aborted flight's
// directory (its _metadata first, should the coordinator have written it
// before the abort), then the directory if the coordinator made it and it
// is empty. Nothing else in the directory is touched.
func removeWritten(ctx context.Context, fsys storage.FS, fl *flight) (snapshot.Disposal, error) {
	files := append([]string(nil), fl.files...)
	sort.SliceStable(files, func(i, j int) bool {
		return storage.Base(files[i]) == MetadataName && storage.Base(files[j]) != MetadataName
	})
	if fl.created {
		return snapshot.RemoveOwned(ctx, fsys, fl.dir, files, snapshot.Disposal{})
	}
	return snapshot.RemoveFiles(ctx, fsys, fl.dir, files, snapshot.Disposal{})
}

// guardFS is the storage.FS the coordinator's Layout hands out.
type guardFS struct {
	storage.FS
	f *flights
}

func (g guardFS) Create(ctx context.Context, uri string, opts storage.CreateOptions) (storage.Writer, error) {
	fl, err := g.f.begin(uri)
	if err != nil {
		return nil, &storage.Error{Op: "create", URI: uri, Err: err}
	}
	w, err := g.FS.Create(ctx, uri, opts)
	if fl == nil {
		return w, err
	}
	if err != nil {
		g.f.end(fl, uri, false)
		return nil, err
	}
	return &guardWriter{Writer: w, end: func(written bool) { g.f.end(fl, uri, written) }}, nil
}

func (g guardFS) MkdirAll(ctx context.Context, uri string) error {
	if err := g.f.mkdir(uri); err != nil {
		return &storage.Error{Op: "mkdir", URI: uri, Err: err}
	}
	return g.FS.MkdirAll(ctx, uri)
}

// pendingCheckpoint lets Upload stop early for an aborted checkpoint.
func (g guardFS) pendingCheckpoint(id int64) bool { return g.f.pending(id) }

type guardWriter struct {
	storage.Writer
	ended bool
	end   func(written bool)
}

// ReadFrom keeps the backend's fast copy (copy_file_range on local disk).
func (w *guardWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.Writer.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.Writer}, r)
}

func (w *guardWriter) Close() error {
	err := w.Writer.Close()
	w.done(err == nil)
	return err
}

func (w *guardWriter) Abort() error {
	err := w.Writer.Abort()
	w.done(false)
	return err
}

// done ends the write once (a Writer is used by one goroutine).
func (w *guardWriter) done(written bool) {
	if !w.ended {
		w.ended = true
		w.end(written)
	}
}
