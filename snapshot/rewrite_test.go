package snapshot_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// surgerySavepoint writes a savepoint (V6, relative handles) with three
// operators: "src" (operator state), "count" and "sum" (keyed state, two
// subtasks each); every piece of state in its own file whose content names
// it.
func surgerySavepoint(t *testing.T, dir string, version int) {
	t.Helper()
	m := &snapshot.Metadata{Version: version, CheckpointID: 9}
	if version >= snapshot.Version4 {
		if err := m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone)); err != nil {
			t.Fatal(err)
		}
	}
	file := func(rel string) snapshot.StreamHandle {
		writeFile(t, filepath.Join(dir, rel), "bytes of "+rel)
		size := int64(len("bytes of " + rel))
		if version < snapshot.Version3 {
			return snapshot.NewFileHandle("file:"+filepath.Join(dir, rel), size)
		}
		return snapshot.NewRelativeFileHandle(rel, size)
	}
	src := snapshot.NewOperatorState("src", "src", 1, 128)
	src.Subtasks = []*snapshot.SubtaskState{{ManagedOperatorState: snapshot.NewOperatorStreamHandle(file("src-0"),
		snapshot.NamedOperatorState{Name: "offsets", Mode: snapshot.SplitDistribute, Offsets: []int64{0}})}}
	m.Operators = append(m.Operators, src)
	for _, uid := range []string{"count", "sum"} {
		op := snapshot.NewOperatorState(uid, uid, 2, 128)
		for i := int32(0); i < 2; i++ {
			r := snapshot.KeyGroupRangeFor(128, 2, i)
			op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: i,
				ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r, make([]int64, r.Count), file(uid+"-"+string(rune('0'+i))))})
		}
		m.Operators = append(m.Operators, op)
	}
	if version < snapshot.Version5 {
		for _, op := range m.Operators {
			op.UID, op.Name = "", ""
		}
	}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(dir, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
}

// surgeryCheckpoint writes a retained incremental checkpoint job/chk-3:
// private files in chk-3 and shared SSTs in job/shared, all absolute, as
// Flink writes checkpoints.
func surgeryCheckpoint(t *testing.T, job string) string {
	t.Helper()
	chk := filepath.Join(job, "chk-3")
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 3}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		t.Fatal(err)
	}
	abs := func(p string) snapshot.StreamHandle {
		writeFile(t, p, "bytes of "+filepath.Base(p))
		return snapshot.NewFileHandle("file:"+p, int64(len("bytes of "+filepath.Base(p))))
	}
	for _, uid := range []string{"count", "sum"} {
		op := snapshot.NewOperatorState(uid, uid, 1, 128)
		shared := []snapshot.NamedHandle{{LocalName: "000009.sst", Handle: abs(filepath.Join(job, "shared", uid+"-sst"))}}
		private := []snapshot.NamedHandle{{LocalName: "MANIFEST-000004", Handle: abs(filepath.Join(chk, uid+"-manifest"))}}
		op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(3, "backend-"+uid,
			snapshot.KeyGroupRange{Start: 0, Count: 128}, 10, abs(filepath.Join(chk, uid+"-meta")), shared, private, "h-"+uid)}}
		m.Operators = append(m.Operators, op)
	}
	if err := snapshot.Write(context.Background(), storage.NewLocal(), filepath.Join(chk, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
	return chk
}

// referenced lists what m's handles point at, resolved, with their content.
func referenced(t *testing.T, m *snapshot.Metadata) map[string]string {
	t.Helper()
	out := map[string]string{}
	m.Walk(func(v snapshot.Visit) {
		h, ok := v.Handle.(snapshot.StreamHandle)
		if !ok {
			return
		}
		if _, kg := h.(*snapshot.KeyGroupsHandle); kg {
			return
		}
		uri, ok, err := m.FileURI(h)
		if err != nil || !ok {
			t.Fatalf("handle %T: %v", h, err)
		}
		b, err := os.ReadFile(strings.TrimPrefix(uri, "file:"))
		if err != nil {
			t.Fatal(err)
		}
		out[v.Operator.ID.String()+" "+v.LocalName+" "+filepath.Base(uri)] = string(b)
	})
	return out
}

func rewriteEdits(t *testing.T, m *snapshot.Metadata, drop []string, rename map[string]string) snapshot.Edits {
	t.Helper()
	var e snapshot.Edits
	for _, d := range drop {
		op, err := m.LookupOperator(d)
		if err != nil {
			t.Fatal(err)
		}
		e.Drop = append(e.Drop, op.ID)
	}
	for old, nu := range rename {
		op, err := m.LookupOperator(old)
		if err != nil {
			t.Fatal(err)
		}
		e.Reassign = append(e.Reassign, snapshot.Reassignment{From: op.ID, To: snapshot.OperatorIDFromUID(nu), UID: nu})
	}
	return e
}

// TestRewrite: drop "sum", rename "count" to "count-v2", into a new
// directory: the result decodes, has the kept operators with the new ID
// (and, V5+, uid and name), references only files inside DST — with the
// same bytes — and none of the dropped operator's; SRC is unchanged.
func TestRewrite(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	for _, tc := range []struct {
		name    string
		version int
		link    bool
	}{
		{"v6-savepoint-linked", snapshot.Version6, true},
		{"v6-savepoint-copied", snapshot.Version6, false},
		{"v4-savepoint", snapshot.Version4, true},
		{"v2-savepoint-absolute", snapshot.Version2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, "savepoint-aaaaaa-000000000001")
			surgerySavepoint(t, src, tc.version)
			before := tree(t, src)
			rawBefore, _ := os.ReadFile(filepath.Join(src, snapshot.MetadataFileName))
			m, err := snapshot.Read(ctx, fsys, src)
			if err != nil {
				t.Fatal(err)
			}
			want := referenced(t, m)
			changes, err := m.Apply(rewriteEdits(t, m, []string{"sum"}, map[string]string{"count": "count-v2"}))
			if err != nil {
				t.Fatal(err)
			}
			if len(changes) != 2 || changes[0].Action != "renamed" || changes[1].Action != "dropped" || changes[1].Files != 2 {
				t.Fatalf("changes %+v", changes)
			}
			dst := filepath.Join(root, "rewritten")
			res, err := snapshot.Rewrite(ctx, fsys, m, dst, snapshot.RewriteOptions{Link: tc.link})
			if err != nil {
				t.Fatal(err)
			}
			if res.Linked+res.Copied != 3 || (tc.link && res.Linked != 3) || (!tc.link && res.Copied != 3) {
				t.Errorf("result %+v", res)
			}
			if got := tree(t, src); !slices.Equal(got, before) {
				t.Errorf("SRC changed: %v, was %v", got, before)
			}
			if raw, _ := os.ReadFile(filepath.Join(src, snapshot.MetadataFileName)); !bytes.Equal(raw, rawBefore) {
				t.Error("SRC's _metadata changed")
			}
			if got, want := tree(t, dst), []string{"_metadata", "count-0", "count-1", "src-0"}; !slices.Equal(got, want) {
				t.Errorf("DST holds %v, want %v", got, want)
			}
			out, err := snapshot.Read(ctx, fsys, dst)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Operators) != 2 || out.Operators[0].ID != snapshot.OperatorIDFromUID("src") ||
				out.Operators[1].ID != snapshot.OperatorIDFromUID("count-v2") {
				t.Fatalf("operators %v %v", out.Operators[0].ID, out.Operators[1].ID)
			}
			if tc.version >= snapshot.Version5 && (out.Operators[1].UID != "count-v2" || out.Operators[1].Name != "count-v2") {
				t.Errorf("uid %q name %q, want count-v2", out.Operators[1].UID, out.Operators[1].Name)
			}
			// Same bytes behind every kept handle, all of it inside DST.
			got := referenced(t, out)
			oldCount, newCount := snapshot.OperatorIDFromUID("count").String(), snapshot.OperatorIDFromUID("count-v2").String()
			n := 0
			for k, v := range want {
				if strings.HasPrefix(k, snapshot.OperatorIDFromUID("sum").String()) {
					continue
				}
				n++
				if g := got[strings.Replace(k, oldCount, newCount, 1)]; g != v {
					t.Errorf("%s: %q, want %q", k, g, v)
				}
			}
			if n != len(got) {
				t.Errorf("DST references %d files, want %d", len(got), n)
			}
			out.Walk(func(v snapshot.Visit) {
				h, ok := v.Handle.(snapshot.StreamHandle)
				if !ok {
					return
				}
				uri, ok, _ := out.FileURI(h)
				if ok && !storage.Within(dst, uri) {
					t.Errorf("%s points outside DST", uri)
				}
				if _, rel := h.(*snapshot.RelativeFileHandle); tc.version >= snapshot.Version3 && ok && !rel {
					if _, kg := h.(*snapshot.KeyGroupsHandle); !kg {
						t.Errorf("%T: want relative handles from V3 on", h)
					}
				}
			})
			if tc.link {
				a, _ := os.Stat(filepath.Join(src, "count-0"))
				b, _ := os.Stat(filepath.Join(dst, "count-0"))
				if !os.SameFile(a, b) {
					t.Error("count-0 not hard-linked")
				}
			}
		})
	}
}

// TestRewriteCheckpointSelfContained: a retained checkpoint's shared and
// private files (absolute paths) are copied into DST and referenced
// relative to it; DST depends on nothing outside it.
func TestRewriteCheckpointSelfContained(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root := t.TempDir()
	job := filepath.Join(root, "job")
	chk := surgeryCheckpoint(t, job)
	m, err := snapshot.Read(ctx, fsys, chk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(rewriteEdits(t, m, []string{"sum"}, nil)); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(root, "sp")
	res, err := snapshot.Rewrite(ctx, fsys, m, dst, snapshot.RewriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outside != 1 || res.Copied != 3 {
		t.Errorf("result %+v", res)
	}
	if got, want := tree(t, dst), []string{"_metadata", "count-manifest", "count-meta", "shared", "shared/count-sst"}; !slices.Equal(got, want) {
		t.Errorf("DST holds %v, want %v", got, want)
	}
	// Move the job away: DST still reads every byte.
	if err := os.Rename(job, job+".gone"); err != nil {
		t.Fatal(err)
	}
	out, err := snapshot.Read(ctx, fsys, dst)
	if err != nil {
		t.Fatal(err)
	}
	got := referenced(t, out)
	if len(got) != 3 || got[out.Operators[0].ID.String()+" 000009.sst count-sst"] != "bytes of count-sst" {
		t.Errorf("referenced %v", got)
	}
}

// failingFS fails creating a file named fail.
type failingFS struct {
	storage.FS
	fail string
}

func (f failingFS) Create(ctx context.Context, uri string, o storage.CreateOptions) (storage.Writer, error) {
	if strings.HasSuffix(uri, "/"+f.fail) {
		return nil, errors.New("disk full (injected)")
	}
	return f.FS.Create(ctx, uri, o)
}

// TestRewriteRefuses: what is refused writes nothing, and a rewrite that
// fails half-way removes exactly what it wrote — a directory it did not
// create stays, and so does everything beside DST.
func TestRewriteRefuses(t *testing.T) {
	ctx := context.Background()
	const precious = "precious: not ckpt's"
	for _, tc := range []struct {
		name string
		// setup returns DST and the fs to use.
		setup   func(t *testing.T, root, src string) (string, storage.FS)
		wantErr string
		// after lists what must be below root/out besides what setup made.
		after []string
	}{
		{"dst not empty", func(t *testing.T, root, src string) (string, storage.FS) {
			writeFile(t, filepath.Join(root, "out", "dst", "mine"), precious)
			return filepath.Join(root, "out", "dst"), storage.NewLocal()
		}, "not empty", []string{"dst", "dst/mine"}},
		{"dst is a file", func(t *testing.T, root, src string) (string, storage.FS) {
			writeFile(t, filepath.Join(root, "out", "dst"), precious)
			return filepath.Join(root, "out", "dst"), storage.NewLocal()
		}, "not empty", []string{"dst"}},
		{"dst inside src", func(t *testing.T, root, src string) (string, storage.FS) {
			os.MkdirAll(filepath.Join(root, "out"), 0o755)
			return filepath.Join(src, "sub"), storage.NewLocal()
		}, "overlap", nil},
		{"dst parent missing", func(t *testing.T, root, src string) (string, storage.FS) {
			os.MkdirAll(filepath.Join(root, "out"), 0o755)
			return filepath.Join(root, "out", "no", "dst"), storage.NewLocal()
		}, "parent", nil},
		{"referenced file missing", func(t *testing.T, root, src string) (string, storage.FS) {
			os.MkdirAll(filepath.Join(root, "out"), 0o755)
			os.Remove(filepath.Join(src, "count-1"))
			return filepath.Join(root, "out", "dst"), storage.NewLocal()
		}, "nothing was written", nil},
		{"fails half-way into a new dir", func(t *testing.T, root, src string) (string, storage.FS) {
			writeFile(t, filepath.Join(root, "out", "beside"), precious)
			return filepath.Join(root, "out", "dst"), failingFS{storage.NewLocal(), "src-0"}
		}, "removed the 2 files", []string{"beside"}},
		{"fails half-way into an empty dir", func(t *testing.T, root, src string) (string, storage.FS) {
			os.MkdirAll(filepath.Join(root, "out", "dst"), 0o755)
			return filepath.Join(root, "out", "dst"), failingFS{storage.NewLocal(), "src-0"}
		}, "removed the 2 files", []string{"dst"}},
		{"fails writing _metadata", func(t *testing.T, root, src string) (string, storage.FS) {
			os.MkdirAll(filepath.Join(root, "out"), 0o755)
			return filepath.Join(root, "out", "dst"), failingFS{storage.NewLocal(), "_metadata"}
		}, "removed the 3 files", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, "sp")
			surgerySavepoint(t, src, snapshot.Version6)
			dst, fsys := tc.setup(t, root, src)
			srcBefore := tree(t, src)
			m, err := snapshot.Read(ctx, fsys, src)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Apply(rewriteEdits(t, m, []string{"sum"}, nil)); err != nil {
				t.Fatal(err)
			}
			_, err = snapshot.Rewrite(ctx, fsys, m, dst, snapshot.RewriteOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if got := tree(t, filepath.Join(root, "out")); !slices.Equal(got, tc.after) {
				t.Errorf("left %v, want %v", got, tc.after)
			}
			if got := tree(t, src); !slices.Equal(got, srcBefore) {
				t.Errorf("SRC changed: %v", got)
			}
			for _, p := range []string{"out/dst/mine", "out/beside", "out/dst"} {
				if b, err := os.ReadFile(filepath.Join(root, p)); err == nil && string(b) != precious {
					t.Errorf("%s changed", p)
				}
			}
		})
	}
}

// TestApplyRefuses: edits that name an operator twice, one that is not
// there, or leave two operators with one ID.
func TestApplyRefuses(t *testing.T) {
	root := t.TempDir()
	surgerySavepoint(t, root, snapshot.Version6)
	id := snapshot.OperatorIDFromUID
	for _, tc := range []struct {
		name    string
		edits   snapshot.Edits
		wantErr string
	}{
		{"twice", snapshot.Edits{Drop: []snapshot.OperatorID{id("sum")}, Reassign: []snapshot.Reassignment{{From: id("sum"), To: id("x"), UID: "x"}}}, "named twice"},
		{"absent", snapshot.Edits{Drop: []snapshot.OperatorID{id("nope")}}, "not in the snapshot"},
		{"collision", snapshot.Edits{Reassign: []snapshot.Reassignment{{From: id("sum"), To: id("count"), UID: "count"}}}, "would both have"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := snapshot.Read(context.Background(), storage.NewLocal(), root)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Apply(tc.edits); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if len(m.Operators) != 3 {
				t.Error("a refused edit changed the operators")
			}
		})
	}
	// Swapping two uids is fine: the IDs stay distinct.
	m, _ := snapshot.Read(context.Background(), storage.NewLocal(), root)
	if _, err := m.Apply(snapshot.Edits{Reassign: []snapshot.Reassignment{{From: id("sum"), To: id("count"), UID: "count"}, {From: id("count"), To: id("sum"), UID: "sum"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.LookupOperator("nope"); err == nil {
		t.Error("LookupOperator found an absent uid")
	}
	if op, err := m.LookupOperator(id("sum").String()); err != nil || op.Name != "sum" {
		t.Errorf("by ID: %v %v", op, err)
	}
}

// TestRewritePlacesOutsideFiles: files outside SRC with one name from two
// directories both land in DST, the second below a directory named for
// its source directory; a snapshot using file merging (segment handles)
// is refused before anything is written.
func TestRewritePlacesOutsideFiles(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root := t.TempDir()
	src := filepath.Join(root, "job", "chk-1")
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 1}
	if err := m.SetProperties(snapshot.CheckpointProperties()); err != nil {
		t.Fatal(err)
	}
	var handles []snapshot.StreamHandle
	for _, d := range []string{"a/shared", "b/shared"} {
		p := filepath.Join(root, d, "same-name")
		writeFile(t, p, "bytes of "+d)
		handles = append(handles, snapshot.NewFileHandle("file:"+p, int64(len("bytes of "+d))))
	}
	op := snapshot.NewOperatorState("op", "op", 2, 128)
	for i, h := range handles {
		r := snapshot.KeyGroupRangeFor(128, 2, int32(i))
		op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: int32(i), ManagedKeyedState: snapshot.NewKeyGroupsHandle(r, make([]int64, r.Count), h, "h")})
	}
	m.Operators = []*snapshot.OperatorState{op}
	if err := snapshot.Write(ctx, fsys, filepath.Join(src, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
	read, err := snapshot.Read(ctx, fsys, src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(root, "dst")
	res, err := snapshot.Rewrite(ctx, fsys, read, dst, snapshot.RewriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outside != 2 {
		t.Errorf("result %+v", res)
	}
	out, err := snapshot.Read(ctx, fsys, dst)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	out.Walk(func(v snapshot.Visit) {
		if h, ok := v.Handle.(*snapshot.RelativeFileHandle); ok {
			uri, _, _ := out.FileURI(h)
			b, _ := os.ReadFile(uri)
			got[string(b)] = true
		}
	})
	entries := tree(t, dst) // _metadata, shared/same-name and <hash>/shared/same-name
	if !got["bytes of a/shared"] || !got["bytes of b/shared"] || len(entries) != 6 || !slices.Contains(entries, "shared/same-name") {
		t.Errorf("DST %v, contents %v", entries, got)
	}

	// File merging: refused, nothing written.
	seg := &snapshot.SegmentFileHandle{StartPos: 0, Size: 4, Scope: snapshot.ScopeShared, PhysicalPath: "file:" + filepath.Join(root, "merged"), LogicalFileID: "x"}
	read.Operators[0].Subtasks[0].ManagedOperatorState = &snapshot.OperatorStreamHandle{Delegate: seg, FileMerging: &snapshot.FileMergingDirs{}}
	read.ExclusiveDir = src
	if _, err := snapshot.Rewrite(ctx, fsys, read, filepath.Join(root, "dst2"), snapshot.RewriteOptions{}); err == nil || !strings.Contains(err.Error(), "file merging") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "dst2")); err == nil {
		t.Error("a refused rewrite created DST")
	}
}

// TestApplyCountsFilesLeftOut: a file a dropped operator shares with a
// kept one is copied, so it is not counted as left out.
func TestApplyCountsFilesLeftOut(t *testing.T) {
	m := &snapshot.Metadata{Version: snapshot.VersionWrite}
	shared := snapshot.NewFileHandle("file:/x/shared-file", 4)
	for _, uid := range []string{"a", "b"} {
		op := snapshot.NewOperatorState(uid, uid, 1, 128)
		op.Subtasks = []*snapshot.SubtaskState{{
			ManagedOperatorState: snapshot.NewOperatorStreamHandle(shared),
			RawOperatorState:     snapshot.NewOperatorStreamHandle(snapshot.NewFileHandle("file:/x/own-"+uid, 4)),
		}}
		m.Operators = append(m.Operators, op)
	}
	changes, err := m.Apply(snapshot.Edits{Drop: []snapshot.OperatorID{snapshot.OperatorIDFromUID("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Files != 1 || changes[0].StateSize != 8 {
		t.Errorf("changes %+v: want 1 file left out (own-b), 8 bytes of state", changes)
	}
}
