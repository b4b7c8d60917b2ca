package state

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/ckpt-dev/ckpt/storage"
)

// remoteFS is the file system a Pebble database of an engine snapshot is
// opened on: an in-memory file system for the small files (MANIFEST,
// OPTIONS, markers — copied in) and for what Pebble writes itself, with
// the snapshot's tables left where they are (local disk, HDFS, S3) and
// read through storage.FS block by block, as Pebble asks for them. Linking
// a remote table (what an ingestion does) records an alias: nothing is
// copied.
type remoteFS struct {
	vfs.FS
	ctx  context.Context
	fsys storage.FS
	mu   sync.Mutex
	// remote: path in the database's name space → the file in storage.
	remote map[string]remoteFile
}

type remoteFile struct {
	uri  string
	size int64
}

func newRemoteFS(ctx context.Context, fsys storage.FS) *remoteFS {
	return &remoteFS{FS: vfs.NewMem(), ctx: ctx, fsys: fsys, remote: map[string]remoteFile{}}
}

func (r *remoteFS) add(path string, f remoteFile) {
	r.mu.Lock()
	r.remote[path] = f
	r.mu.Unlock()
}

func (r *remoteFS) lookup(path string) (remoteFile, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.remote[path]
	return f, ok
}

func (r *remoteFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, ok := r.lookup(name)
	if !ok {
		return r.FS.Open(name, opts...)
	}
	sf, err := r.fsys.Open(r.ctx, f.uri)
	if err != nil {
		return nil, err
	}
	return &remoteVFile{name: name, f: sf, size: f.size}, nil
}

func (r *remoteFS) Stat(name string) (vfs.FileInfo, error) {
	if f, ok := r.lookup(name); ok {
		return remoteInfo{name: r.PathBase(name), size: f.size}, nil
	}
	return r.FS.Stat(name)
}

func (r *remoteFS) Link(oldname, newname string) error {
	if f, ok := r.lookup(oldname); ok {
		r.add(newname, f)
		return nil
	}
	return r.FS.Link(oldname, newname)
}

func (r *remoteFS) Rename(oldname, newname string) error {
	if f, ok := r.lookup(oldname); ok {
		r.mu.Lock()
		delete(r.remote, oldname)
		r.remote[newname] = f
		r.mu.Unlock()
		return nil
	}
	return r.FS.Rename(oldname, newname)
}

// Remove forgets an alias; the file in storage is never touched.
func (r *remoteFS) Remove(name string) error {
	r.mu.Lock()
	_, ok := r.remote[name]
	delete(r.remote, name)
	r.mu.Unlock()
	if ok {
		return nil
	}
	return r.FS.Remove(name)
}

func (r *remoteFS) List(dir string) ([]string, error) {
	names, err := r.FS.List(dir)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for p := range r.remote {
		if r.PathDir(p) == dir {
			names = append(names, r.PathBase(p))
		}
	}
	return names, nil
}

func (r *remoteFS) Unwrap() vfs.FS { return nil }

// remoteVFile is a snapshot table, read-only, through storage.FS.
type remoteVFile struct {
	name string
	mu   sync.Mutex // storage files are not safe for concurrent reads
	f    storage.File
	size int64
	pos  int64
}

var errReadOnly = errors.New("ckpt reads snapshot files, never writes them")

func (f *remoteVFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.f.ReadAt(p, off)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("read %s at %d: %w", f.name, off, err)
	}
	return n, err
}

func (f *remoteVFile) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

func (f *remoteVFile) Close() error                       { return f.f.Close() }
func (f *remoteVFile) Write([]byte) (int, error)          { return 0, errReadOnly }
func (f *remoteVFile) WriteAt([]byte, int64) (int, error) { return 0, errReadOnly }
func (f *remoteVFile) Preallocate(int64, int64) error     { return nil }
func (f *remoteVFile) Stat() (vfs.FileInfo, error) {
	return remoteInfo{name: f.name, size: f.size}, nil
}
func (f *remoteVFile) Sync() error                 { return nil }
func (f *remoteVFile) SyncTo(int64) (bool, error)  { return true, nil }
func (f *remoteVFile) SyncData() error             { return nil }
func (f *remoteVFile) Prefetch(int64, int64) error { return nil }
func (f *remoteVFile) Fd() uintptr                 { return vfs.InvalidFd }

type remoteInfo struct {
	name string
	size int64
}

func (i remoteInfo) Name() string           { return i.name }
func (i remoteInfo) Size() int64            { return i.size }
func (i remoteInfo) Mode() os.FileMode      { return 0o444 }
func (i remoteInfo) ModTime() time.Time     { return time.Time{} }
func (i remoteInfo) IsDir() bool            { return false }
func (i remoteInfo) Sys() any               { return nil }
func (i remoteInfo) DeviceID() vfs.DeviceID { return vfs.DeviceID{} }
