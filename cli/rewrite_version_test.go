package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// flinkConfigAt answers GET /config as a JobManager of flinkVersion.
func flinkConfigAt(t *testing.T, flinkVersion string) string {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"flink-version": flinkVersion, "flink-revision": "abc", "refresh-interval": 3000})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRewriteTargetVersion: rewrite and cp keep SRC's format version;
// --target-version and -m (a Flink's flink-version) choose another; V4
// lists the uids and names it does not keep; a rename into V6 records the
// new uid; a target that disagrees with --target-version, or a version
// Flink lines before 1.16 read, is refused with nothing written.
func TestRewriteTargetVersion(t *testing.T) {
	flink120, flink23, engine, flink115 := flinkConfigAt(t, "1.20.5"), flinkConfigAt(t, "2.3.0"), flinkConfigAt(t, "ckpt-dev"), flinkConfigAt(t, "1.15.4")
	read := func(t *testing.T, dir string) *snapshot.Metadata {
		t.Helper()
		m, err := snapshot.Read(context.Background(), storage.NewLocal(), dir)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tc := range []struct {
		name string
		cmd  []string
		code int
		want int    // format version written, 0: nothing written
		out  string // in stdout+stderr
	}{
		{"rewrite keeps", []string{"rewrite", "--rename", "count=count-v2"}, 0, 6, "format      v6 (written by Flink 2.1+), as SRC"},
		{"rewrite V4", []string{"rewrite", "--rename", "count=count-v2", "--target-version", "V4"}, 0, 4,
			"format      v6 → v4 (written by Flink 1.16+)\nnot kept    operator " + snapshot.OperatorIDFromUID("src").String() + ` (uid "src", name "src")`},
		{"rewrite -m 1.20", []string{"rewrite", "--drop", "sum", "-m", flink120}, 0, 4, "format      v6 → v4"},
		{"rewrite -m 2.3", []string{"rewrite", "--drop", "sum", "-m", flink23}, 0, 6, "as SRC"},
		{"rewrite -m engine", []string{"rewrite", "--drop", "sum", "-m", engine}, 0, 6, "as SRC"},
		{"rewrite disagrees", []string{"rewrite", "--drop", "sum", "-m", flink120, "--target-version", "v6"}, 2, 0, "runs Flink 1.20.5, which writes V4"},
		{"rewrite 1.15", []string{"rewrite", "--drop", "sum", "-m", flink115}, 1, 0, "reads _metadata up to V3"},
		{"rewrite bad", []string{"rewrite", "--drop", "sum", "--target-version", "V3"}, 2, 0, "want V4"},
		{"cp keeps", []string{"cp"}, 0, 6, "as SRC"},
		{"cp V4", []string{"cp", "--target-version", "4"}, 0, 4, "format      v6 → v4"},
		{"cp -m 1.20 json", []string{"cp", "--json", "-m", flink120}, 0, 4, `"format": {`},
		{"cp dry run", []string{"cp", "--dry-run", "--target-version", "V4"}, 0, 0, "format      v6 → v4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			src := filepath.Join(root, "savepoint-aaaaaa-000000000001")
			rewriteSavepoint(t, src)
			dst := filepath.Join(root, "out")
			code, out, errb := runCkpt(t, append(tc.cmd, src, dst)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tc.code, out, errb)
			}
			if !strings.Contains(out+errb, tc.out) {
				t.Errorf("output lacks %q:\n%s%s", tc.out, out, errb)
			}
			if tc.want == 0 {
				if _, err := storage.NewLocal().Stat(context.Background(), filepath.Join(dst, snapshot.MetadataFileName)); err == nil {
					t.Fatal("_metadata written")
				}
				return
			}
			m := read(t, dst)
			if m.Version != tc.want {
				t.Fatalf("written V%d, want V%d", m.Version, tc.want)
			}
			if read(t, src).Version != snapshot.Version6 {
				t.Fatal("SRC changed")
			}
		})
	}

	// V4 → V6 with a rename: the renamed operator's new uid is recorded.
	root := t.TempDir()
	src := filepath.Join(root, "v4")
	if code, out, errb := runCkpt(t, "cp", "--target-version", "V4", func() string {
		s := filepath.Join(root, "savepoint-aaaaaa-000000000001")
		rewriteSavepoint(t, s)
		return s
	}(), src); code != 0 {
		t.Fatalf("cp: %d %s%s", code, out, errb)
	}
	dst := filepath.Join(root, "v6")
	if code, out, errb := runCkpt(t, "rewrite", "--rename", "count=count-v2", "--target-version", "V6", src, dst); code != 0 {
		t.Fatalf("rewrite: %d %s%s", code, out, errb)
	}
	m := read(t, dst)
	op := m.Operator(snapshot.OperatorIDFromUID("count-v2"))
	if m.Version != 6 || op == nil || op.UID != "count-v2" {
		t.Fatalf("V4 → V6 rename: version %d, operator %+v", m.Version, op)
	}
	if other := m.Operator(snapshot.OperatorIDFromUID("src")); other == nil || other.UID != "" {
		t.Fatalf("an operator of the V4 source got a uid: %+v", other)
	}
}
