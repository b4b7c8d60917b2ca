// Package storage is the one filesystem interface every other package uses for
// checkpoint and savepoint bytes. Paths are URIs: plain local paths, file://
// URIs (including Flink's "file:/x" spelling) and hdfs://host:port/path or
// hdfs:///path. Every call takes a context; its deadline bounds network calls,
// so an unreachable NameNode becomes an error instead of a hang.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// FileInfo describes one entry of a filesystem.
type FileInfo struct {
	// URI names the entry in the same spelling as the URI it was reached
	// through (a local path stays a local path, hdfs:// stays hdfs://).
	URI     string
	Name    string
	Size    int64
	ModTime time.Time
	IsDir   bool
	Mode    fs.FileMode
	// Owner and Group name the entry's owner where the backend knows them
	// (HDFS always; local disk on Unix). Empty when unknown.
	Owner string
	Group string
}

// FS is a filesystem reached through URIs. Implementations: local disk
// (NewLocal), HDFS (NewHDFS) and the Router that picks one by scheme.
type FS interface {
	// Stat describes uri. A missing path gives an error matching fs.ErrNotExist.
	Stat(ctx context.Context, uri string) (FileInfo, error)
	// List streams the entries of the directory uri in pages, so a directory
	// of 100,000 entries never has to sit whole in memory. Entry order is
	// whatever the backend returns (not sorted).
	List(ctx context.Context, uri string) (Lister, error)
	// Open opens uri for sequential and ranged reads.
	Open(ctx context.Context, uri string) (File, error)
	// Create starts writing uri. Nothing is visible at uri until the returned
	// Writer's Close succeeds: bytes go to a temporary name in the same
	// directory, which Close renames into place. Abort (or a crash) leaves
	// only the temporary name behind, which readers recognise (IsTemporary).
	Create(ctx context.Context, uri string, opts CreateOptions) (Writer, error)
	// MkdirAll creates uri and every missing parent, like mkdir -p.
	MkdirAll(ctx context.Context, uri string) error
	// Rename moves from to to. Both must be on the same filesystem; an
	// existing target is an error matching fs.ErrExist.
	Rename(ctx context.Context, from, to string) error
	// Lstat describes uri like Stat, but a symbolic link is described
	// itself (Mode has fs.ModeSymlink), not followed. Deletions check with
	// it that they never reach anything through a link.
	Lstat(ctx context.Context, uri string) (FileInfo, error)
	// Remove removes the one file, symbolic link (never its target) or
	// empty directory at uri — never recursively: a directory with
	// entries is an error matching ErrNotEmpty. A missing uri is not an
	// error. There is deliberately no recursive delete in this interface:
	// ckpt deletes only files it can name (see snapshot.Dispose).
	Remove(ctx context.Context, uri string) error
	// Walk calls fn for uri and, when it is a directory, for everything
	// below it, depth first, parents before children. fn returning
	// fs.SkipDir skips a directory's contents; any other error stops the walk.
	Walk(ctx context.Context, uri string, fn WalkFunc) error
}

// WalkFunc is called by FS.Walk for each entry.
type WalkFunc func(info FileInfo) error

// Lister pages through a directory listing.
type Lister interface {
	// Next returns the next page of entries (at most a backend-chosen page
	// size); it returns io.EOF after the last page.
	Next(ctx context.Context) ([]FileInfo, error)
	Close() error
}

// File is an open file: read sequentially, seek, or read ranges.
type File interface {
	io.Reader
	io.ReaderAt
	io.Seeker
	io.Closer
	Size() int64
}

// Writer receives the bytes of a file being created.
type Writer interface {
	io.Writer
	// Close flushes the bytes and makes the file visible at its URI,
	// atomically. After an error from Close the file is not visible.
	Close() error
	// Abort discards everything written; nothing becomes visible. Abort
	// after a successful Close is a no-op.
	Abort() error
}

// CreateOptions tune FS.Create.
type CreateOptions struct {
	// Overwrite replaces an existing file. Without it, Close fails with an
	// error matching fs.ErrExist when the target already exists.
	Overwrite bool
	// Sync forces the bytes to stable storage before Close returns
	// (fsync on local disk; HDFS acknowledges after the pipeline has the data).
	Sync bool
}

// Error is the error every backend returns: which operation, on which URI,
// and why.
type Error struct {
	Op  string
	URI string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("%s %s: %v", e.Op, e.URI, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

func wrap(op, uri string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) && se.URI == uri {
		return err
	}
	return &Error{Op: op, URI: uri, Err: err}
}

// ErrNotEmpty is matched by the error Remove returns for a directory that
// still has entries.
var ErrNotEmpty = errors.New("directory not empty")

// IsSymlink reports whether fi (from Lstat) is a symbolic link.
func (fi FileInfo) IsSymlink() bool { return fi.Mode&fs.ModeSymlink != 0 }

// IsNotExist reports whether err says a path does not exist.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// ReadAll reads the whole file at uri.
func ReadAll(ctx context.Context, fsys FS, uri string) ([]byte, error) {
	f, err := fsys.Open(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := f.Size()
	buf := make([]byte, size)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, wrap("read", uri, err)
	}
	if int64(n) < size {
		return nil, wrap("read", uri, fmt.Errorf("file shrank while reading: got %d of %d bytes", n, size))
	}
	return buf, nil
}

// WriteFile creates uri with data, atomically.
func WriteFile(ctx context.Context, fsys FS, uri string, data []byte, opts CreateOptions) error {
	w, err := fsys.Create(ctx, uri, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ListAll collects a whole listing. Only for directories known to be small.
func ListAll(ctx context.Context, fsys FS, uri string) ([]FileInfo, error) {
	l, err := fsys.List(ctx, uri)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	var out []FileInfo
	for {
		page, err := l.Next(ctx)
		out = append(out, page...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// Usage is what a walk adds up: files, directories and bytes.
type Usage struct {
	Files int64 `json:"files"`
	Dirs  int64 `json:"dirs"`
	Bytes int64 `json:"bytes"`
}

// Summarizer is implemented by backends that can total a tree without
// walking it entry by entry (HDFS asks the NameNode for a content summary in
// one call). The totals count the same things DiskUsage counts.
type Summarizer interface {
	Summary(ctx context.Context, uri string) (Usage, error)
}

// Summarize totals uri the fastest way fsys offers: one Summary call when it
// is a Summarizer, else a walk (DiskUsage).
func Summarize(ctx context.Context, fsys FS, uri string) (Usage, error) {
	if s, ok := fsys.(Summarizer); ok {
		return s.Summary(ctx, uri)
	}
	return DiskUsage(ctx, fsys, uri)
}

// DiskUsage walks uri and totals its files and bytes. Directories count
// uri itself when it is a directory.
func DiskUsage(ctx context.Context, fsys FS, uri string) (Usage, error) {
	var u Usage
	err := fsys.Walk(ctx, uri, func(fi FileInfo) error {
		if fi.IsDir {
			u.Dirs++
		} else {
			u.Files++
			u.Bytes += fi.Size
		}
		return nil
	})
	return u, err
}
