package inspector

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func fixtureDir(t testing.TB, name string) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "shared", "fixtures", "flink-metadata", "apache-flink", name)
	if _, err := os.Stat(filepath.Join(d, "_metadata")); err != nil {
		t.Fatalf("fixture %s: %v", name, err)
	}
	return d
}

// The uids of the migration ITCase jobs (SOURCES.md).
var migrationUIDs = []string{"CheckpointingSource1", "CheckpointingSource2", "CheckpointingKeyedStateFlatMap1",
	"CheckpointingKeyedStateFlatMap2", "CheckpointingTimelyStatefulOperator1", "CheckpointingTimelyStatefulOperator2"}

func TestInspectFixtures(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	uids, err := NewUIDMapping(migrationUIDs)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fixture, kind, format, kindSource string
		version, ops, mapped              int
	}{
		{"new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint", "checkpoint", "", "trailer", 4, 8, 6},
		{"new-stateful-udf-migration-itcase-flink1.16-rocksdb-savepoint-native", "savepoint", "NATIVE", "trailer", 4, 8, 6},
		{"new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", "savepoint", "CANONICAL", "trailer", 4, 8, 6},
		{"new-stateful-udf-migration-itcase-flink1.15-hashmap-checkpoint", "unknown", "", "", 3, 8, 6},
		{"new-stateful-udf-migration-itcase-flink1.11-rocksdb-savepoint", "unknown", "", "", 3, 8, 6},
		{"new-stateful-broadcast-udf-migration-itcase-flink1.13-rocksdb-savepoint", "savepoint", "CANONICAL", "handles", 3, 8, 2},
		// Copied into a directory with Flink's real savepoint name (below).
		{"unified-sink-migration-test_savepoint-7bd90b-3a2cda6957cb", "savepoint", "", "directory", 3, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			dir := fixtureDir(t, tt.fixture)
			if tt.kindSource == "directory" {
				b, _ := os.ReadFile(filepath.Join(dir, "_metadata"))
				dir = filepath.Join(t.TempDir(), "savepoint-7bd90b-3a2cda6957cb")
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "_metadata"), b, 0o644)
			}
			r, err := Inspect(ctx, fsys, dir, Options{UIDs: uids, ListFiles: true})
			if err != nil {
				t.Fatal(err)
			}
			if r.Kind != tt.kind || r.SavepointFormat != tt.format || r.KindSource != tt.kindSource || r.FormatVersion != tt.version {
				t.Errorf("kind %q/%q via %q, v%d; want %q/%q via %q, v%d", r.Kind, r.SavepointFormat, r.KindSource, r.FormatVersion,
					tt.kind, tt.format, tt.kindSource, tt.version)
			}
			if len(r.Operators) != tt.ops {
				t.Errorf("%d operators, want %d", len(r.Operators), tt.ops)
			}
			mapped := 0
			for _, o := range r.Operators {
				if o.UIDSource == "mapping" {
					mapped++
					if snapshot.OperatorIDFromUID(o.UID).String() != o.ID {
						t.Errorf("operator %s mapped to uid %q which hashes elsewhere", o.ID, o.UID)
					}
				}
			}
			if mapped != tt.mapped {
				t.Errorf("%d operators mapped to uids, want %d", mapped, tt.mapped)
			}
			if r.MetadataBytes == 0 || r.Totals.StateSize == 0 || r.Totals.Operators != tt.ops {
				t.Errorf("totals %+v, metadata %d bytes", r.Totals, r.MetadataBytes)
			}
		})
	}
}

// Relative handles resolve into the snapshot directory; a check finds
// which of them exist.
func TestInspectChecksFiles(t *testing.T) {
	ctx := context.Background()
	src := fixtureDir(t, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint")
	job := filepath.Join(t.TempDir(), "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	chk := filepath.Join(job, "chk-2")
	os.MkdirAll(chk, 0o755)
	b, _ := os.ReadFile(filepath.Join(src, "_metadata"))
	os.WriteFile(filepath.Join(chk, "_metadata"), b, 0o644)
	m, _ := snapshot.Unmarshal(b)
	m.ExclusiveDir = chk
	files := CollectFiles(m)
	if len(files) == 0 {
		t.Fatal("no files")
	}
	// Create all but the first.
	for _, f := range files[1:] {
		if f.Scope != ScopeExclusive {
			t.Fatalf("%s: scope %s, want exclusive (relative handles of a checkpoint)", f.URI, f.Scope)
		}
		os.WriteFile(f.URI, make([]byte, 3), 0o644)
	}
	r, err := Inspect(ctx, storage.NewLocal(), chk, Options{CheckFiles: true, ListFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals.Missing != 1 || r.Totals.Files != len(files) {
		t.Fatalf("missing %d of %d, want 1 of %d", r.Totals.Missing, r.Totals.Files, len(files))
	}
	if len(r.Warnings) == 0 || !strings.Contains(r.Warnings[0], "missing") {
		t.Errorf("warnings %v", r.Warnings)
	}
	if want := fmt.Sprintf("cannot be restored: 1 of %d referenced files are missing", len(files)); r.Restorable != RestorableNo ||
		r.Verdict != want || !r.CannotRestore() {
		t.Errorf("restorable %q verdict %q, want no / %q", r.Restorable, r.Verdict, want)
	}
	// With every file there the verdict is yes; without a check, unchecked.
	os.WriteFile(files[0].URI, make([]byte, 3), 0o644)
	if r, err := Inspect(ctx, storage.NewLocal(), chk, Options{CheckFiles: true}); err != nil || r.Restorable != RestorableYes || r.Verdict != "" || r.CannotRestore() {
		t.Errorf("all files present: %q %q %v", r.Restorable, r.Verdict, err)
	}
	if r, err := Inspect(ctx, storage.NewLocal(), chk, Options{}); err != nil || r.Restorable != RestorableUnchecked || r.CannotRestore() {
		t.Errorf("not checked: %q %v", r.Restorable, err)
	}
	os.Remove(files[0].URI)
	var missing []string
	for _, f := range r.Files {
		if f.Exists != nil && !*f.Exists {
			missing = append(missing, f.URI)
		} else if f.StorageSize == nil || *f.StorageSize != 3 {
			t.Errorf("%s: storage size not recorded", f.URI)
		}
	}
	if len(missing) != 1 || missing[0] != files[0].URI {
		t.Errorf("missing %v, want %s", missing, files[0].URI)
	}
}

// uid mapping: lists, files, literal hashes, collisions.
func TestUIDMapping(t *testing.T) {
	in := "# the job's uids\nCheckpointingSource1\n\n  my-map  \nsink-label=hash:08d61ee4306bec6e8142e563f528e3bd\n"
	uids, err := ReadUIDs(strings.NewReader(in), "uids.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := NewUIDMapping(append(uids, ParseUIDList(" first, second ,,")...))
	if err != nil {
		t.Fatal(err)
	}
	for uid, id := range map[string]string{
		"CheckpointingSource1": "69f32d314b97c6f7f9ed7873983167f2",
		"my-map":               "46fe65c20d95ac360c296fef8820108c",
		"sink-label":           "08d61ee4306bec6e8142e563f528e3bd",
		"first":                "adf090656b210b1609ad3203d4ee7329",
		"second":               "6730ef7375fb60f9d9bbdfdfd174d803",
	} {
		oid, _ := snapshot.ParseOperatorID(id)
		if got, ok := m.Lookup(oid); !ok || got != uid {
			t.Errorf("Lookup(%s) = %q %v, want %q", id, got, ok, uid)
		}
	}
	if _, err := ReadUIDs(strings.NewReader("ok\nhash:zz\n"), "bad.txt"); err == nil || !strings.Contains(err.Error(), "bad.txt:2") {
		t.Errorf("bad line: %v", err)
	}
	if _, err := NewUIDMapping([]string{"a=hash:" + snapshot.OperatorIDFromUID("x").String(), "x"}); err == nil {
		t.Error("collision accepted")
	}
}

// Snapshot metadata for plan tests: source (operator state), keyed count,
// stateless map, sink — like a small real job.
func planSnapshot() *snapshot.Metadata {
	m := &snapshot.Metadata{Version: snapshot.Version6, CheckpointID: 9}
	m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone))
	data := func(n int) snapshot.StreamHandle { return &snapshot.ByteStreamHandle{Name: "x", Data: make([]byte, n)} }
	src := snapshot.NewOperatorState("src", "source", 2, 128)
	for i := int32(0); i < 2; i++ {
		src.Subtasks = append(src.Subtasks, &snapshot.SubtaskState{Index: i,
			ManagedOperatorState: snapshot.NewOperatorStreamHandle(data(10), snapshot.NamedOperatorState{Name: "offsets", Offsets: []int64{0}})})
	}
	cnt := snapshot.NewOperatorState("count", "count", 2, 128)
	for i := int32(0); i < 2; i++ {
		r := snapshot.KeyGroupRangeFor(128, 2, i)
		cnt.Subtasks = append(cnt.Subtasks, &snapshot.SubtaskState{Index: i,
			ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r, make([]int64, r.Count), data(100))})
	}
	mp := snapshot.NewOperatorState("map", "map", 2, 128)
	mp.Subtasks = []*snapshot.SubtaskState{{Index: 0}, {Index: 1}}
	noUID := &snapshot.OperatorState{ID: snapshot.GeneratedOperatorID(3, 0), Parallelism: 1, MaxParallelism: 128,
		Subtasks: []*snapshot.SubtaskState{{Index: 0, ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(snapshot.KeyGroupRange{Start: 0, Count: 128}, make([]int64, 128), data(7))}}}
	m.Operators = []*snapshot.OperatorState{src, cnt, mp, noUID}
	return m
}

func TestPlanResume(t *testing.T) {
	m := planSnapshot()
	m.Operators = m.Operators[:3] // without the uid-less operator
	op := func(uid string, p, maxp int, configured bool) TargetOperator {
		return TargetOperator{UID: uid, Parallelism: p, MaxParallelism: maxp, MaxParallelismConfigured: configured}
	}
	tests := []struct {
		name                   string
		target                 []TargetOperator
		exit                   int
		without, with          Outcome
		restored, dropped, new []string
		dropBytes              int64
	}{
		{"same job", []TargetOperator{op("src", 2, 0, false), op("count", 2, 0, false), op("map", 2, 0, false)},
			0, OutcomeRestores, OutcomeRestores, []string{"src", "count", "map"}, nil, nil, 0},
		{"rescaled within max parallelism", []TargetOperator{op("src", 4, 0, false), op("count", 8, 0, false), op("map", 8, 0, false)},
			0, OutcomeRestores, OutcomeRestores, []string{"src", "count", "map"}, nil, nil, 0},
		{"keyed operator removed", []TargetOperator{op("src", 2, 0, false), op("map", 2, 0, false), op("sum", 2, 0, false)},
			3, OutcomeFails, OutcomeRestores, []string{"src", "map"}, []string{"count"}, []string{"sum"}, 200},
		{"stateless operator removed", []TargetOperator{op("src", 2, 0, false), op("count", 2, 0, false)},
			0, OutcomeRestores, OutcomeRestores, []string{"src", "count"}, nil, nil, 0},
		{"max parallelism configured differently", []TargetOperator{op("src", 2, 0, false), op("count", 2, 256, true), op("map", 2, 0, false)},
			4, OutcomeFails, OutcomeFails, []string{"src", "count", "map"}, nil, nil, 0},
		{"max parallelism derived differently is adopted", []TargetOperator{op("src", 2, 0, false), op("count", 2, 256, false), op("map", 2, 0, false)},
			0, OutcomeRestores, OutcomeRestores, []string{"src", "count", "map"}, nil, nil, 0},
		{"stateless operator's max parallelism counts too", []TargetOperator{op("src", 2, 0, false), op("count", 2, 0, false), op("map", 2, 64, true)},
			4, OutcomeFails, OutcomeFails, []string{"src", "count", "map"}, nil, nil, 0},
		{"parallelism above the snapshot's max", []TargetOperator{op("src", 2, 0, false), op("count", 200, 0, false), op("map", 2, 0, false)},
			4, OutcomeFails, OutcomeFails, []string{"src", "count", "map"}, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := PlanResume(m, Target{Source: "test", Operators: tt.target}, nil)
			if p.ExitCode != tt.exit || p.WithoutAllowNonRestored != tt.without || p.WithAllowNonRestored != tt.with {
				t.Errorf("exit %d, without -n %s, with -n %s; want %d %s %s (failures %+v)", p.ExitCode,
					p.WithoutAllowNonRestored, p.WithAllowNonRestored, tt.exit, tt.without, tt.with, p.Failures)
			}
			check := func(what string, got []PlanOperator, want []string) {
				var g []string
				for _, o := range got {
					g = append(g, o.UID)
				}
				if strings.Join(g, ",") != strings.Join(want, ",") {
					t.Errorf("%s = %v, want %v", what, g, want)
				}
			}
			check("restored", p.Restored, tt.restored)
			check("dropped", p.Dropped, tt.dropped)
			check("new", p.New, tt.new)
			if p.DroppedBytes != tt.dropBytes {
				t.Errorf("dropped bytes %d, want %d", p.DroppedBytes, tt.dropBytes)
			}
		})
	}
}

// An operator without uid cannot be matched from a uid list: the plan says
// it is dropped but marks the prediction uncertain; a complete target (a
// job graph with IDs) decides.
func TestPlanResumeUIDlessOperator(t *testing.T) {
	m := planSnapshot()
	uidless := m.Operators[3].ID
	p := PlanResume(m, Target{Operators: []TargetOperator{{UID: "src"}, {UID: "count"}, {UID: "map"}}}, nil)
	if !p.Uncertain || len(p.Dropped) != 1 || p.Dropped[0].Note == "" {
		t.Errorf("uid list: uncertain=%v dropped=%+v", p.Uncertain, p.Dropped)
	}
	p = PlanResume(m, Target{Complete: true, Operators: []TargetOperator{{UID: "src"}, {UID: "count"}, {UID: "map"}, {ID: uidless, Name: "unnamed"}}}, nil)
	if p.Uncertain || len(p.Dropped) != 0 || p.ExitCode != 0 {
		t.Errorf("complete target: %+v", p)
	}
}

func TestCompare(t *testing.T) {
	a := planSnapshot()
	b := planSnapshot()
	b.CheckpointID = 10
	b.Operators[1].Parallelism = 4 // count rescaled (subtask list kept for the test)
	b.Operators = append(b.Operators[:2], b.Operators[3:]...)
	b.Operators = append(b.Operators, snapshot.NewOperatorState("sum", "sum", 2, 128))
	d := Compare(a, b, nil)
	names := func(ops []DiffOperator) string {
		var s []string
		for _, o := range ops {
			s = append(s, firstNonEmpty(o.UID, o.ID))
		}
		return strings.Join(s, ",")
	}
	if names(d.Added) != "sum" || names(d.Removed) != "map" || names(d.Changed) != "count" || d.Unchanged != 2 {
		t.Errorf("added %s removed %s changed %s unchanged %d", names(d.Added), names(d.Removed), names(d.Changed), d.Unchanged)
	}
	if len(d.Changed) == 1 && (len(d.Changed[0].Changes) != 1 || d.Changed[0].Changes[0] != "parallelism 2 → 4") {
		t.Errorf("changes %v", d.Changed[0].Changes)
	}
	if d.From.CheckpointID != 9 || d.To.CheckpointID != 10 {
		t.Errorf("%+v %+v", d.From, d.To)
	}
}

// A job dir with two retained checkpoints sharing SSTs, a failed
// checkpoint's leftovers and a checkpoint in progress.
func TestFindOrphans(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	job := filepath.Join(t.TempDir(), "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	shared := filepath.Join(job, "shared")
	os.MkdirAll(shared, 0o755)
	write := func(name string, size int, mod time.Time) string {
		p := filepath.Join(shared, name)
		os.WriteFile(p, make([]byte, size), 0o644)
		os.Chtimes(p, mod, mod)
		return p
	}
	old := time.Now().Add(-time.Hour)
	sst1 := write("sst-1", 100, old)
	sst2 := write("sst-2", 200, old)
	sst3 := write("sst-3", 300, old)
	write("leaked-by-chk-4", 50, old) // a failed checkpoint's upload
	writeChk := func(id int64, ssts ...string) {
		m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: id}
		m.SetProperties(snapshot.CheckpointProperties())
		op := snapshot.NewOperatorState("count", "count", 1, 128)
		var shared []snapshot.NamedHandle
		for i, s := range ssts {
			// Flink writes shared files as absolute file:/ URIs.
			shared = append(shared, snapshot.NamedHandle{LocalName: "00000" + string(rune('1'+i)) + ".sst", Handle: snapshot.NewFileHandle("file:"+s, 1)})
		}
		op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(id, "b", snapshot.KeyGroupRange{Start: 0, Count: 128}, 1,
			snapshot.NewRelativeFileHandle("meta", 1), shared, nil, "h")}}
		m.Operators = []*snapshot.OperatorState{op}
		dir := filepath.Join(job, snapshot.CheckpointDirName(id))
		os.MkdirAll(dir, 0o755)
		if err := snapshot.Write(ctx, fsys, filepath.Join(dir, "_metadata"), m); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(filepath.Join(dir, "_metadata"), old, old)
	}
	writeChk(5, sst1, sst2)
	writeChk(6, sst2, sst3, filepath.Join(shared, "deleted-too-early"))
	os.MkdirAll(filepath.Join(job, "chk-4"), 0o755) // failed
	os.MkdirAll(filepath.Join(job, "chk-7"), 0o755) // in progress
	write("uploading-for-chk-7", 70, time.Now())

	r, err := FindOrphans(ctx, fsys, job, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(r.Checkpoints) != "[5 6]" || fmt.Sprint(r.Incomplete) != "[4 7]" {
		t.Errorf("checkpoints %v incomplete %v", r.Checkpoints, r.Incomplete)
	}
	if r.SharedFiles != 5 || r.ReferencedFiles != 3 || r.OrphanFiles != 2 || r.OrphanBytes != 120 {
		t.Errorf("shared %d referenced %d orphans %d (%d bytes)", r.SharedFiles, r.ReferencedFiles, r.OrphanFiles, r.OrphanBytes)
	}
	got := map[string]bool{}
	for _, o := range r.Orphans {
		got[filepath.Base(o.URI)] = o.MaybeInProgress
	}
	if inProgress, ok := got["uploading-for-chk-7"]; !ok || !inProgress {
		t.Errorf("orphans %v: the new upload must be flagged as maybe in progress", got)
	}
	if inProgress, ok := got["leaked-by-chk-4"]; !ok || inProgress {
		t.Errorf("orphans %v: the old leak is a plain orphan", got)
	}
	if len(r.MissingReferenced) != 1 || filepath.Base(r.MissingReferenced[0]) != "deleted-too-early" {
		t.Errorf("missing referenced %v", r.MissingReferenced)
	}
	// A reference from another job's checkpoint protects a file.
	extra := map[string]bool{refKey(filepath.Join(shared, "leaked-by-chk-4")): true}
	r2, _ := FindOrphans(ctx, fsys, job, extra)
	if r2.OrphanFiles != 1 {
		t.Errorf("with extra references: %d orphans", r2.OrphanFiles)
	}
}
