package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/ckpt-dev/ckpt/storage"
)

// Snapshot surgery: a rewritten copy of a snapshot with operators dropped
// or moved to another operator ID (a changed uid), written to a NEW
// directory — never in place — by the deletion rule of dispose.go:
//
//   - DST must not exist or be an empty directory; its parent must exist;
//   - every file the kept operators reference is copied (or hard-linked,
//     see RewriteOptions.Link) into DST and referenced relative to it, so
//     DST is self-contained: files a retained checkpoint keeps in its job's
//     shared/ or taskowned/ directory are copied too (to DST/shared/…,
//     DST/taskowned/…), and DST no longer depends on SRC or its job dir;
//   - a dropped operator's files are not copied;
//   - _metadata is written last and atomically, so a rewrite cut short
//     never leaves a DST that looks like a complete snapshot;
//   - a failed rewrite removes exactly the files it created, never
//     recursively, and DST itself only if it created it and it is empty.

// Reassignment moves the state of operator From to operator ID To: the
// hash of UID (a renamed uid), or a literal ID (Literal, Flink's
// setUidHash).
type Reassignment struct {
	From    OperatorID
	To      OperatorID
	UID     string // the new uid; "" with Literal
	Literal bool
}

// Edits is what a rewrite changes; operators not named stay as they are.
type Edits struct {
	Drop     []OperatorID
	Reassign []Reassignment
}

// Change is one operator a rewrite changed, for the report.
type Change struct {
	Action string     `json:"action"` // "dropped" or "renamed"
	ID     OperatorID `json:"id"`
	UID    string     `json:"uid,omitempty"`
	NewID  OperatorID `json:"new_id,omitempty"`
	NewUID string     `json:"new_uid,omitempty"`
	// StateSize is the operator's state; for a dropped operator, what is
	// lost. Files counts the distinct files it references; for a dropped
	// operator, those no kept operator references (they are not copied).
	StateSize int64 `json:"state_size"`
	Files     int   `json:"files"`
}

// LookupOperator finds the operator a user names: a 32-hex operator ID
// present in m, else a uid (its stored uid, V5+, or its hash).
func (m *Metadata) LookupOperator(ref string) (*OperatorState, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, errors.New("empty operator uid or ID")
	}
	if id, err := ParseOperatorID(ref); err == nil {
		if op := m.Operator(id); op != nil {
			return op, nil
		}
	}
	if op := m.Operator(OperatorIDFromUID(ref)); op != nil {
		return op, nil
	}
	for _, op := range m.Operators {
		if op.UID == ref {
			return op, nil
		}
	}
	return nil, fmt.Errorf("no operator with uid or ID %q in the snapshot (uid %q hashes to %s)", ref, ref, OperatorIDFromUID(ref))
}

// Apply changes m's operators by e: dropped operators go, reassigned ones
// take their new ID (and, V5+, their new uid; a name equal to the old uid
// follows it). It refuses edits naming an operator twice, an operator not
// in m, or a new ID that another kept operator already has (Flink refuses
// a snapshot with two operators of one ID).
func (m *Metadata) Apply(e Edits) ([]Change, error) {
	touched := map[OperatorID]string{}
	touch := func(id OperatorID, what string) error {
		if m.Operator(id) == nil {
			return fmt.Errorf("%s: operator %s is not in the snapshot", what, id)
		}
		if prev, ok := touched[id]; ok {
			return fmt.Errorf("operator %s is named twice (%s, %s)", id, prev, what)
		}
		touched[id] = what
		return nil
	}
	dropped := map[OperatorID]bool{}
	for _, id := range e.Drop {
		if err := touch(id, "--drop"); err != nil {
			return nil, err
		}
		dropped[id] = true
	}
	moved := map[OperatorID]Reassignment{}
	for _, r := range e.Reassign {
		if err := touch(r.From, "rename"); err != nil {
			return nil, err
		}
		moved[r.From] = r
	}
	// The IDs after the edit must be distinct.
	final := map[OperatorID]OperatorID{}
	for _, op := range m.Operators {
		if dropped[op.ID] {
			continue
		}
		id := op.ID
		if r, ok := moved[op.ID]; ok {
			id = r.To
		}
		if prev, ok := final[id]; ok {
			return nil, fmt.Errorf("after the edit, operators %s and %s would both have the ID %s (drop or rename the other one too)", prev, op.ID, id)
		}
		final[id] = op.ID
	}
	// A file a kept operator also references (chained operators can
	// share one) is copied: it does not count as left out.
	keptFiles := map[string]bool{}
	for _, op := range m.Operators {
		if !dropped[op.ID] {
			for _, f := range operatorFiles(m, op) {
				keptFiles[f] = true
			}
		}
	}
	var changes []Change
	kept := m.Operators[:0:0]
	for _, op := range m.Operators {
		c := Change{ID: op.ID, UID: op.UID, StateSize: op.StateSize()}
		for _, f := range operatorFiles(m, op) {
			if !dropped[op.ID] || !keptFiles[f] {
				c.Files++
			}
		}
		switch r, ok := moved[op.ID]; {
		case dropped[op.ID]:
			c.Action = "dropped"
			changes = append(changes, c)
			continue
		case ok:
			c.Action, c.NewID, c.NewUID = "renamed", r.To, r.UID
			changes = append(changes, c)
			if m.Version >= Version5 {
				if op.Name != "" && op.Name == op.UID && r.UID != "" {
					op.Name = r.UID
				}
				op.UID = r.UID
			}
			op.ID = r.To
		}
		kept = append(kept, op)
	}
	m.Operators = kept
	return changes, nil
}

// operatorFiles lists the distinct files op's handles reference.
func operatorFiles(m *Metadata, op *OperatorState) []string {
	seen := map[string]bool{}
	var out []string
	one := &Metadata{Version: m.Version, Operators: []*OperatorState{op}, ExclusiveDir: m.ExclusiveDir}
	one.Walk(func(v Visit) {
		var h StreamHandle
		switch {
		case v.Channel != nil:
			return // its delegate is visited on its own
		default:
			sh, ok := v.Handle.(StreamHandle)
			if !ok {
				return
			}
			if _, kg := sh.(*KeyGroupsHandle); kg {
				return
			}
			h = sh
		}
		if uri, ok, err := m.FileURI(h); err == nil && ok && !seen[uri] {
			seen[uri] = true
			out = append(out, uri)
		}
	})
	return out
}

// RewriteOptions tune Rewrite.
type RewriteOptions struct {
	// Link hard-links a file instead of copying it when source and
	// destination are on the same local filesystem (state files are never
	// written again once a snapshot is complete, so a link is as good as a
	// copy, and removing either name leaves the other). Elsewhere, and for a
	// file that cannot be linked, the file is copied.
	Link bool
}

// RewriteResult is what Rewrite did.
type RewriteResult struct {
	Dst      string `json:"dst"`
	Metadata string `json:"metadata"`
	// Copied and Linked count the files written to Dst; Bytes is their
	// size. Outside counts those that came from outside SRC's directory
	// (a job's shared/ or taskowned/).
	Copied  int   `json:"copied"`
	Linked  int   `json:"linked"`
	Bytes   int64 `json:"bytes"`
	Outside int   `json:"outside"`
}

// ErrDstNotEmpty is wrapped when a rewrite's or copy's destination exists
// and holds something.
var ErrDstNotEmpty = errors.New("exists and is not empty: ckpt writes a new snapshot only into a new or empty directory")

// fileCopy is one file Rewrite writes.
type fileCopy struct {
	src, rel string
	size     int64
	outside  bool
}

// Rewrite writes m — already edited (Apply) — as a new snapshot in dst,
// by the rules at the top of this file. m must carry ExclusiveDir (it
// was Read). On success m's handles point into dst (relative handles;
// absolute ones into dst for V2, which has no relative handles) and
// m.Location/ExclusiveDir name dst. Segment (file-merging) handles are
// refused: their physical files are shared with other operators and
// checkpoints.
func Rewrite(ctx context.Context, fsys storage.FS, m *Metadata, dst string, opts RewriteOptions) (*RewriteResult, error) {
	if m.ExclusiveDir == "" {
		return nil, errors.New("rewrite: the snapshot has no directory (read it with snapshot.Read)")
	}
	if storage.Within(m.ExclusiveDir, dst) || storage.Within(dst, m.ExclusiveDir) {
		return nil, fmt.Errorf("rewrite: %s and %s overlap: write the new snapshot elsewhere", dst, m.ExclusiveDir)
	}
	files, err := planFiles(m)
	if err != nil {
		return nil, err
	}
	// Every file must be there before anything is written.
	if err := statFiles(ctx, fsys, files, "rewrite", "written"); err != nil {
		return nil, err
	}
	created, err := prepareDst(ctx, fsys, dst)
	if err != nil {
		return nil, err
	}
	res := &RewriteResult{Dst: dst, Metadata: storage.Join(dst, MetadataFileName)}
	var written []string
	fail := func(err error) (*RewriteResult, error) {
		// Only what this run created goes; never recursively.
		cleanup := context.WithoutCancel(ctx)
		var d Disposal
		var cerr error
		if created {
			d, cerr = RemoveOwned(cleanup, fsys, dst, written, Disposal{})
		} else {
			d, cerr = RemoveFiles(cleanup, fsys, dst, written, Disposal{})
		}
		msg := fmt.Sprintf("rewrite into %s failed; removed the %d files it had written", dst, len(d.Removed))
		if cerr != nil {
			msg += fmt.Sprintf(" (cleanup: %v)", cerr)
		}
		return nil, fmt.Errorf("%s: %w", msg, err)
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		to := storage.Join(dst, f.rel)
		if err := fsys.MkdirAll(ctx, storage.Dir(to)); err != nil {
			return fail(err)
		}
		linked, err := transfer(ctx, fsys, f.src, to, f.size, opts.Link)
		if err != nil {
			return fail(err)
		}
		written = append(written, to)
		if linked {
			res.Linked++
		} else {
			res.Copied++
		}
		res.Bytes += f.size
		if f.outside {
			res.Outside++
		}
	}
	if err := repoint(m, files, dst, false); err != nil {
		return fail(err)
	}
	if err := Write(ctx, fsys, res.Metadata, m); err != nil {
		written = append(written, res.Metadata)
		return fail(err)
	}
	m.Location, m.ExclusiveDir = res.Metadata, dst
	return res, nil
}

// planFiles lists the distinct files m references and where each goes
// below dst: its path below SRC's directory when inside it, else
// "<parent dir name>/<file name>" (shared/…, taskowned/…), made unique.
// statFiles checks that every planned source is a readable regular file,
// before anything is written, and records its size; verb and what name
// the command in the error ("rewrite", "nothing was written").
func statFiles(ctx context.Context, fsys storage.FS, files []fileCopy, verb, what string) error {
	for i, f := range files {
		fi, err := fsys.Stat(ctx, f.src)
		if err != nil {
			return fmt.Errorf("%s: a referenced file is not readable, nothing was %s: %w", verb, what, err)
		}
		if err := storage.FileTypeError(f.src, fi.Mode); err != nil || fi.IsDir {
			return fmt.Errorf("%s: %s is not a regular file, nothing was %s", verb, f.src, what)
		}
		files[i].size = fi.Size
	}
	return nil
}

func planFiles(m *Metadata) ([]fileCopy, error) {
	var files []fileCopy
	var errs []error
	seen := map[string]bool{}
	m.Walk(func(v Visit) {
		var h StreamHandle
		switch {
		case v.Channel != nil:
			return
		default:
			sh, ok := v.Handle.(StreamHandle)
			if !ok {
				return
			}
			h = sh
		}
		switch h.(type) {
		case *SegmentFileHandle, *EmptySegmentFileHandle:
			errs = append(errs, fmt.Errorf("operator %s uses checkpoint file merging (segment handles): rewrite does not support it yet", v.Operator.ID))
			return
		case *KeyGroupsHandle:
			return // its delegate is visited on its own
		}
		uri, ok, err := m.FileURI(h)
		if err != nil {
			errs = append(errs, err)
			return
		}
		if !ok || seen[uri] {
			return
		}
		seen[uri] = true
		f := fileCopy{src: uri}
		if rel, inside := RelativeTo(m.ExclusiveDir, uri); inside {
			f.rel = rel
		} else {
			f.rel = path.Join(storage.Base(storage.Dir(uri)), storage.Base(uri))
			f.outside = true
		}
		files = append(files, f)
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("rewrite: %w", errors.Join(errs...))
	}
	// Two outside files with one name (from different directories): the
	// later ones go below a directory named for their source directory.
	taken := map[string]bool{}
	for _, f := range files {
		if !f.outside {
			taken[f.rel] = true
		}
	}
	for i := range files {
		f := &files[i]
		if !f.outside {
			continue
		}
		if taken[f.rel] || f.rel == MetadataFileName {
			sum := sha256.Sum256([]byte(storage.Dir(f.src)))
			f.rel = path.Join(hex.EncodeToString(sum[:4]), f.rel)
		}
		if taken[f.rel] {
			return nil, fmt.Errorf("rewrite: cannot place %s: %s is taken", f.src, f.rel)
		}
		taken[f.rel] = true
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	return files, nil
}

// prepareDst checks dst (absent, or an empty directory that is not a link;
// its parent exists) and creates it; created says whether it did.
func prepareDst(ctx context.Context, fsys storage.FS, dst string) (created bool, err error) {
	fi, err := fsys.Lstat(ctx, dst)
	switch {
	case err == nil && fi.IsSymlink():
		return false, fmt.Errorf("%s %w", dst, ErrLink)
	case err == nil && !fi.IsDir:
		return false, fmt.Errorf("%s %w", dst, ErrDstNotEmpty)
	case err == nil:
		l, err := fsys.List(ctx, dst)
		if err != nil {
			return false, err
		}
		page, lerr := l.Next(ctx)
		l.Close()
		if len(page) > 0 {
			return false, fmt.Errorf("%s %w", dst, ErrDstNotEmpty)
		}
		if lerr != nil && !errors.Is(lerr, io.EOF) {
			return false, lerr
		}
		return false, nil
	case !storage.IsNotExist(err):
		return false, err
	}
	parent := storage.Dir(dst)
	pfi, err := fsys.Stat(ctx, parent)
	if err != nil {
		return false, fmt.Errorf("the parent of %s: %w (ckpt creates only the destination directory itself)", dst, err)
	}
	if !pfi.IsDir {
		return false, fmt.Errorf("the parent of %s is not a directory", dst)
	}
	if err := fsys.MkdirAll(ctx, dst); err != nil {
		return false, err
	}
	return true, nil
}

// transfer puts the bytes of src at to: a hard link when asked and both
// are plain files on one local filesystem, else a copy (synced before
// _metadata is written). It checks the size written.
func transfer(ctx context.Context, fsys storage.FS, src, to string, size int64, link bool) (linked bool, err error) {
	if link {
		sl, err1 := storage.Parse(src)
		tl, err2 := storage.Parse(to)
		if err1 == nil && err2 == nil && sl.IsLocal() && tl.IsLocal() {
			if fi, err := os.Lstat(sl.LocalPath()); err == nil && fi.Mode().IsRegular() {
				if err := os.Link(sl.LocalPath(), tl.LocalPath()); err == nil {
					return true, nil
				} else if errors.Is(err, os.ErrExist) {
					return false, fmt.Errorf("%s: %w", to, err)
				}
				// Another device, or links not allowed: copy.
			}
		}
	}
	in, err := fsys.Open(ctx, src)
	if err != nil {
		return false, err
	}
	defer in.Close()
	w, err := fsys.Create(ctx, to, storage.CreateOptions{Sync: true})
	if err != nil {
		return false, err
	}
	n, err := io.Copy(w, io.LimitReader(in, size+1))
	if err == nil && n != size {
		err = fmt.Errorf("copying %s: read %d bytes, the file had %d (changed while copying?)", src, n, size)
	}
	if err != nil {
		w.Abort()
		return false, err
	}
	return false, w.Close()
}

// repoint replaces every file handle of m by one naming its copy below
// dst: relative (V3+) or absolute (V2, or when abs: files outside the
// snapshot's own directory, as in a copied job dir).
func repoint(m *Metadata, files []fileCopy, dst string, abs bool) error {
	rel := map[string]string{}
	for _, f := range files {
		rel[f.src] = f.rel
	}
	var errs []error
	var stream func(h StreamHandle) StreamHandle
	stream = func(h StreamHandle) StreamHandle {
		switch x := h.(type) {
		case *KeyGroupsHandle:
			x.Delegate = stream(x.Delegate)
			return x
		case *FileHandle, *RelativeFileHandle:
			uri, _, err := m.FileURI(h)
			r, ok := rel[uri]
			if err != nil || !ok {
				errs = append(errs, fmt.Errorf("rewrite: no copy planned for %s (%v)", uri, err))
				return h
			}
			if abs || m.Version < Version3 {
				return NewFileHandle(storage.Join(dst, r), h.StateSize())
			}
			return NewRelativeFileHandle(r, h.StateSize())
		}
		return h
	}
	var keyed func(h KeyedHandle) KeyedHandle
	keyed = func(h KeyedHandle) KeyedHandle {
		switch x := h.(type) {
		case *KeyGroupsHandle:
			x.Delegate = stream(x.Delegate)
		case *IncrementalHandle:
			if x.Meta != nil {
				x.Meta = stream(x.Meta)
			}
			for i := range x.Shared {
				x.Shared[i].Handle = stream(x.Shared[i].Handle)
			}
			for i := range x.Private {
				x.Private[i].Handle = stream(x.Private[i].Handle)
			}
		case *ChangelogHandle:
			for i := range x.Materialized {
				x.Materialized[i] = keyed(x.Materialized[i])
			}
			for i := range x.NonMaterialized {
				x.NonMaterialized[i] = keyed(x.NonMaterialized[i])
			}
		case *ChangelogFileHandle:
			for i := range x.Parts {
				x.Parts[i].Handle = stream(x.Parts[i].Handle)
			}
		}
		return h
	}
	operator := func(h OperatorHandle) {
		if x, ok := h.(*OperatorStreamHandle); ok && x.Delegate != nil {
			x.Delegate = stream(x.Delegate)
		}
	}
	for _, op := range m.Operators {
		for _, st := range op.Subtasks {
			if st.ManagedOperatorState != nil {
				operator(st.ManagedOperatorState)
			}
			if st.RawOperatorState != nil {
				operator(st.RawOperatorState)
			}
			if st.ManagedKeyedState != nil {
				st.ManagedKeyedState = keyed(st.ManagedKeyedState)
			}
			if st.RawKeyedState != nil {
				st.RawKeyedState = keyed(st.RawKeyedState)
			}
			for _, c := range append(append([]*ChannelHandle{}, st.InputChannels...), st.OutputChannels...) {
				if c.Delegate != nil {
					c.Delegate = stream(c.Delegate)
				}
			}
		}
	}
	return errors.Join(errs...)
}
