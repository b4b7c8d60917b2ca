package storage

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

// Flink's rule, as FileSystem.getUnguardedFileSystem applies it, plus the
// hdfs:/// fallback where Flink would have no NameNode.
func TestQualifyDefaultScheme(t *testing.T) {
	t.Setenv("FLINK_CONF_DIR", "")
	withDefaultFS := t.TempDir()
	if err := os.WriteFile(filepath.Join(withDefaultFS, "core-site.xml"), []byte(`<configuration><property><name>fs.defaultFS</name><value>hdfs://defaultfs:9000</value></property></configuration>`), 0o644); err != nil {
		t.Fatal(err)
	}
	noHadoop := t.TempDir()
	cases := []struct {
		name, scheme, hadoop, uri, want, err string
	}{
		{"unset: local", "", noHadoop, "/checkpoints", "/checkpoints", ""},
		{"absolute path takes scheme and authority", "hdfs://nn:8020/", noHadoop, "/checkpoints/job", "hdfs://nn:8020/checkpoints/job", ""},
		{"the default's own path is not kept", "hdfs://nn:8020/base", noHadoop, "/x", "hdfs://nn:8020/x", ""},
		{"object store default", "s3://bucket/", noHadoop, "/ckpt", "s3://bucket/ckpt", ""},
		{"local default", "file:///", noHadoop, "/ckpt", "/ckpt", ""},
		{"relative path cannot be placed", "hdfs://nn:8020/", noHadoop, "rel/x", "", "relative path"},
		{"a full URI is untouched", "hdfs://nn:8020/", noHadoop, "s3://b/x", "s3://b/x", ""},
		{"another authority is untouched", "hdfs://nn:8020/", noHadoop, "hdfs://other:1/x", "hdfs://other:1/x", ""},
		{"hdfs:/// without fs.defaultFS takes the default's NameNode", "hdfs://nn:8020/", noHadoop, "hdfs:///checkpoints/", "hdfs://nn:8020/checkpoints", ""},
		{"hdfs:/// with fs.defaultFS keeps it, as Flink", "hdfs://nn:8020/", withDefaultFS, "hdfs:///checkpoints", "hdfs:///checkpoints", ""},
		{"hdfs:/// with a non-hdfs default", "s3://bucket/", noHadoop, "hdfs:///checkpoints", "hdfs:///checkpoints", ""},
		{"bad default", "nn:8020", noHadoop, "/x", "", "want a URI with a scheme"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf := map[string]string{}
			if tc.scheme != "" {
				conf[DefaultSchemeKey] = tc.scheme
			}
			r := NewRouter(Options{Conf: conf, ConfDir: tc.hadoop})
			got, err := r.Qualify(tc.uri)
			if tc.err != "" {
				var se *Error
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &se) || se.URI != tc.uri {
					t.Fatalf("Qualify(%s) = %q, %v; want an error naming it and %q", tc.uri, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Qualify(%s) = %q, %v; want %q", tc.uri, got, err, tc.want)
			}
		})
	}
}

// fs.default-scheme from the Flink configuration file sends a path without
// scheme to the real GCS peer; answers keep the caller's spelling.
func TestDefaultSchemeReachesTheStore(t *testing.T) {
	p := peers.GCS(t)
	ctx := context.Background()
	dir := t.TempDir()
	conf := p.FlinkConf() + "fs.default-scheme: gs://" + p.Bucket + "/\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	r := NewRouter(Options{Timeout: 30 * time.Second, FlinkConfDir: dir})
	full := p.BaseURI(t)
	plain := strings.TrimPrefix(full, "gs://"+p.Bucket) // "/test-…"
	if err := r.MkdirAll(ctx, Join(plain, "chk-1")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(ctx, r, Join(plain, "chk-1", "_metadata"), []byte("meta"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The object is in the bucket, under its full name.
	if got, err := ReadAll(ctx, gcsRouter(p), Join(full, "chk-1", "_metadata")); err != nil || string(got) != "meta" {
		t.Fatalf("through the full URI: %q, %v", got, err)
	}
	fi, err := r.Stat(ctx, Join(plain, "chk-1"))
	if err != nil || !fi.IsDir || fi.URI != Join(plain, "chk-1") {
		t.Fatalf("stat = %+v, %v; want the directory spelled %s", fi, err, Join(plain, "chk-1"))
	}
	l, err := r.List(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	page, err := l.Next(ctx)
	if !errors.Is(err, io.EOF) || len(page) != 1 || page[0].URI != Join(plain, "chk-1") {
		t.Fatalf("list = %+v, %v", page, err)
	}
	var walked []string
	if err := r.Walk(ctx, plain, func(fi FileInfo) error { walked = append(walked, fi.URI); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(walked) != 3 || walked[2] != Join(plain, "chk-1", "_metadata") {
		t.Fatalf("walk = %q", walked)
	}
	desc, err := r.Describe(ctx, plain)
	if err != nil || !strings.Contains(desc, "as "+full) || !strings.Contains(desc, "fs.default-scheme ("+filepath.Join(dir, "config.yaml")+")") || !strings.Contains(desc, "GCS endpoint") {
		t.Fatalf("Describe = %q, %v", desc, err)
	}
}
