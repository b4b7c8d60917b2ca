package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/storage"
)

// This file holds ckpt's one rule for deleting a snapshot. Every delete of
// a checkpoint or savepoint directory goes through it (ckpt savepoint -d,
// savepoints --dispose, POST /savepoint-disposal, the TUI, the engine's
// own retained and failed checkpoints):
//
//   - only files the snapshot's _metadata references (or, for a snapshot
//     ckpt is writing itself, the files it uploaded), and only those inside
//     the snapshot's own directory — a file elsewhere (a job's shared/,
//     another job's checkpoint) stays;
//   - never through a symbolic link: the directory, _metadata, each file
//     and every directory between them must be what they look like;
//   - never recursively: the directory goes only once it is empty, so a
//     file somebody put beside the snapshot survives and is reported.
//
// _metadata is first renamed to DisposingName, so a disposal cut short
// (a crash, a full disk) never leaves a complete-looking snapshot with
// files missing, and a second Dispose finishes the job from the renamed
// file — Flink too drops the metadata before the state files.

// DisposingName is what _metadata is renamed to while its snapshot is
// being disposed.
const DisposingName = MetadataFileName + ".disposing"

// Leftover is something a disposal did not remove, and why.
type Leftover struct {
	URI string `json:"uri"`
	Why string `json:"why"`
}

// Disposal reports what a disposal removed and what it left.
type Disposal struct {
	Dir string `json:"dir"`
	// Removed lists the files removed (state files, then the metadata).
	Removed []string `json:"removed,omitempty"`
	// Missing counts referenced files that were already gone.
	Missing int `json:"missing,omitempty"`
	// DirRemoved is true when Dir itself went (it was empty at the end).
	DirRemoved bool `json:"dir_removed"`
	// Left lists what stays: referenced files outside Dir, entries of Dir
	// the snapshot does not reference, files refused as links.
	Left []Leftover `json:"left,omitempty"`
}

// Summary is a one-line account, what stays before what was already gone:
// "removed 12 files and the directory" or "removed 12 files; left 2: …".
func (d Disposal) Summary() string {
	s := fmt.Sprintf("removed %d %s", len(d.Removed), plural(len(d.Removed), "file", "files"))
	if d.DirRemoved {
		s += " and the directory"
	}
	if len(d.Left) > 0 {
		s += fmt.Sprintf("; left %d: ", len(d.Left))
		for i, l := range d.Left {
			if i == 3 {
				s += fmt.Sprintf(", … (%d more)", len(d.Left)-3)
				break
			}
			if i > 0 {
				s += ", "
			}
			s += storage.Base(l.URI) + " (" + l.Why + ")"
		}
	}
	if d.Missing > 0 {
		s += fmt.Sprintf("; %d referenced %s already gone", d.Missing, plural(d.Missing, "file was", "files were"))
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// ErrLink is wrapped when a disposal meets a symbolic link where it expects
// the snapshot's directory, its _metadata or a file in it.
var ErrLink = errors.New("is a symbolic link: ckpt never deletes through a link")

// Dispose deletes the snapshot in dir (a checkpoint or savepoint
// directory) by the rule above. It refuses — deleting nothing — a dir that
// is a link or not a directory, and a dir without a regular _metadata (or
// the DisposingName left by an interrupted disposal). Callers decide
// before whether the snapshot may go (savepoints.Check).
func Dispose(ctx context.Context, fsys storage.FS, dir string) (Disposal, error) {
	return DisposeInto(ctx, fsys, dir, "")
}

// DisposeInto is Dispose that, when trash is not "", moves the files into
// trash (a directory on the same filesystem, mirroring dir) instead of
// deleting them: by the same rule, _metadata still renamed first and
// moved last (back to its own name there, so moving everything back
// restores the snapshot).
func DisposeInto(ctx context.Context, fsys storage.FS, dir, trash string) (Disposal, error) {
	d := Disposal{Dir: dir}
	meta, m, err := disposalMetadata(ctx, fsys, dir)
	if err != nil {
		return d, err
	}
	m.ExclusiveDir = dir
	files, left := referencedFiles(m, dir)
	d.Left = append(d.Left, left...)
	if storage.Base(meta) == MetadataFileName {
		disposing := storage.Join(dir, DisposingName)
		if err := fsys.Rename(ctx, meta, disposing); err != nil {
			return d, fmt.Errorf("%s: could not mark the snapshot as being disposed, nothing was deleted: %w", dir, err)
		}
		meta = disposing
	}
	return removeOwned(ctx, fsys, dir, append(files, meta), d, trash)
}

// ReferencedFiles lists the distinct files m references inside dir, and
// what it references elsewhere (or cannot resolve) as leftovers.
func referencedFiles(m *Metadata, dir string) (inside []string, left []Leftover) {
	seen := map[string]bool{}
	m.Walk(func(v Visit) {
		h, ok := v.Handle.(StreamHandle)
		if !ok {
			return
		}
		if _, kg := h.(*KeyGroupsHandle); kg {
			return // its delegate is visited on its own
		}
		uri, ok, err := m.FileURI(h)
		if err != nil {
			if rh, isRel := h.(*RelativeFileHandle); isRel && !seen["rel:"+rh.RelativePath] {
				seen["rel:"+rh.RelativePath] = true
				left = append(left, Leftover{URI: rh.RelativePath, Why: err.Error()})
			}
			return
		}
		if !ok || uri == "" || seen[uri] {
			return
		}
		seen[uri] = true
		if storage.Within(dir, uri) && !sameDir(dir, uri) {
			inside = append(inside, uri)
		} else {
			left = append(left, Leftover{URI: uri, Why: "outside the snapshot's directory"})
		}
	})
	sort.Strings(inside)
	return inside, left
}

func sameDir(dir, uri string) bool { return storage.Within(uri, dir) }

// RemoveOwned removes exactly files (each must lie inside dir; anything
// else is refused and reported), then the subdirectories of dir they
// emptied, then dir itself if nothing else is in it. d carries what the
// caller already knows to report. The engine uses it for the files of a
// checkpoint that never completed (no _metadata to read).
func RemoveOwned(ctx context.Context, fsys storage.FS, dir string, files []string, d Disposal) (Disposal, error) {
	return removeOwned(ctx, fsys, dir, files, d, "")
}

// MoveOwned is RemoveOwned moving the files into trash (mirroring dir, on
// the same filesystem) instead of deleting them.
func MoveOwned(ctx context.Context, fsys storage.FS, dir string, files []string, trash string, d Disposal) (Disposal, error) {
	if trash == "" {
		return d, errors.New("MoveOwned: no trash directory")
	}
	return removeOwned(ctx, fsys, dir, files, d, trash)
}

func removeOwned(ctx context.Context, fsys storage.FS, dir string, files []string, d Disposal, trash string) (Disposal, error) {
	d, err := applyFiles(ctx, fsys, dir, files, d, trash)
	if err != nil || !exists(ctx, fsys, dir) { // a directory already gone is no error
		return d, err
	}
	switch err := fsys.Remove(ctx, dir); {
	case err == nil:
		d.DirRemoved = true
	case errors.Is(err, storage.ErrNotEmpty):
		d.Left = append(d.Left, foreignEntries(ctx, fsys, dir)...)
	default:
		return d, err
	}
	return d, nil
}

func exists(ctx context.Context, fsys storage.FS, uri string) bool {
	_, err := fsys.Lstat(ctx, uri)
	return err == nil
}

// RemoveFiles is RemoveOwned without removing dir itself: for files a
// writer put into a directory it did not create (a user's savepoint
// target, a job's shared/). Each file, and every directory between dir
// and it, is checked with Lstat: a link is never followed or removed. A
// missing file (or dir) is counted, not an error.
func RemoveFiles(ctx context.Context, fsys storage.FS, dir string, files []string, d Disposal) (Disposal, error) {
	return applyFiles(ctx, fsys, dir, files, d, "")
}

// MoveFiles is RemoveFiles moving each file to the same relative path
// below trash (a directory on the same filesystem; created as needed)
// instead of deleting it. A file already at its trash path is an error:
// nothing is overwritten.
func MoveFiles(ctx context.Context, fsys storage.FS, dir string, files []string, trash string, d Disposal) (Disposal, error) {
	if trash == "" {
		return d, errors.New("MoveFiles: no trash directory")
	}
	return applyFiles(ctx, fsys, dir, files, d, trash)
}

// applyFiles removes files (trash "") or moves them below trash.
func applyFiles(ctx context.Context, fsys storage.FS, dir string, files []string, d Disposal, trash string) (Disposal, error) {
	d.Dir = dir
	if err := checkDir(ctx, fsys, dir); err != nil {
		if storage.IsNotExist(err) {
			d.Missing += len(files)
			return d, nil
		}
		return d, err
	}
	parents := map[string]bool{}
	var errs []error
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return d, fmt.Errorf("disposing %s: %w", dir, err)
		}
		rel, ok := RelativeTo(dir, f)
		if !ok {
			d.Left = append(d.Left, Leftover{URI: f, Why: "outside the snapshot's directory"})
			continue
		}
		why, err := checkPath(ctx, fsys, dir, rel)
		switch {
		case storage.IsNotExist(err):
			d.Missing++
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		case why != "":
			d.Left = append(d.Left, Leftover{URI: f, Why: why})
			continue
		}
		if err := removeOrMove(ctx, fsys, f, rel, trash); err != nil {
			errs = append(errs, err)
			continue
		}
		d.Removed = append(d.Removed, f)
		for p := path.Dir(rel); p != "." && p != "/"; p = path.Dir(p) {
			parents[p] = true
		}
	}
	// Deepest first, so a parent sees its children gone.
	var subdirs []string
	for p := range parents {
		subdirs = append(subdirs, p)
	}
	sort.Slice(subdirs, func(i, j int) bool { return strings.Count(subdirs[i], "/") > strings.Count(subdirs[j], "/") })
	for _, p := range subdirs {
		if err := fsys.Remove(ctx, storage.Join(dir, p)); err != nil && !errors.Is(err, storage.ErrNotEmpty) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return d, fmt.Errorf("disposing %s: %w", dir, errors.Join(errs...))
	}
	return d, nil
}

// removeOrMove removes f, or moves it to rel below trash (a disposal's
// renamed _metadata back to its own name there).
func removeOrMove(ctx context.Context, fsys storage.FS, f, rel, trash string) error {
	if trash == "" {
		return fsys.Remove(ctx, f)
	}
	if path.Base(rel) == DisposingName {
		rel = path.Join(path.Dir(rel), MetadataFileName)
	}
	to := storage.Join(trash, rel)
	if err := fsys.MkdirAll(ctx, storage.Dir(to)); err != nil {
		return err
	}
	return fsys.Rename(ctx, f, to)
}

// checkDir: dir exists, is a directory and not a link.
func checkDir(ctx context.Context, fsys storage.FS, dir string) error {
	fi, err := fsys.Lstat(ctx, dir)
	if err != nil {
		return err
	}
	if fi.IsSymlink() {
		return fmt.Errorf("%s %w", dir, ErrLink)
	}
	if !fi.IsDir {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

func regularFile(uri string, fi storage.FileInfo) error {
	switch {
	case fi.IsSymlink():
		return fmt.Errorf("%s %w", uri, ErrLink)
	case fi.IsDir || fi.Mode&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0:
		return fmt.Errorf("%s is not a regular file", uri)
	}
	return nil
}

// checkPath Lstats every step from dir down to rel: it returns why a file
// must stay ("" when it may go), or the Lstat error (not-exist for a file
// already gone).
func checkPath(ctx context.Context, fsys storage.FS, dir, rel string) (string, error) {
	parts := strings.Split(rel, "/")
	cur := dir
	for i, p := range parts {
		cur = storage.Join(cur, p)
		fi, err := fsys.Lstat(ctx, cur)
		if err != nil {
			return "", err
		}
		last := i == len(parts)-1
		switch {
		case fi.IsSymlink():
			return "a symbolic link: never followed or removed", nil
		case !last && !fi.IsDir:
			return "", fmt.Errorf("%s is not a directory", cur)
		case last && regularFile(cur, fi) != nil:
			return "not a regular file", nil
		}
	}
	return "", nil
}

// RelativeTo gives f's path below dir ("a/b"), ok false when f is not
// strictly inside dir.
func RelativeTo(dir, f string) (string, bool) {
	if !storage.Within(dir, f) || storage.Within(f, dir) {
		return "", false
	}
	dl, err1 := storage.Parse(dir)
	fl, err2 := storage.Parse(f)
	if err1 != nil || err2 != nil {
		return "", false
	}
	dp := strings.TrimSuffix(path.Clean(dl.Path), "/") + "/"
	fp := path.Clean(fl.Path)
	if !strings.HasPrefix(fp, dp) {
		return "", false
	}
	return strings.TrimPrefix(fp, dp), true
}

// Remains lists (a page of) what is still in dir after a disposal
// elsewhere (a cluster's): nil when dir is gone.
func Remains(ctx context.Context, fsys storage.FS, dir string) []Leftover {
	if _, err := fsys.Lstat(ctx, dir); err != nil {
		return nil
	}
	return foreignEntries(ctx, fsys, dir)
}

// foreignEntries lists (a page of) what keeps dir from going.
func foreignEntries(ctx context.Context, fsys storage.FS, dir string) []Leftover {
	l, err := fsys.List(ctx, dir)
	if err != nil {
		return []Leftover{{URI: dir, Why: "directory not empty"}}
	}
	defer l.Close()
	page, _ := l.Next(ctx)
	sort.Slice(page, func(i, j int) bool { return page[i].Name < page[j].Name })
	var out []Leftover
	for _, e := range page {
		out = append(out, Leftover{URI: e.URI, Why: "not part of the snapshot"})
	}
	if len(out) == 0 {
		out = append(out, Leftover{URI: dir, Why: "directory not empty"})
	}
	return out
}

// disposalMetadata finds and reads what a disposal of dir goes by: its
// _metadata, or the DisposingName of a disposal cut short — a regular file
// either way, never a link. Nothing is deleted when it fails.
func disposalMetadata(ctx context.Context, fsys storage.FS, dir string) (string, *Metadata, error) {
	if err := checkDir(ctx, fsys, dir); err != nil {
		return "", nil, err
	}
	meta := storage.Join(dir, MetadataFileName)
	fi, err := fsys.Lstat(ctx, meta)
	if storage.IsNotExist(err) {
		meta = storage.Join(dir, DisposingName)
		fi, err = fsys.Lstat(ctx, meta)
		if storage.IsNotExist(err) {
			return "", nil, fmt.Errorf("%s: %w", dir, ErrNotSnapshot)
		}
	}
	if err != nil {
		return "", nil, err
	}
	if err := regularFile(meta, fi); err != nil {
		return "", nil, err
	}
	m, err := Read(ctx, fsys, meta)
	if err != nil {
		return "", nil, fmt.Errorf("%s: cannot tell which files it references, so nothing was deleted: %w", meta, err)
	}
	return meta, m, nil
}
