package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/storage"
)

func TestKindOfName(t *testing.T) {
	tests := []struct {
		name  string
		isDir bool
		want  PathKind
	}{
		{"a1b2c3d4e5f60718293a4b5c6d7e8f90", true, PathJobDir},
		{"A1B2C3D4E5F60718293A4B5C6D7E8F90", true, PathJobDir},
		{"a1b2c3d4e5f60718293a4b5c6d7e8f9", true, PathOther},
		{"chk-0", true, PathCheckpointDir},
		{"chk-123456789", true, PathCheckpointDir},
		{"chk-", true, PathOther},
		{"chk--1", true, PathOther},
		{"chk-1a", true, PathOther},
		{"chk-1", false, PathOther},
		{"shared", true, PathSharedDir},
		{"taskowned", true, PathTaskOwnedDir},
		{"savepoint-7bd90b-3a2cda6957cb", true, PathSavepointDir},
		{"savepoint-7bd90b-3a2cda6957c", true, PathOther},
		{"savepoint-7bd90x-3a2cda6957cb", true, PathOther},
		{"_metadata", false, PathMetadataFile},
		{"_metadata", true, PathOther},
	}
	for _, tt := range tests {
		if got := KindOfName(tt.name, tt.isDir); got != tt.want {
			t.Errorf("KindOfName(%q, dir=%v) = %v, want %v", tt.name, tt.isDir, got, tt.want)
		}
	}
	if n, ok := ParseCheckpointDirName(CheckpointDirName(42)); !ok || n != 42 {
		t.Errorf("chk-42 round trip: %d %v", n, ok)
	}
}

func TestNewSavepointDirName(t *testing.T) {
	name, err := NewSavepointDirName("A1B2C3d4e5f60718293a4b5c6d7e8f90")
	if err != nil {
		t.Fatal(err)
	}
	if !IsSavepointDirName(name) || !strings.HasPrefix(name, "savepoint-a1b2c3-") {
		t.Errorf("name %q", name)
	}
	other, _ := NewSavepointDirName("a1b2c3d4e5f60718293a4b5c6d7e8f90")
	if other == name {
		t.Error("two names are equal; the suffix must be random")
	}
	if p, ok := SavepointJobPrefix(name); !ok || p != "a1b2c3" {
		t.Errorf("prefix %q %v", p, ok)
	}
	if _, err := NewSavepointDirName("xyz"); err == nil {
		t.Error("bad job id accepted")
	}
}

// A job dir with complete, incomplete and temporary entries.
func makeJobDir(t *testing.T) (root, jobDir string, meta []byte) {
	t.Helper()
	root = t.TempDir()
	jobDir = filepath.Join(root, "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	meta = readFixture(t, fixtureByName(t, "new-stateful-udf-migration-itcase-flink1.20-rocksdb-checkpoint"))
	for _, d := range []string{"chk-3", "chk-9", "chk-10", "chk-12", "shared", "taskowned"} {
		if err := os.MkdirAll(filepath.Join(jobDir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"chk-3", "chk-10"} { // chk-9 failed; chk-12 in progress
		if err := os.WriteFile(filepath.Join(jobDir, d, MetadataFileName), meta, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// An unfinished atomic write in chk-12 must not make it complete.
	os.WriteFile(filepath.Join(jobDir, "chk-12", storage.TempName(MetadataFileName)), meta[:10], 0o644)
	os.MkdirAll(filepath.Join(root, "not-a-job"), 0o755)
	return root, jobDir, meta
}

func TestListCheckpointsAndLatest(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root, jobDir, _ := makeJobDir(t)
	all, err := ListCheckpoints(ctx, fsys, jobDir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range all {
		s := CheckpointDirName(c.ID)
		if c.Complete {
			s += "+"
		}
		got = append(got, s)
	}
	if strings.Join(got, " ") != "chk-3+ chk-9 chk-10+ chk-12" {
		t.Errorf("checkpoints %v", got)
	}
	latest, err := LatestCompleteCheckpoint(ctx, fsys, jobDir)
	if err != nil || latest.ID != 10 {
		t.Errorf("latest = %+v, %v; want chk-10 (chk-12 has no _metadata)", latest, err)
	}
	jobs, err := ListJobDirs(ctx, fsys, root)
	if err != nil || len(jobs) != 1 || jobs[0].JobID != "a1b2c3d4e5f60718293a4b5c6d7e8f90" {
		t.Errorf("jobs %+v %v", jobs, err)
	}
	empty := filepath.Join(root, "empty-job")
	os.MkdirAll(filepath.Join(empty, "chk-1"), 0o755)
	if _, err := LatestCompleteCheckpoint(ctx, fsys, empty); !errors.Is(err, ErrNoCompleteCheckpoint) {
		t.Errorf("empty job dir: %v", err)
	}
	if d, ok := JobDirOf(filepath.Join(jobDir, "chk-3", "_metadata")); !ok || d != jobDir {
		t.Errorf("JobDirOf = %q %v", d, ok)
	}
}

func TestListSavepoints(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	meta := readFixture(t, fixtureByName(t, "new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint"))
	for _, n := range []string{"savepoint-a1b2c3-000000000001", "savepoint-a1b2c3-000000000002", "savepoint-ffffff-00000000000a", "other"} {
		os.MkdirAll(filepath.Join(dir, n), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "savepoint-a1b2c3-000000000001", MetadataFileName), meta, 0o644)
	sps, err := ListSavepoints(ctx, storage.NewLocal(), dir)
	if err != nil || len(sps) != 3 {
		t.Fatalf("%+v %v", sps, err)
	}
	complete := 0
	for _, s := range sps {
		if s.Complete {
			complete++
			if s.Name != "savepoint-a1b2c3-000000000001" || s.JobPrefix != "a1b2c3" || s.MetadataSize != int64(len(meta)) {
				t.Errorf("complete savepoint %+v", s)
			}
		}
	}
	if complete != 1 {
		t.Errorf("%d complete savepoints", complete)
	}
}

func TestReadAcceptsFileChkDirAndSavepointDir(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	_, jobDir, meta := makeJobDir(t)
	want, _ := Unmarshal(meta)
	chk := filepath.Join(jobDir, "chk-10")
	for _, uri := range []string{chk, filepath.Join(chk, MetadataFileName), "file://" + chk} {
		m, err := Read(ctx, fsys, uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if len(m.Operators) != len(want.Operators) || storage.Base(m.ExclusiveDir) != "chk-10" ||
			storage.Base(m.Location) != MetadataFileName {
			t.Errorf("%s: %d ops, dir %s, location %s", uri, len(m.Operators), m.ExclusiveDir, m.Location)
		}
		// Relative handles resolve into chk-10/.
		n := 0
		m.Walk(func(v Visit) {
			if rh, ok := v.Handle.(*RelativeFileHandle); ok {
				u, ok, err := m.FileURI(rh)
				if err != nil || !ok || !storage.Within(m.ExclusiveDir, u) || storage.Base(u) != rh.RelativePath {
					t.Errorf("resolve %s: %s %v %v", rh.RelativePath, u, ok, err)
				}
				n++
			}
		})
		if n == 0 {
			t.Error("no relative handles in a 1.20 RocksDB checkpoint")
		}
	}
	_, err := Read(ctx, fsys, filepath.Join(jobDir, "chk-9"))
	if !errors.Is(err, ErrNotSnapshot) || !strings.Contains(err.Error(), "chk-9") {
		t.Errorf("chk-9 without _metadata: %v", err)
	}
	if _, err := Read(ctx, fsys, filepath.Join(jobDir, "chk-404")); !storage.IsNotExist(err) {
		t.Errorf("missing path: %v", err)
	}
	// Corrupt file: the error names the _metadata path.
	bad := filepath.Join(jobDir, "chk-3", MetadataFileName)
	os.WriteFile(bad, meta[:100], 0o644)
	if _, err := Read(ctx, fsys, filepath.Join(jobDir, "chk-3")); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("truncated file: %v", err)
	}
}

func TestResolveRelative(t *testing.T) {
	tests := []struct {
		dir, rel, want, err string
	}{
		{"/ck/job/chk-3", "a1b2-uuid", "/ck/job/chk-3/a1b2-uuid", ""},
		{"hdfs://nn:9000/sp/savepoint-a1b2c3-000000000001", "x", "hdfs://nn:9000/sp/savepoint-a1b2c3-000000000001/x", ""},
		{"/ck/job/chk-3", "sub/../x", "/ck/job/chk-3/x", ""},
		{"/ck/job/chk-3", "../shared/x", "", "escapes"},
		{"/ck/job/chk-3", "..", "", "escapes"},
		{"/ck/job/chk-3", "a/../../x", "", "escapes"},
		{"/ck/job/chk-3", "/etc/passwd", "", "absolute"},
		{"/ck/job/chk-3", "file:/etc/passwd", "", "absolute"},
		{"/ck/job/chk-3", "", "", "empty"},
		{"", "x", "", "no snapshot directory"},
	}
	for _, tt := range tests {
		got, err := ResolveRelative(tt.dir, tt.rel)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ResolveRelative(%q, %q) = %q, %v; want error %q", tt.dir, tt.rel, got, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ResolveRelative(%q, %q) = %q, %v; want %q", tt.dir, tt.rel, got, err, tt.want)
		}
	}
}

func TestWriteIsAtomicAndReadable(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	dir := filepath.Join(t.TempDir(), "chk-5")
	os.MkdirAll(dir, 0o755)
	m := kitchenSink(VersionWrite)
	if err := Write(ctx, fsys, filepath.Join(dir, MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
	back, err := Read(ctx, fsys, dir)
	if err != nil || back.CheckpointID != 42 || len(back.Operators) != len(m.Operators) {
		t.Fatalf("%v", err)
	}
	if KindFromName(dir) != KindCheckpoint || KindFromName("/x/savepoint-a1b2c3-000000000001") != KindSavepoint {
		t.Error("KindFromName")
	}
}

// RecentCheckpoints is what the TUI's snapshots pane lists: the newest n
// chk-N, newest first (numerically: chk-10 after chk-9), each with
// whether `_metadata` is there.
func TestRecentCheckpoints(t *testing.T) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	root, jobDir, _ := makeJobDir(t)
	tests := []struct {
		n    int
		want string
	}{
		{0, ""},
		{1, "chk-12"},
		{2, "chk-12 chk-10+"},
		{4, "chk-12 chk-10+ chk-9 chk-3+"},
		{50, "chk-12 chk-10+ chk-9 chk-3+"},
	}
	for _, tt := range tests {
		cks, err := RecentCheckpoints(ctx, fsys, jobDir, tt.n)
		if err != nil {
			t.Fatalf("n=%d: %v", tt.n, err)
		}
		var got []string
		for _, c := range cks {
			s := CheckpointDirName(c.ID)
			if c.Complete {
				s += "+"
			}
			got = append(got, s)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("n=%d: %v, want %s", tt.n, got, tt.want)
		}
	}
	// A job directory not created yet (no checkpoint so far) is "does not
	// exist", which the pane shows as no checkpoints.
	if _, err := RecentCheckpoints(ctx, fsys, filepath.Join(root, "ffffffffffffffffffffffffffffffff"), 5); !storage.IsNotExist(err) {
		t.Errorf("missing job dir: %v, want a does-not-exist error", err)
	}
}
