// Package faults is test equipment: the fault-injection suite of issue 11
// ("Reliability and security") lives in its _test.go files; this file and
// report.go hold the pieces it is built from — a storage.FS that fails or
// kills on cue, and the report table. Nothing outside tests imports it.
//
// Bounded (part of `make test`):
//
//	go test -count=1 ./internal/faults/
//
// Full size (≥ 100 seeded SIGKILL runs per operation, 1,000 malformed REST
// requests, 50 concurrent clients; the figures of the README):
//
//	make faults
//	# = CKPT_FAULTS=full CKPT_FAULTS_REPORT=bin/faults-report.txt go test -count=1 -v -timeout 60m -run TestFaultSuite ./internal/faults/
package faults

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ckpt-dev/ckpt/storage"
)

// Op names a storage call.
type Op string

// The storage calls FS sees.
const (
	OpStat      Op = "stat"
	OpLstat     Op = "lstat"
	OpList      Op = "list"
	OpWalk      Op = "walk"
	OpOpen      Op = "open"
	OpRead      Op = "read"
	OpCreate    Op = "create"
	OpWrite     Op = "write"
	OpClose     Op = "close" // a created file becoming visible
	OpAbort     Op = "abort"
	OpMkdir     Op = "mkdir"
	OpRename    Op = "rename"
	OpRemove    Op = "remove"
	OpRemoveAll Op = "removeall"
)

// Mutates reports whether op changes what storage holds.
func (op Op) Mutates() bool {
	switch op {
	case OpCreate, OpWrite, OpClose, OpMkdir, OpRename, OpRemove, OpRemoveAll:
		return true
	}
	return false
}

// FS wraps a storage.FS. Before every call it asks Fault; a non-nil error
// is returned instead of the call (a Writer's Write and Close fail too, so
// a failure can land in the middle of a file). Fault may also never return
// (a SIGKILL of the process at that call). Fault must be safe for
// concurrent use; nil injects nothing.
type FS struct {
	Inner storage.FS
	Fault func(op Op, uri string) error

	mu     sync.Mutex
	counts map[Op]int64
	failed atomic.Int64
}

// NewFS wraps inner.
func NewFS(inner storage.FS, fault func(op Op, uri string) error) *FS {
	return &FS{Inner: inner, Fault: fault, counts: map[Op]int64{}}
}

// Count is how many calls of op FS has seen.
func (f *FS) Count(op Op) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[op]
}

// Failed is how many calls FS failed.
func (f *FS) Failed() int64 { return f.failed.Load() }

func (f *FS) check(op Op, uri string) error {
	f.mu.Lock()
	if f.counts == nil {
		f.counts = map[Op]int64{}
	}
	f.counts[op]++
	f.mu.Unlock()
	if f.Fault == nil {
		return nil
	}
	if err := f.Fault(op, uri); err != nil {
		f.failed.Add(1)
		return &storage.Error{Op: string(op), URI: uri, Err: err}
	}
	return nil
}

func (f *FS) Stat(ctx context.Context, uri string) (storage.FileInfo, error) {
	if err := f.check(OpStat, uri); err != nil {
		return storage.FileInfo{}, err
	}
	return f.Inner.Stat(ctx, uri)
}

func (f *FS) Lstat(ctx context.Context, uri string) (storage.FileInfo, error) {
	if err := f.check(OpLstat, uri); err != nil {
		return storage.FileInfo{}, err
	}
	return f.Inner.Lstat(ctx, uri)
}

func (f *FS) List(ctx context.Context, uri string) (storage.Lister, error) {
	if err := f.check(OpList, uri); err != nil {
		return nil, err
	}
	return f.Inner.List(ctx, uri)
}

func (f *FS) Walk(ctx context.Context, uri string, fn storage.WalkFunc) error {
	if err := f.check(OpWalk, uri); err != nil {
		return err
	}
	return f.Inner.Walk(ctx, uri, fn)
}

func (f *FS) Open(ctx context.Context, uri string) (storage.File, error) {
	if err := f.check(OpOpen, uri); err != nil {
		return nil, err
	}
	file, err := f.Inner.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f, uri: uri}, nil
}

func (f *FS) Create(ctx context.Context, uri string, opts storage.CreateOptions) (storage.Writer, error) {
	if err := f.check(OpCreate, uri); err != nil {
		return nil, err
	}
	w, err := f.Inner.Create(ctx, uri, opts)
	if err != nil {
		return nil, err
	}
	return &faultWriter{Writer: w, fs: f, uri: uri}, nil
}

func (f *FS) MkdirAll(ctx context.Context, uri string) error {
	if err := f.check(OpMkdir, uri); err != nil {
		return err
	}
	return f.Inner.MkdirAll(ctx, uri)
}

func (f *FS) Rename(ctx context.Context, from, to string) error {
	if err := f.check(OpRename, from); err != nil {
		return err
	}
	return f.Inner.Rename(ctx, from, to)
}

func (f *FS) Remove(ctx context.Context, uri string) error {
	if err := f.check(OpRemove, uri); err != nil {
		return err
	}
	return f.Inner.Remove(ctx, uri)
}

type faultFile struct {
	storage.File
	fs  *FS
	uri string
}

func (r *faultFile) Read(p []byte) (int, error) {
	if err := r.fs.check(OpRead, r.uri); err != nil {
		return 0, err
	}
	return r.File.Read(p)
}

func (r *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := r.fs.check(OpRead, r.uri); err != nil {
		return 0, err
	}
	return r.File.ReadAt(p, off)
}

type faultWriter struct {
	storage.Writer
	fs  *FS
	uri string
}

func (w *faultWriter) Write(p []byte) (int, error) {
	if err := w.fs.check(OpWrite, w.uri); err != nil {
		return 0, err
	}
	return w.Writer.Write(p)
}

func (w *faultWriter) Close() error {
	if err := w.fs.check(OpClose, w.uri); err != nil {
		w.Writer.Abort()
		return err
	}
	return w.Writer.Close()
}

func (w *faultWriter) Abort() error {
	w.fs.check(OpAbort, w.uri) // an abort is never failed: it is the way out
	return w.Writer.Abort()
}
