package storage

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in      string
		want    Location
		str     string // canonical spelling back
		wantErr string
	}{
		{in: "/abs/path", want: Location{Path: "/abs/path"}, str: "/abs/path"},
		{in: "rel/path", want: Location{Path: "rel/path"}, str: "rel/path"},
		{in: "./x", want: Location{Path: "./x"}, str: "./x"},
		{in: "/dir/with:colon", want: Location{Path: "/dir/with:colon"}, str: "/dir/with:colon"},
		{in: "file:///abs/x", want: Location{Scheme: "file", Path: "/abs/x"}, str: "file:///abs/x"},
		{in: "file:/abs/x", want: Location{Scheme: "file", Path: "/abs/x"}, str: "file:///abs/x"},
		{in: "file://localhost/abs/x", want: Location{Scheme: "file", Path: "/abs/x"}, str: "file:///abs/x"},
		{in: "FILE:///a//b/../c", want: Location{Scheme: "file", Path: "/a/c"}, str: "file:///a/c"},
		{in: "hdfs://nn:8020/flink/ckpt", want: Location{Scheme: "hdfs", Authority: "nn:8020", Path: "/flink/ckpt"}, str: "hdfs://nn:8020/flink/ckpt"},
		{in: "hdfs:///flink/ckpt/", want: Location{Scheme: "hdfs", Path: "/flink/ckpt"}, str: "hdfs:///flink/ckpt"},
		{in: "hdfs://nn:8020", want: Location{Scheme: "hdfs", Authority: "nn:8020", Path: "/"}, str: "hdfs://nn:8020/"},
		{in: "hdfs://nameservice1/x", want: Location{Scheme: "hdfs", Authority: "nameservice1", Path: "/x"}, str: "hdfs://nameservice1/x"},
		{in: "C:\\ckpt", want: Location{Path: "C:\\ckpt"}, str: "C:\\ckpt"},
		{in: "", wantErr: "empty path"},
		{in: "file://otherhost/x", wantErr: `names host "otherhost"`},
		{in: "file:relative", wantErr: "must be absolute"},
		{in: "file://", wantErr: "has no path"},
		{in: "hdfs:/x", wantErr: "expected hdfs://host:port/path"},
		{in: "s3://bucket/x", want: Location{Scheme: "s3", Authority: "bucket", Path: "/x"}, str: "s3://bucket/x"},
		{in: "s3a://bucket/flink//ckpt/", want: Location{Scheme: "s3a", Authority: "bucket", Path: "/flink/ckpt"}, str: "s3a://bucket/flink/ckpt"},
		{in: "S3P://bucket", want: Location{Scheme: "s3p", Authority: "bucket", Path: "/"}, str: "s3p://bucket/"},
		{in: "s3:///x", wantErr: "no bucket named"},
		{in: "s3:bucket/x", wantErr: "expected s3://bucket/path"},
		{in: "gs://bucket/x", want: Location{Scheme: "gs", Authority: "bucket", Path: "/x"}, str: "gs://bucket/x"},
		{in: "gs://", wantErr: "no bucket named"},
		{in: "abfss://ckpt@acct.dfs.core.windows.net/flink/", want: Location{Scheme: "abfss", Authority: "ckpt@acct.dfs.core.windows.net", Path: "/flink"}, str: "abfss://ckpt@acct.dfs.core.windows.net/flink"},
		{in: "wasbs://ckpt@acct.blob.core.windows.net", want: Location{Scheme: "wasbs", Authority: "ckpt@acct.blob.core.windows.net", Path: "/"}, str: "wasbs://ckpt@acct.blob.core.windows.net/"},
		{in: "abfs://acct.dfs.core.windows.net/x", wantErr: "no container@account named"},
		{in: "wasb://c@/x", wantErr: "no container@account named"},
		{in: "gcs://bucket/x", wantErr: `unsupported scheme "gcs"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if s := got.String(); s != tc.str {
				t.Fatalf("String() = %q, want %q", s, tc.str)
			}
			if again, err := Parse(got.String()); err != nil || again != got {
				t.Fatalf("Parse(String()) = %+v, %v; not a round trip", again, err)
			}
		})
	}
}

func TestJoinDirBase(t *testing.T) {
	cases := []struct {
		uri        string
		elem       []string
		join       string
		dir, base  string
		isLocalLoc bool
	}{
		{"/a/b", []string{"c", "d"}, "/a/b/c/d", "/a", "b", true},
		{"rel", []string{"x"}, "rel/x", ".", "rel", true},
		{"file:///a/b", []string{"chk-1", "_metadata"}, "file:///a/b/chk-1/_metadata", "file:///a", "b", true},
		{"file:/a/b", []string{"c"}, "file:///a/b/c", "file:///a", "b", true},
		{"hdfs://nn:9000/flink", []string{"job", "chk-3"}, "hdfs://nn:9000/flink/job/chk-3", "hdfs://nn:9000/", "flink", false},
		{"hdfs:///flink/x", []string{".."}, "hdfs:///flink", "hdfs:///flink", "x", false},
		{"hdfs://nn:9000/", []string{"a"}, "hdfs://nn:9000/a", "hdfs://nn:9000/", "/", false},
	}
	for _, tc := range cases {
		if got := Join(tc.uri, tc.elem...); got != tc.join {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.uri, tc.elem, got, tc.join)
		}
		if got := Dir(tc.uri); got != tc.dir {
			t.Errorf("Dir(%q) = %q, want %q", tc.uri, got, tc.dir)
		}
		if got := Base(tc.uri); got != tc.base {
			t.Errorf("Base(%q) = %q, want %q", tc.uri, got, tc.base)
		}
		loc, _ := Parse(tc.uri)
		if loc.IsLocal() != tc.isLocalLoc {
			t.Errorf("IsLocal(%q) = %v", tc.uri, loc.IsLocal())
		}
	}
}

func TestWithin(t *testing.T) {
	cases := []struct {
		parent, child string
		want          bool
	}{
		{"/a/b", "/a/b", true},
		{"/a/b", "/a/b/c/d", true},
		{"/a/b", "/a/bc", false},
		{"/a/b", "/a", false},
		{"/a/b", "file:///a/b/c", true}, // a local path and a file URI are one filesystem
		{"file:/a", "/a/x", true},
		{"/", "/anything", true},
		{"hdfs://nn:1/x", "hdfs://nn:1/x/y", true},
		{"hdfs://nn:1/x", "hdfs://nn:2/x/y", false},
		{"hdfs://nn:1/x", "hdfs:///x/y", false}, // another authority spelling: not provably the same
		{"hdfs://nn:1/x", "/x/y", false},
		{"/x", "s3://b/x", false},
	}
	for _, tc := range cases {
		if got := Within(tc.parent, tc.child); got != tc.want {
			t.Errorf("Within(%q, %q) = %v, want %v", tc.parent, tc.child, got, tc.want)
		}
	}
}

func TestTempName(t *testing.T) {
	a, b := TempName("_metadata"), TempName("_metadata")
	if a == b {
		t.Fatalf("two temp names are equal: %q", a)
	}
	for _, n := range []string{a, b} {
		if !IsTemporary(n) || !strings.HasPrefix(n, "._metadata") || strings.ContainsAny(n, "/\\") {
			t.Fatalf("TempName = %q: not a hidden temporary name of _metadata", n)
		}
	}
	for _, n := range []string{"_metadata", ".hidden", "chk-1", "x.ckpt-tmp-1"} {
		if IsTemporary(n) {
			t.Errorf("IsTemporary(%q) = true", n)
		}
	}
}
