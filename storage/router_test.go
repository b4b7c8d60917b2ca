package storage

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRouterPicksBackend(t *testing.T) {
	t.Setenv("HADOOP_CONF_DIR", "")
	t.Setenv("HADOOP_HOME", "")
	ctx := context.Background()
	r := NewRouter(Options{})
	cases := []struct {
		uri     string
		want    string // "local", "hdfs" or an error substring
		wantErr bool
	}{
		{"/tmp/x", "local", false},
		{"rel/x", "local", false},
		{"file:///tmp/x", "local", false},
		{"file:/tmp/x", "local", false},
		{"hdfs://127.0.0.1:9/x", "hdfs", false},
		{"hdfs://namenode/x", "hdfs", false},
		{"hdfs:///x", "fs.defaultFS", true},
		{"s3://bucket/x", "s3", false},
		{"s3a://bucket/x", "s3", false},
		{"gcs://bucket/x", `unsupported scheme "gcs"`, true},
		{"", "empty path", true},
	}
	for _, tc := range cases {
		fsys, err := r.For(ctx, tc.uri)
		if tc.wantErr {
			var se *Error
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.As(err, &se) || se.URI != tc.uri {
				t.Errorf("For(%q) = %v; want an *Error naming the URI and %q", tc.uri, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("For(%q): %v", tc.uri, err)
			continue
		}
		got := "?"
		switch fsys.(type) {
		case *Local:
			got = "local"
		case *HDFS:
			got = "hdfs"
		case *S3:
			got = "s3"
		}
		if got != tc.want {
			t.Errorf("For(%q) = %s, want %s", tc.uri, got, tc.want)
		}
	}
	// One client per NameNode, kept; another authority gets another.
	a, _ := r.For(ctx, "hdfs://127.0.0.1:9/a")
	b, _ := r.For(ctx, "hdfs://127.0.0.1:9/b")
	c, _ := r.For(ctx, "hdfs://127.0.0.2:9/b")
	if a != b || a == c {
		t.Errorf("HDFS backends not shared per authority: a=%p b=%p c=%p", a, b, c)
	}
	if got := a.(*HDFS).Addresses(); len(got) != 1 || got[0] != "127.0.0.1:9" {
		t.Errorf("addresses %q", got)
	}
	if got := r.hdfs["namenode"]; got == nil || got.(*HDFS).Addresses()[0] != "namenode:8020" {
		t.Errorf("hdfs://namenode/ should default to port 8020")
	}
}

func TestRouterRenameAcrossFilesystems(t *testing.T) {
	r := NewRouter(Options{})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644)
	err := r.Rename(context.Background(), filepath.Join(dir, "f"), "hdfs://127.0.0.1:9/f")
	if err == nil || !strings.Contains(err.Error(), "another filesystem") {
		t.Fatalf("rename local → hdfs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err != nil {
		t.Fatalf("source gone after refused rename: %v", err)
	}
	// Two spellings of the local filesystem are one filesystem.
	if err := r.Rename(context.Background(), filepath.Join(dir, "f"), "file://"+filepath.Join(dir, "g")); err != nil {
		t.Fatalf("rename path → file URI: %v", err)
	}
}

func TestRouterSummaryLocal(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "f"), make([]byte, 10), 0o644)
	os.WriteFile(filepath.Join(dir, "a", "b", "g"), make([]byte, 5), 0o644)
	u, err := NewRouter(Options{}).Summary(context.Background(), dir)
	if err != nil || u != (Usage{Files: 2, Dirs: 3, Bytes: 15}) {
		t.Fatalf("Summary = %+v, %v", u, err)
	}
}

func TestLocalRefusesToRemoveRoot(t *testing.T) {
	for _, uri := range []string{"/", "file:///", "/tmp/.."} {
		if err := NewLocal().Remove(context.Background(), uri); err == nil {
			t.Fatalf("Remove(%q) = nil", uri)
		}
	}
}

// The first rule of ckpt: nothing deletes a directory recursively. The
// interface every package reaches storage through has no way to.
func TestNoRecursiveDelete(t *testing.T) {
	fsType := reflect.TypeOf((*FS)(nil)).Elem()
	for i := range fsType.NumMethod() {
		if name := fsType.Method(i).Name; strings.Contains(name, "RemoveAll") || strings.Contains(name, "Recursive") {
			t.Errorf("storage.FS has %s", name)
		}
	}
	for _, fsys := range []any{NewLocal(), NewRouter(Options{}), &S3{}} {
		if _, ok := reflect.TypeOf(fsys).MethodByName("RemoveAll"); ok {
			t.Errorf("%T has RemoveAll", fsys)
		}
	}
	// On S3 one request could delete a thousand objects by name, or a
	// bucket: the backend never makes those requests.
	src, err := os.ReadFile("s3.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []string{".DeleteObjects(", ".DeleteBucket(", "PutBucketLifecycle"} {
		if strings.Contains(string(src), call) {
			t.Errorf("s3.go calls %s", call)
		}
	}
}
