package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"
	"time"
)

// objectFS is a bucket store (S3 buckets, Azure Blob containers, Google
// Cloud Storage buckets) seen as a filesystem. It holds the object-store
// semantics in one place: a cloud's backend only says how to do each
// single request (objectStore).
//
//   - a directory is a key prefix ending in "/": it exists while some
//     object has that prefix; MkdirAll puts a zero-byte "dir/" marker so
//     an empty one exists too (as Hadoop's connectors do);
//   - listings page through the prefix with a "/" delimiter, listPage
//     names per request: no listing is ever held whole;
//   - Create uploads the bytes straight to their key — one request, or
//     blocks/chunks once they pass the part size — and the object becomes
//     visible whole when Close commits, or not at all. While it runs, a
//     zero-byte temporary marker (TempName) stands next to it, so a killed
//     writer leaves the trace it leaves on disk and HDFS. Without
//     Overwrite the commit is conditional (the object must not exist): a
//     target that appeared meanwhile wins;
//   - there is no rename. Rename of a file is a server-side copy then a
//     delete of that one object, not atomic; a directory is refused
//     (errors.ErrUnsupported). A snapshot is complete when its _metadata
//     is visible: the engine writes it last;
//   - Remove deletes one named object, or a directory's marker when no
//     other object has the directory's prefix (else ErrNotEmpty). Never a
//     prefix, never in bulk, never a bucket or container;
//   - there are no symbolic links: Lstat is Stat.
type objectFS struct {
	store    objectStore
	timeout  time.Duration
	partSize int
	// readChunk is how much one sequential Read fetches ahead.
	readChunk int
}

// objectStore is one cloud's requests, each bounded by the caller's
// context. Keys never start with "/"; "" is the bucket's root.
type objectStore interface {
	// scheme-independent names for messages: "Azure Blob", "GCS".
	kind() string
	// where names the endpoint (and account) for errors.
	where() string
	// bucket is the bucket (container) a location names, checking that the
	// location belongs to this store (an Azure account's host).
	bucket(loc Location) (string, error)
	head(ctx context.Context, bucket, key string) (objAttrs, bool, error)
	// list returns up to max entries with prefix, after token; with delim
	// "/" names below a further "/" come back once, as prefixes.
	list(ctx context.Context, bucket, prefix, delim, token string, max int) (objectPage, error)
	// readRange fills dst from off, failing when the object is no longer
	// the version pin names.
	readRange(ctx context.Context, bucket, key, pin string, off int64, dst []byte) error
	// put writes a whole small object; ifAbsent makes it fail with
	// fs.ErrExist when the key exists.
	put(ctx context.Context, bucket, key string, data []byte, ifAbsent bool) error
	// upload starts a large upload made of parts.
	upload(bucket, key string, ifAbsent bool) objectUpload
	// remove deletes exactly the one object key.
	remove(ctx context.Context, bucket, key string) error
	// copy copies the object from (which must still be the version src
	// describes: src.pin) to to, which must not exist.
	copy(ctx context.Context, bucket, from, to string, src objAttrs) error
	// classify turns an SDK error into a readable cause (objCause) naming
	// the bucket; errors it does not know come back unchanged.
	classify(err error, bucket string) error
	// credentialSource says where the credentials come from, never what
	// they are.
	credentialSource(ctx context.Context) string
}

// dirPrefix is the prefix of everything below key.
func dirPrefix(key string) string {
	if key == "" {
		return ""
	}
	return key + "/"
}

// parentKey is the key of key's directory ("" for the bucket's root).
func parentKey(key string) string {
	if p := path.Dir(key); p != "." {
		return p
	}
	return ""
}

// objAttrs describes one object.
type objAttrs struct {
	key  string
	size int64
	mod  time.Time
	pin  string // what pins this version: an ETag, a generation
}

type objectPage struct {
	objects  []objAttrs
	prefixes []string
	next     string // "" after the last page
}

// objectUpload sends a large object in parts; nothing is visible before
// commit.
type objectUpload interface {
	part(ctx context.Context, p []byte) error
	commit(ctx context.Context) error
	abort(ctx context.Context) error
}

// objCause is a classified failure: readable, and matching the fs
// sentinel it means.
type objCause struct {
	msg string
	is  error
	err error
}

func (e *objCause) Error() string        { return e.msg }
func (e *objCause) Unwrap() error        { return e.err }
func (e *objCause) Is(target error) bool { return e.is != nil && target == e.is }

// defaultObjectPartSize is the block/chunk size of large uploads: writes
// up to it are one request.
const defaultObjectPartSize = 8 << 20

func newObjectFS(store objectStore, timeout time.Duration, partSize int) *objectFS {
	if partSize <= 0 {
		partSize = defaultObjectPartSize
	}
	return &objectFS{store: store, timeout: timeout, partSize: partSize, readChunk: 4 << 20}
}

func (o *objectFS) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= o.timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, o.timeout)
}

// call runs fn bounded by the timeout and turns its error into an *Error
// naming op, uri and the cause.
func (o *objectFS) call(ctx context.Context, op, uri, bucket string, fn func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: op, URI: uri, Err: err}
	}
	cctx, cancel := o.bound(ctx)
	defer cancel()
	start := time.Now()
	err := fn(cctx)
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Op: op, URI: uri, Err: o.classify(ctx, err, bucket, time.Since(start))}
}

func (o *objectFS) classify(ctx context.Context, err error, bucket string, took time.Duration) error {
	var c *objCause
	if errors.As(err, &c) || errors.Is(err, errNotDir) || errors.Is(err, errIsDir) || errors.Is(err, ErrNotEmpty) || errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if ctx.Err() != nil {
		return err // the caller cancelled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &objCause{msg: fmt.Sprintf("no answer from %s endpoint %s within %s (raise --hdfs-timeout / CKPT_HDFS_TIMEOUT if it is just slow)", o.store.kind(), o.store.where(), took.Round(time.Millisecond)), err: err}
	}
	return o.store.classify(err, bucket)
}

// target parses uri and finds its bucket and key.
func (o *objectFS) target(op, uri string) (Location, string, string, error) {
	loc, err := Parse(uri)
	if err != nil {
		return loc, "", "", &Error{Op: op, URI: uri, Err: err}
	}
	b, err := o.store.bucket(loc)
	if err != nil {
		return loc, "", "", &Error{Op: op, URI: uri, Err: err}
	}
	return loc, b, strings.TrimPrefix(loc.Path, "/"), nil
}

// dirExists reports whether the directory key exists: its marker or
// anything below it (the root exists when the bucket does: a missing
// bucket is an error). The time is the marker's, or zero.
func (o *objectFS) dirExists(ctx context.Context, bucket, key string) (bool, time.Time, error) {
	pg, err := o.store.list(ctx, bucket, dirPrefix(key), "/", "", 1)
	if err != nil {
		return false, time.Time{}, err
	}
	if len(pg.objects) == 0 && len(pg.prefixes) == 0 {
		return key == "", time.Time{}, nil
	}
	var mt time.Time
	if len(pg.objects) > 0 && pg.objects[0].key == dirPrefix(key) {
		mt = pg.objects[0].mod
	}
	return true, mt, nil
}

// dirExistsFast tries the marker (one HEAD) before a listing.
func (o *objectFS) dirExistsFast(ctx context.Context, bucket, key string) (bool, error) {
	if key != "" {
		if _, ok, err := o.store.head(ctx, bucket, dirPrefix(key)); err != nil || ok {
			return ok, err
		}
	}
	ok, _, err := o.dirExists(ctx, bucket, key)
	return ok, err
}

func objFileInfo(uri string, loc Location, a objAttrs) FileInfo {
	return FileInfo{URI: uri, Name: path.Base(loc.Path), Size: a.size, ModTime: a.mod, Mode: 0o644}
}

func objDirInfo(uri string, loc Location, bucket string, mt time.Time) FileInfo {
	name := path.Base(loc.Path)
	if loc.Path == "/" {
		name = bucket
	}
	return FileInfo{URI: uri, Name: name, ModTime: mt, IsDir: true, Mode: fs.ModeDir | 0o755}
}

func (o *objectFS) Stat(ctx context.Context, uri string) (FileInfo, error) {
	loc, bucket, key, err := o.target("stat", uri)
	if err != nil {
		return FileInfo{}, err
	}
	var fi FileInfo
	err = o.call(ctx, "stat", uri, bucket, func(ctx context.Context) error {
		if key != "" {
			a, found, err := o.store.head(ctx, bucket, key)
			if err != nil {
				return err
			}
			if found {
				fi = objFileInfo(uri, loc, a)
				return nil
			}
		}
		ok, mt, err := o.dirExists(ctx, bucket, key)
		if err != nil {
			return err
		}
		if !ok {
			return &objCause{msg: "no such file or directory", is: fs.ErrNotExist}
		}
		fi = objDirInfo(uri, loc, bucket, mt)
		return nil
	})
	return fi, err
}

// Lstat is Stat: object stores have no symbolic links.
func (o *objectFS) Lstat(ctx context.Context, uri string) (FileInfo, error) {
	fi, err := o.Stat(ctx, uri)
	if se := (*Error)(nil); errors.As(err, &se) && se.Op == "stat" {
		se.Op = "lstat"
	}
	return fi, err
}

type objLister struct {
	o      *objectFS
	uri    string
	loc    Location
	bucket string
	prefix string
	token  string
	more   bool
	first  []FileInfo
	primed bool
	rest   []FileInfo // fetched, not yet handed out
	done   bool       // the server sent its last page
}

func (o *objectFS) List(ctx context.Context, uri string) (Lister, error) {
	loc, bucket, key, err := o.target("list", uri)
	if err != nil {
		return nil, err
	}
	l := &objLister{o: o, uri: uri, loc: loc, bucket: bucket, prefix: dirPrefix(key), more: true}
	err = o.call(ctx, "list", uri, bucket, func(ctx context.Context) error {
		page, raw, err := l.fetch(ctx)
		if err != nil {
			return err
		}
		if raw == 0 && key != "" {
			_, found, err := o.store.head(ctx, bucket, key)
			if err != nil {
				return err
			}
			if found {
				return errNotDir
			}
			return &objCause{msg: "no such directory", is: fs.ErrNotExist}
		}
		l.first, l.primed = page, true
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// fetch gets the next page: entries, and how many names the store
// returned (the directory's own marker is one but not an entry).
func (l *objLister) fetch(ctx context.Context) ([]FileInfo, int, error) {
	pg, err := l.o.store.list(ctx, l.bucket, l.prefix, "/", l.token, listPage)
	if err != nil {
		return nil, 0, err
	}
	l.token = pg.next
	l.more = pg.next != ""
	page := make([]FileInfo, 0, len(pg.prefixes)+len(pg.objects))
	for _, p := range pg.prefixes {
		name := strings.TrimSuffix(strings.TrimPrefix(p, l.prefix), "/")
		if name == "" {
			continue // "dir//x": an empty path element, unreachable by URI
		}
		sub := l.loc
		sub.Path = path.Join(l.loc.Path, name)
		page = append(page, objDirInfo(sub.String(), sub, l.bucket, time.Time{}))
	}
	for _, a := range pg.objects {
		if a.key == l.prefix {
			continue // the directory's own marker
		}
		sub := l.loc
		sub.Path = path.Join(l.loc.Path, strings.TrimPrefix(a.key, l.prefix))
		page = append(page, objFileInfo(sub.String(), sub, a))
	}
	return page, len(pg.prefixes) + len(pg.objects), nil
}

// Next hands out what the server sent in pages of at most listPage: a
// server that ignores the page size (fake-gcs-server does for prefixes)
// still gives callers bounded pages.
func (l *objLister) Next(ctx context.Context) ([]FileInfo, error) {
	for len(l.rest) == 0 && !l.done {
		page, err := l.pull(ctx)
		if errors.Is(err, io.EOF) {
			l.done = true
		} else if err != nil {
			return nil, err
		}
		l.rest = page
	}
	n := min(len(l.rest), listPage)
	page := l.rest[:n:n]
	l.rest = l.rest[n:]
	if l.done && len(l.rest) == 0 {
		return page, io.EOF
	}
	return page, nil
}

// pull fetches the next page from the server, io.EOF with the last.
func (l *objLister) pull(ctx context.Context) ([]FileInfo, error) {
	if l.primed {
		l.primed = false
		page := l.first
		l.first = nil
		if !l.more {
			return page, io.EOF
		}
		if len(page) > 0 {
			return page, nil
		}
	}
	for l.more {
		var page []FileInfo
		err := l.o.call(ctx, "list", l.uri, l.bucket, func(ctx context.Context) (err error) {
			page, _, err = l.fetch(ctx)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !l.more {
			return page, io.EOF
		}
		if len(page) > 0 {
			return page, nil
		}
	}
	return nil, io.EOF
}

func (l *objLister) Close() error { return nil }

// objFile reads one object with ranged reads pinned to the version seen
// at Open: an object replaced while it is read fails loudly instead of
// mixing two versions.
type objFile struct {
	*rangedFile
	o      *objectFS
	uri    string
	bucket string
	key    string
	pin    string
}

// fetch reads len(dst) bytes at off with one ranged read, pinned to the
// version seen at Open.
func (f *objFile) fetch(dst []byte, off int64) error {
	return f.o.call(context.Background(), "read", f.uri, f.bucket, func(ctx context.Context) error {
		return f.o.store.readRange(ctx, f.bucket, f.key, f.pin, off, dst)
	})
}

func (o *objectFS) Open(ctx context.Context, uri string) (File, error) {
	_, bucket, key, err := o.target("open", uri)
	if err != nil {
		return nil, err
	}
	var f *objFile
	err = o.call(ctx, "open", uri, bucket, func(ctx context.Context) error {
		if key == "" {
			return errIsDir
		}
		a, found, err := o.store.head(ctx, bucket, key)
		if err != nil {
			return err
		}
		if !found {
			ok, _, err := o.dirExists(ctx, bucket, key)
			if err != nil {
				return err
			}
			if ok {
				return errIsDir
			}
			return &objCause{msg: "no such file", is: fs.ErrNotExist}
		}
		f = &objFile{o: o, uri: uri, bucket: bucket, key: key, pin: a.pin}
		f.rangedFile = &rangedFile{uri: uri, size: a.size, chunk: o.readChunk, fetch: f.fetch}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// objWriter uploads one object; see objectFS for how it stays invisible
// until Close.
type objWriter struct {
	o         *objectFS
	uri       string
	bucket    string
	key       string
	tmpKey    string
	overwrite bool

	buf     bytes.Buffer
	up      objectUpload
	closed  bool
	aborted bool
	err     error // the first failure; Close reports it
}

func (o *objectFS) Create(ctx context.Context, uri string, opts CreateOptions) (Writer, error) {
	_, bucket, key, err := o.target("create", uri)
	if err != nil {
		return nil, err
	}
	w := &objWriter{o: o, uri: uri, bucket: bucket, key: key, overwrite: opts.Overwrite}
	err = o.call(ctx, "create", uri, bucket, func(ctx context.Context) error {
		if key == "" {
			return errIsDir
		}
		parent := parentKey(key)
		ok, err := o.dirExistsFast(ctx, bucket, parent)
		if err != nil {
			return err
		}
		if !ok {
			return &objCause{msg: fmt.Sprintf("parent directory %s does not exist", Dir(uri)), is: fs.ErrNotExist}
		}
		if !opts.Overwrite {
			if _, found, err := o.store.head(ctx, bucket, key); err != nil {
				return err
			} else if found {
				return &objCause{msg: "already exists", is: fs.ErrExist}
			}
		}
		w.tmpKey = path.Join(parent, TempName(path.Base(key)))
		return o.store.put(ctx, bucket, w.tmpKey, nil, false)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (w *objWriter) Write(b []byte) (int, error) {
	if w.closed || w.aborted {
		return 0, &Error{Op: "write", URI: w.uri, Err: fs.ErrClosed}
	}
	if w.err != nil {
		return 0, w.err
	}
	w.buf.Write(b)
	for w.buf.Len() >= w.o.partSize {
		if err := w.sendPart(w.buf.Next(w.o.partSize)); err != nil {
			w.err = err
			return len(b), err
		}
	}
	return len(b), nil
}

func (w *objWriter) sendPart(p []byte) error {
	if w.up == nil {
		w.up = w.o.store.upload(w.bucket, w.key, !w.overwrite)
	}
	return w.o.call(context.Background(), "write", w.uri, w.bucket, func(ctx context.Context) error {
		return w.up.part(ctx, p)
	})
}

func (w *objWriter) Close() error {
	if w.closed {
		return w.err
	}
	if w.aborted {
		return &Error{Op: "close", URI: w.uri, Err: fs.ErrClosed}
	}
	w.closed = true
	if w.err == nil {
		w.err = w.finish()
	}
	if w.err != nil {
		w.abortUpload()
	}
	w.removeTmp()
	return w.err
}

func (w *objWriter) finish() error {
	if w.up == nil {
		return w.o.call(context.Background(), "close", w.uri, w.bucket, func(ctx context.Context) error {
			return w.o.store.put(ctx, w.bucket, w.key, w.buf.Bytes(), !w.overwrite)
		})
	}
	if w.buf.Len() > 0 {
		if err := w.sendPart(w.buf.Next(w.buf.Len())); err != nil {
			return err
		}
	}
	return w.o.call(context.Background(), "close", w.uri, w.bucket, func(ctx context.Context) error {
		return w.up.commit(ctx)
	})
}

func (w *objWriter) abortUpload() {
	if w.up == nil {
		return
	}
	w.o.call(context.Background(), "abort", w.uri, w.bucket, func(ctx context.Context) error {
		return w.up.abort(ctx)
	})
	w.up = nil
}

// removeTmp deletes the temporary marker. Failing that, it stays behind as
// a recognised leftover (IsTemporary), as after a crash.
func (w *objWriter) removeTmp() error {
	return w.o.call(context.Background(), "abort", w.uri, w.bucket, func(ctx context.Context) error {
		return w.o.store.remove(ctx, w.bucket, w.tmpKey)
	})
}

func (w *objWriter) Abort() error {
	if w.closed && w.err == nil {
		return nil
	}
	if w.aborted {
		return nil
	}
	w.aborted = true
	w.buf = bytes.Buffer{}
	w.abortUpload()
	if w.closed {
		return nil // Close already removed the marker
	}
	return w.removeTmp()
}

// MkdirAll puts a marker for uri unless a file stands in the way: from
// the leaf up, no ancestor may be a file; the first existing ancestor
// directory ends the climb.
func (o *objectFS) MkdirAll(ctx context.Context, uri string) error {
	loc, bucket, key, err := o.target("mkdir", uri)
	if err != nil {
		return err
	}
	return o.call(ctx, "mkdir", uri, bucket, func(ctx context.Context) error {
		if key == "" {
			_, _, err := o.dirExists(ctx, bucket, "") // the root: exists if the bucket does
			return err
		}
		for k := key; k != ""; k = parentKey(k) {
			if k != key {
				if _, ok, err := o.store.head(ctx, bucket, dirPrefix(k)); err != nil {
					return err
				} else if ok {
					break
				}
			}
			if _, found, err := o.store.head(ctx, bucket, k); err != nil {
				return err
			} else if found {
				c := loc
				c.Path = "/" + k
				return &objCause{msg: fmt.Sprintf("%s is a file", c), is: errNotDir}
			}
			if k != key {
				if ok, _, err := o.dirExists(ctx, bucket, k); err != nil {
					return err
				} else if ok {
					break
				}
			}
		}
		return o.store.put(ctx, bucket, dirPrefix(key), nil, false)
	})
}

// Rename copies the one object at from to to and deletes from: not
// atomic. Directories are refused.
func (o *objectFS) Rename(ctx context.Context, from, to string) error {
	_, fb, fk, err := o.target("rename", from)
	if err != nil {
		return err
	}
	_, tb, tk, err := o.target("rename", to)
	if err != nil {
		return err
	}
	if fb != tb {
		return &Error{Op: "rename", URI: from, Err: fmt.Errorf("target %s is in another bucket", to)}
	}
	var conflict bool
	err = o.call(ctx, "rename", from, fb, func(ctx context.Context) error {
		a, found, err := o.store.head(ctx, fb, fk)
		if err != nil {
			return err
		}
		if !found {
			if ok, _, err := o.dirExists(ctx, fb, fk); err != nil {
				return err
			} else if ok {
				return fmt.Errorf("renaming a directory on %s would copy every object below it; ckpt does not: %w", o.store.kind(), errors.ErrUnsupported)
			}
			return &objCause{msg: "no such file", is: fs.ErrNotExist}
		}
		if _, found, err := o.store.head(ctx, tb, tk); err != nil {
			return err
		} else if found {
			conflict = true
			return &objCause{msg: fmt.Sprintf("target %s already exists", to), is: fs.ErrExist}
		}
		if ok, _, err := o.dirExists(ctx, tb, tk); err != nil {
			return err
		} else if ok {
			conflict = true
			return &objCause{msg: fmt.Sprintf("target %s already exists", to), is: fs.ErrExist}
		}
		if err := o.store.copy(ctx, fb, fk, tk, a); err != nil {
			return err
		}
		return o.store.remove(ctx, fb, fk)
	})
	if conflict {
		var se *Error
		if errors.As(err, &se) {
			se.URI = to
		}
	}
	return err
}

// Remove deletes the one object at uri, or the marker of the empty
// directory uri. A directory that anything else has the prefix of is
// ErrNotEmpty; nothing below it is touched.
func (o *objectFS) Remove(ctx context.Context, uri string) error {
	_, bucket, key, err := o.target("remove", uri)
	if err != nil {
		return err
	}
	if key == "" {
		return &Error{Op: "remove", URI: uri, Err: errors.New("refusing to remove the root of a bucket or container")}
	}
	return o.call(ctx, "remove", uri, bucket, func(ctx context.Context) error {
		_, found, err := o.store.head(ctx, bucket, key)
		if err != nil {
			return err
		}
		if found {
			return o.store.remove(ctx, bucket, key)
		}
		marker := dirPrefix(key)
		pg, err := o.store.list(ctx, bucket, marker, "/", "", 2)
		if err != nil {
			return err
		}
		hasMarker := false
		for _, a := range pg.objects {
			if a.key != marker {
				return ErrNotEmpty
			}
			hasMarker = true
		}
		if len(pg.prefixes) > 0 {
			return ErrNotEmpty
		}
		if !hasMarker {
			return nil // missing: not an error
		}
		return o.store.remove(ctx, bucket, marker)
	})
}

func (o *objectFS) Walk(ctx context.Context, uri string, fn WalkFunc) error {
	root, err := o.Stat(ctx, uri)
	if err != nil {
		if se := (*Error)(nil); errors.As(err, &se) {
			se.Op = "walk"
		}
		return err
	}
	return walkTree(ctx, o, root, fn)
}

// summaryWorkers is how many subtrees Summary lists at once.
const summaryWorkers = 8

// Summary totals uri without a listing per directory: one listing of
// uri's prefix with a "/" delimiter gives its own files and its
// subdirectories, and each subdirectory's whole subtree is then listed
// flat (no delimiter: listPage names per request, however deep), up to
// summaryWorkers subtrees at once — a job's checkpoint directory has
// shared/, taskowned/ and its chk-N side by side, a checkpoint root its
// jobs. Pages are added up as they come: no listing is held whole; only
// the set of a subtree's directory names is kept, never its objects.
func (o *objectFS) Summary(ctx context.Context, uri string) (Usage, error) {
	fi, err := o.Stat(ctx, uri)
	if err != nil {
		return Usage{}, err
	}
	if !fi.IsDir {
		return Usage{Files: 1, Bytes: fi.Size}, nil
	}
	_, bucket, key, _ := o.target("du", uri)
	prefix := dirPrefix(key)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu    sync.Mutex
		total = Usage{Dirs: 1}
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
			cancel()
		}
		mu.Unlock()
	}
	subtrees := make(chan string)
	for range summaryWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sub := range subtrees {
				u, err := o.summarizeFlat(ctx, uri, bucket, sub)
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				total.Files += u.Files
				total.Bytes += u.Bytes
				total.Dirs += u.Dirs
				mu.Unlock()
			}
		}()
	}
	token := ""
	for {
		var pg objectPage
		err := o.call(ctx, "du", uri, bucket, func(ctx context.Context) (err error) {
			pg, err = o.store.list(ctx, bucket, prefix, "/", token, listPage)
			return err
		})
		if err != nil {
			fail(err)
			break
		}
		mu.Lock()
		for _, a := range pg.objects {
			if a.key == prefix {
				continue // uri's own marker
			}
			total.Files++
			total.Bytes += a.size
		}
		mu.Unlock()
		sent := true
		for _, p := range pg.prefixes {
			select {
			case subtrees <- p:
			case <-ctx.Done():
				sent = false
			}
			if !sent {
				break
			}
		}
		if !sent || pg.next == "" {
			break
		}
		token = pg.next
	}
	close(subtrees)
	wg.Wait()
	if first != nil {
		return Usage{}, first
	}
	return total, nil
}

// summarizeFlat totals the subtree below prefix (a directory's key prefix,
// ending in "/") with one flat listing; the directory itself counts.
func (o *objectFS) summarizeFlat(ctx context.Context, uri, bucket, prefix string) (Usage, error) {
	dirs := map[string]bool{}
	u := Usage{Dirs: 1}
	token := ""
	for {
		var pg objectPage
		err := o.call(ctx, "du", uri, bucket, func(ctx context.Context) (err error) {
			pg, err = o.store.list(ctx, bucket, prefix, "", token, listPage)
			return err
		})
		if err != nil {
			return u, err
		}
		for _, a := range pg.objects {
			rel := strings.TrimPrefix(a.key, prefix)
			if rel == "" {
				continue // the directory's own marker
			}
			isMarker := strings.HasSuffix(rel, "/")
			rel = strings.TrimSuffix(rel, "/")
			if !isMarker {
				u.Files++
				u.Bytes += a.size
				rel = path.Dir(rel)
			}
			for d := rel; d != "." && d != "" && !dirs[d]; d = path.Dir(d) {
				dirs[d] = true
			}
		}
		if pg.next == "" {
			break
		}
		token = pg.next
	}
	u.Dirs += int64(len(dirs))
	return u, nil
}
