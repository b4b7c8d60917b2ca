package savepoints

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/sptest"
	"github.com/ckpt-dev/ckpt/storage"
)

var now = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func writeSavepoint(t testing.TB, fsys storage.FS, dir string, format snapshot.SavepointFormat, id int64, age time.Duration, external string) string {
	return sptest.Write(t, fsys, dir, format, id, now.Add(-age), external)
}

func tree(t *testing.T) string {
	root := t.TempDir()
	sptest.Tree(t, storage.NewLocal(), root, now)
	return root
}

func names(sps []Savepoint) string {
	var out []string
	for _, s := range sps {
		out = append(out, s.Name)
	}
	return strings.Join(out, " ")
}

func TestFindDescribesAndSortsNewestFirst(t *testing.T) {
	root := tree(t)
	sps, err := Find(context.Background(), storage.NewLocal(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The incomplete one has only its directory's mtime.
	want := "savepoint-aaaaaa-000000000003 savepoint-cccccc-000000000009 savepoint-aaaaaa-000000000002 savepoint-aaaaaa-000000000001 savepoint-bbbbbb-000000000001 savepoint-dddddd-000000000001"
	if got := names(sps); got != want {
		t.Fatalf("found\n %s\nwant\n %s", got, want)
	}
	by := map[string]Savepoint{}
	for _, s := range sps {
		by[s.Name] = s
	}
	tests := []struct {
		name, prefix, format, kind string
		id                         int64
		complete, self             bool
		err                        string
	}{
		{"savepoint-aaaaaa-000000000002", "aaaaaa", "NATIVE", "savepoint", 20, true, true, ""},
		{"savepoint-aaaaaa-000000000003", "aaaaaa", "CANONICAL", "savepoint", 30, true, true, ""},
		{"savepoint-bbbbbb-000000000001", "bbbbbb", "CANONICAL", "savepoint", 5, true, true, ""},
		{"savepoint-cccccc-000000000009", "cccccc", "", "savepoint", 0, false, false, "no _metadata"},
		{"savepoint-dddddd-000000000001", "dddddd", "", "checkpoint", 3, true, true, ""},
	}
	for _, tt := range tests {
		s := by[tt.name]
		if s.JobPrefix != tt.prefix || s.Format != tt.format || s.Kind != tt.kind || s.CheckpointID != tt.id ||
			s.Complete != tt.complete || s.SelfContained != tt.self || !strings.Contains(s.Error, tt.err) || (tt.err == "" && s.Error != "") {
			t.Errorf("%s: %+v", tt.name, s)
		}
	}
	if s := by["savepoint-aaaaaa-000000000002"]; s.Bytes <= 400 || s.Files != 2 || s.StateBytes != 400 || !s.ModTime.Equal(now.Add(-10*24*time.Hour)) {
		t.Errorf("sizes/age: %+v", s)
	}
}

func TestFindRootIsASavepoint(t *testing.T) {
	root := tree(t)
	sps, err := Find(context.Background(), storage.NewLocal(), filepath.Join(root, "team", "savepoint-bbbbbb-000000000001"), Options{})
	if err != nil || names(sps) != "savepoint-bbbbbb-000000000001" {
		t.Fatalf("%v %v", names(sps), err)
	}
}

func TestFindBadRoot(t *testing.T) {
	root := tree(t)
	for _, p := range []string{filepath.Join(root, "nope"), filepath.Join(root, "savepoint-aaaaaa-000000000001", "_metadata")} {
		if _, err := Find(context.Background(), storage.NewLocal(), p, Options{}); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err %v, want one naming the path", p, err)
		}
	}
}

func TestMatchJobs(t *testing.T) {
	sps := []Savepoint{{JobPrefix: "aaaaaa"}, {JobPrefix: "bbbbbb"}, {JobPrefix: "cccccc"}}
	MatchJobs(sps, []Job{{ID: "aaaaaa00000000000000000000000001", Name: "orders"},
		{ID: "bbbbbb00000000000000000000000001", Name: "a"}, {ID: "BBBBBB00000000000000000000000002", Name: "b"}})
	if got := sps[0].Owner() + "," + sps[1].Owner() + "," + sps[2].Owner(); got != "orders,a|b (ambiguous),cccccc" {
		t.Errorf("owners %s", got)
	}
}

func TestPreview(t *testing.T) {
	root := tree(t)
	sps, err := Find(context.Background(), storage.NewLocal(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	tests := []struct {
		policy Policy
		remove string
	}{
		{Policy{}, ""},
		{Policy{KeepNewest: 1}, "savepoint-aaaaaa-000000000002 savepoint-aaaaaa-000000000001"},
		{Policy{KeepNewest: 2}, "savepoint-aaaaaa-000000000001"},
		{Policy{OlderThan: 7 * day}, "savepoint-aaaaaa-000000000002 savepoint-aaaaaa-000000000001 savepoint-bbbbbb-000000000001"},
		// Both: only outside the newest 1 AND older than 20 days.
		{Policy{KeepNewest: 1, OlderThan: 20 * day}, "savepoint-aaaaaa-000000000001"},
	}
	for _, tt := range tests {
		p := Preview(sps, tt.policy, now)
		var got []string
		var bytes int64
		for _, d := range p.Decisions {
			if d.Remove {
				got = append(got, d.Name)
				bytes += d.Bytes
			}
			if d.Reason == "" {
				t.Errorf("%v: %s has no reason", tt.policy, d.Name)
			}
			// Never planned: incomplete, or a checkpoint under a savepoint name.
			if d.Remove && (!d.Complete || d.Kind != "savepoint") {
				t.Errorf("%v: would remove %s", tt.policy, d.Name)
			}
		}
		if strings.Join(got, " ") != tt.remove || p.Remove != len(got) || p.RemoveBytes != bytes || p.Keep != len(sps)-len(got) {
			t.Errorf("%v: remove %q (%d, %d bytes), want %q", tt.policy, got, p.Remove, p.RemoveBytes, tt.remove)
		}
		if p.NotEligible != 2 {
			t.Errorf("%v: not eligible %d, want 2", tt.policy, p.NotEligible)
		}
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, "1.5d": 36 * time.Hour, "": 0} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"x", "7x", "-3d", "d"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
}
