package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
)

// listPage is how many entries one Lister.Next returns at most.
const listPage = 1000

// Local is the local-disk filesystem. It accepts plain paths and file:// URIs.
type Local struct{}

// NewLocal returns the local-disk filesystem.
func NewLocal() *Local { return &Local{} }

var _ FS = (*Local)(nil)

func localPath(op, uri string) (Location, string, error) {
	loc, err := Parse(uri)
	if err != nil {
		return loc, "", &Error{Op: op, URI: uri, Err: err}
	}
	if !loc.IsLocal() {
		return loc, "", &Error{Op: op, URI: uri, Err: fmt.Errorf("not a local path")}
	}
	return loc, loc.LocalPath(), nil
}

// childURI names a child of dir in the spelling dir was given in.
func childURI(dir Location, name string) string {
	if dir.Scheme == "" {
		return filepath.Join(dir.Path, name)
	}
	c := dir
	c.Path = filepath.ToSlash(filepath.Join(filepath.FromSlash(dir.Path), name))
	return c.String()
}

func localInfo(uri string, fi fs.FileInfo) FileInfo {
	owner, group := fileOwner(fi)
	return FileInfo{URI: uri, Name: fi.Name(), Size: fi.Size(), ModTime: fi.ModTime(), IsDir: fi.IsDir(), Mode: fi.Mode(), Owner: owner, Group: group}
}

func (l *Local) Stat(ctx context.Context, uri string) (FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return FileInfo{}, &Error{Op: "stat", URI: uri, Err: err}
	}
	_, p, err := localPath("stat", uri)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return FileInfo{}, wrap("stat", uri, unwrapPathError(err))
	}
	info := localInfo(uri, fi)
	info.Name = Base(uri)
	return info, nil
}

type localLister struct {
	dir  Location
	uri  string
	f    *os.File
	done bool
}

func (l *Local) List(ctx context.Context, uri string) (Lister, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "list", URI: uri, Err: err}
	}
	loc, p, err := localPath("list", uri)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, wrap("list", uri, unwrapPathError(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, wrap("list", uri, err)
	}
	if !fi.IsDir() {
		f.Close()
		return nil, &Error{Op: "list", URI: uri, Err: fmt.Errorf("not a directory")}
	}
	return &localLister{dir: loc, uri: uri, f: f}, nil
}

func (ll *localLister) Next(ctx context.Context) ([]FileInfo, error) {
	if ll.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("list", ll.uri, err)
	}
	ents, err := ll.f.ReadDir(listPage)
	if errors.Is(err, io.EOF) || (err == nil && len(ents) == 0) {
		ll.done = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, wrap("list", ll.uri, err)
	}
	out := make([]FileInfo, 0, len(ents))
	for _, e := range ents {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed between readdir and lstat
		}
		if err != nil {
			return out, wrap("list", ll.uri, err)
		}
		info := localInfo(childURI(ll.dir, e.Name()), fi)
		if fi.Mode()&fs.ModeSymlink != 0 {
			// Follow links so a symlinked checkpoint dir looks like a dir.
			if st, err := os.Stat(filepath.Join(ll.dir.LocalPath(), e.Name())); err == nil {
				info.IsDir, info.Size = st.IsDir(), st.Size()
			}
		}
		out = append(out, info)
	}
	return out, nil
}

func (ll *localLister) Close() error { return ll.f.Close() }

type localFile struct {
	*os.File
	size int64
}

func (f *localFile) Size() int64 { return f.size }

func (l *Local) Open(ctx context.Context, uri string) (File, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "open", URI: uri, Err: err}
	}
	_, p, err := localPath("open", uri)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, wrap("open", uri, unwrapPathError(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, wrap("open", uri, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, &Error{Op: "open", URI: uri, Err: fmt.Errorf("is a directory")}
	}
	return &localFile{File: f, size: fi.Size()}, nil
}

type localWriter struct {
	uri, tmp, dst string
	opts          CreateOptions
	f             *os.File
	closed        bool
}

func (l *Local) Create(ctx context.Context, uri string, opts CreateOptions) (Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, &Error{Op: "create", URI: uri, Err: err}
	}
	_, p, err := localPath("create", uri)
	if err != nil {
		return nil, err
	}
	if !opts.Overwrite {
		if _, err := os.Lstat(p); err == nil {
			return nil, &Error{Op: "create", URI: uri, Err: fs.ErrExist}
		}
	}
	tmp := filepath.Join(filepath.Dir(p), TempName(filepath.Base(p)))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, wrap("create", uri, unwrapPathError(err))
	}
	return &localWriter{uri: uri, tmp: tmp, dst: p, opts: opts, f: f}, nil
}

func (w *localWriter) Write(b []byte) (int, error) {
	if w.closed {
		return 0, &Error{Op: "write", URI: w.uri, Err: fs.ErrClosed}
	}
	n, err := w.f.Write(b)
	return n, w.writeErr(err)
}

// ReadFrom lets io.Copy from a local file use the kernel's copy
// (copy_file_range) instead of a user-space buffer: uploads of state files
// to local checkpoint storage are the common case.
func (w *localWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.closed {
		return 0, &Error{Op: "write", URI: w.uri, Err: fs.ErrClosed}
	}
	n, err := w.f.ReadFrom(r)
	return n, w.writeErr(err)
}

func (w *localWriter) writeErr(err error) error {
	if err != nil {
		return wrap("write", w.uri, unwrapPathError(err))
	}
	return nil
}

func (w *localWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	fail := func(err error) error {
		w.f.Close()
		os.Remove(w.tmp)
		return wrap("create", w.uri, unwrapPathError(err))
	}
	if w.opts.Sync {
		if err := w.f.Sync(); err != nil {
			return fail(err)
		}
	}
	if err := w.f.Close(); err != nil {
		return fail(err)
	}
	if w.opts.Overwrite {
		if err := os.Rename(w.tmp, w.dst); err != nil {
			return fail(err)
		}
		return nil
	}
	// link fails if the target exists, so two writers never clobber each other.
	if err := os.Link(w.tmp, w.dst); err != nil {
		os.Remove(w.tmp)
		return wrap("create", w.uri, unwrapPathError(err))
	}
	os.Remove(w.tmp)
	return nil
}

func (w *localWriter) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	w.f.Close()
	return wrap("abort", w.uri, ignoreNotExist(os.Remove(w.tmp)))
}

func (l *Local) MkdirAll(ctx context.Context, uri string) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: "mkdirall", URI: uri, Err: err}
	}
	_, p, err := localPath("mkdir", uri)
	if err != nil {
		return err
	}
	return wrap("mkdir", uri, unwrapPathError(os.MkdirAll(p, 0o755)))
}

func (l *Local) Rename(ctx context.Context, from, to string) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: "rename", URI: from, Err: err}
	}
	_, pf, err := localPath("rename", from)
	if err != nil {
		return err
	}
	_, pt, err := localPath("rename", to)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(pt); err == nil {
		return &Error{Op: "rename", URI: from, Err: fmt.Errorf("target %s: %w", to, fs.ErrExist)}
	}
	return wrap("rename", from, unwrapPathError(os.Rename(pf, pt)))
}

func (l *Local) Lstat(ctx context.Context, uri string) (FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return FileInfo{}, &Error{Op: "lstat", URI: uri, Err: err}
	}
	_, p, err := localPath("lstat", uri)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return FileInfo{}, wrap("lstat", uri, unwrapPathError(err))
	}
	info := localInfo(uri, fi)
	info.Name = Base(uri)
	return info, nil
}

func (l *Local) Remove(ctx context.Context, uri string) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: "remove", URI: uri, Err: err}
	}
	_, p, err := localPath("remove", uri)
	if err != nil {
		return err
	}
	err = unwrapPathError(os.Remove(p))
	if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
		err = ErrNotEmpty
	}
	return wrap("remove", uri, ignoreNotExist(err))
}

func (l *Local) Walk(ctx context.Context, uri string, fn WalkFunc) error {
	root, err := l.Stat(ctx, uri)
	if err != nil {
		return err
	}
	return walkTree(ctx, l, root, fn)
}

// walkTree is the depth-first walk shared by backends that only have Stat
// and List.
func walkTree(ctx context.Context, fsys FS, info FileInfo, fn WalkFunc) error {
	if err := ctx.Err(); err != nil {
		return wrap("walk", info.URI, err)
	}
	err := fn(info)
	if !info.IsDir || errors.Is(err, fs.SkipDir) {
		if errors.Is(err, fs.SkipDir) {
			return nil
		}
		return err
	}
	if err != nil {
		return err
	}
	lister, err := fsys.List(ctx, info.URI)
	if err != nil {
		return err
	}
	defer lister.Close()
	for {
		page, err := lister.Next(ctx)
		// Sorted per page so walks are reproducible on one backend.
		sort.Slice(page, func(i, j int) bool { return page[i].Name < page[j].Name })
		for _, child := range page {
			if werr := walkTree(ctx, fsys, child, fn); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// unwrapPathError drops *fs.PathError's own path (our Error names the URI).
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

func ignoreNotExist(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
