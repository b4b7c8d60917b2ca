package storage

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Location is a parsed storage URI.
type Location struct {
	// Scheme is "" for a plain local path, "file", "hdfs", or one of the
	// object-store schemes ("s3", "s3a", "s3p", "gs", "abfs", "abfss",
	// "wasb", "wasbs").
	Scheme string
	// Authority is host:port for hdfs://host:port/...; "" for hdfs:///...
	// (the NameNode then comes from fs.defaultFS) and for local paths. For
	// an object store it is the bucket; for Azure it is
	// <container>@<account host>, as Hadoop spells it.
	Authority string
	// Path is the slash-separated path inside the filesystem. For plain local
	// paths it is the path as given (it may be relative).
	Path string
}

// Parse splits a storage URI. Accepted forms: "/abs/path", "rel/path",
// "file:///abs", "file:/abs" (Flink's spelling), "file://localhost/abs",
// "hdfs://host:port/path", "hdfs:///path", for S3 "s3://bucket/key"
// (also Flink's "s3a://" and "s3p://" spellings), "gs://bucket/key", and
// for Azure "abfs[s]://<container>@<account>.dfs.core.windows.net/key" and
// "wasb[s]://<container>@<account>.blob.core.windows.net/key".
func Parse(uri string) (Location, error) {
	if uri == "" {
		return Location{}, fmt.Errorf("empty path")
	}
	i := strings.Index(uri, ":")
	// A Windows drive or a path with a colon later on is not a scheme; only
	// letters before "://" or "file:" count.
	if i <= 0 || strings.ContainsAny(uri[:i], "/\\") {
		return Location{Path: uri}, nil
	}
	scheme := strings.ToLower(uri[:i])
	rest := uri[i+1:]
	switch scheme {
	case "file":
		if strings.HasPrefix(rest, "//") {
			rest = rest[2:]
			j := strings.Index(rest, "/")
			if j < 0 {
				return Location{}, fmt.Errorf("%s: file URI has no path", uri)
			}
			if host := rest[:j]; host != "" && host != "localhost" {
				return Location{}, fmt.Errorf("%s: file URI names host %q; only local files are reachable", uri, host)
			}
			rest = rest[j:]
		}
		if !strings.HasPrefix(rest, "/") {
			return Location{}, fmt.Errorf("%s: file URI path must be absolute", uri)
		}
		return Location{Scheme: "file", Path: path.Clean(rest)}, nil
	case "hdfs":
		if !strings.HasPrefix(rest, "//") {
			return Location{}, fmt.Errorf("%s: expected hdfs://host:port/path or hdfs:///path", uri)
		}
		rest = rest[2:]
		j := strings.Index(rest, "/")
		auth, p := rest, "/"
		if j >= 0 {
			auth, p = rest[:j], rest[j:]
		}
		return Location{Scheme: "hdfs", Authority: auth, Path: path.Clean(p)}, nil
	case "s3", "s3a", "s3p":
		if !strings.HasPrefix(rest, "//") {
			return Location{}, fmt.Errorf("%s: expected %s://bucket/path", uri, scheme)
		}
		rest = rest[2:]
		bucket, p := rest, "/"
		if j := strings.Index(rest, "/"); j >= 0 {
			bucket, p = rest[:j], rest[j:]
		}
		if bucket == "" {
			return Location{}, fmt.Errorf("%s: no bucket named (expected %s://bucket/path)", uri, scheme)
		}
		return Location{Scheme: scheme, Authority: bucket, Path: path.Clean(p)}, nil
	case "gs":
		if !strings.HasPrefix(rest, "//") {
			return Location{}, fmt.Errorf("%s: expected gs://bucket/path", uri)
		}
		rest = rest[2:]
		bucket, p := rest, "/"
		if j := strings.Index(rest, "/"); j >= 0 {
			bucket, p = rest[:j], rest[j:]
		}
		if bucket == "" {
			return Location{}, fmt.Errorf("%s: no bucket named (expected gs://bucket/path)", uri)
		}
		return Location{Scheme: scheme, Authority: bucket, Path: path.Clean(p)}, nil
	case "abfs", "abfss", "wasb", "wasbs":
		// Hadoop's spelling: <container>@<account>.dfs.core.windows.net for
		// ABFS, <container>@<account>.blob.core.windows.net for WASB.
		if !strings.HasPrefix(rest, "//") {
			return Location{}, fmt.Errorf("%s: expected %s://<container>@<account>.%s.core.windows.net/path", uri, scheme, azureService(scheme))
		}
		rest = rest[2:]
		auth, p := rest, "/"
		if j := strings.Index(rest, "/"); j >= 0 {
			auth, p = rest[:j], rest[j:]
		}
		if _, _, err := azureAuthority(auth); err != nil {
			return Location{}, fmt.Errorf("%s: %v (expected %s://<container>@<account>.%s.core.windows.net/path)", uri, err, scheme, azureService(scheme))
		}
		return Location{Scheme: scheme, Authority: auth, Path: path.Clean(p)}, nil
	default:
		if len(scheme) == 1 { // C:\... on Windows
			return Location{Path: uri}, nil
		}
		return Location{}, fmt.Errorf("%s: unsupported scheme %q (supported: local paths, file://, hdfs://, s3://, s3a://, s3p://, gs://, abfs://, abfss://, wasb://, wasbs://)", uri, scheme)
	}
}

// String gives the URI back in its canonical spelling.
func (l Location) String() string {
	switch l.Scheme {
	case "":
		return l.Path
	case "file":
		return "file://" + l.Path
	default:
		return l.Scheme + "://" + l.Authority + l.Path
	}
}

// IsLocal reports whether the location is on the local disk.
func (l Location) IsLocal() bool { return l.Scheme == "" || l.Scheme == "file" }

// LocalPath is the OS path of a local location.
func (l Location) LocalPath() string { return filepath.FromSlash(l.Path) }

// Join appends path elements to a URI, keeping its scheme and authority.
func Join(uri string, elem ...string) string {
	loc, err := Parse(uri)
	if err != nil {
		return strings.TrimRight(uri, "/") + "/" + path.Join(elem...)
	}
	if loc.Scheme == "" {
		return filepath.Join(append([]string{loc.Path}, elem...)...)
	}
	loc.Path = path.Join(append([]string{loc.Path}, elem...)...)
	return loc.String()
}

// Dir is the parent of uri.
func Dir(uri string) string {
	loc, err := Parse(uri)
	if err != nil {
		return path.Dir(uri)
	}
	if loc.Scheme == "" {
		return filepath.Dir(loc.Path)
	}
	loc.Path = path.Dir(loc.Path)
	return loc.String()
}

// Base is the last element of uri.
func Base(uri string) string {
	loc, err := Parse(uri)
	if err != nil {
		return path.Base(uri)
	}
	if loc.Scheme == "" {
		return filepath.Base(loc.Path)
	}
	return path.Base(loc.Path)
}

// Within reports whether child is parent itself or lies below it.
func Within(parent, child string) bool {
	p, err1 := Parse(parent)
	c, err2 := Parse(child)
	if err1 != nil || err2 != nil {
		return false
	}
	if p.IsLocal() != c.IsLocal() || (!p.IsLocal() && (p.Scheme != c.Scheme || p.Authority != c.Authority)) {
		return false
	}
	pp, cp := path.Clean(filepath.ToSlash(p.Path)), path.Clean(filepath.ToSlash(c.Path))
	return cp == pp || strings.HasPrefix(cp, strings.TrimSuffix(pp, "/")+"/")
}

const tempMarker = ".ckpt-tmp-"

// TempName is the hidden name a file is written under before it becomes
// visible as base.
func TempName(base string) string {
	var b [8]byte
	rand.Read(b[:])
	return "." + base + tempMarker + hex.EncodeToString(b[:])
}

// IsTemporary reports whether name is an unfinished write left by Create
// (for example after a crash). Listings show them; snapshot readers ignore them.
func IsTemporary(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

func azureService(scheme string) string {
	if strings.HasPrefix(scheme, "wasb") {
		return "blob"
	}
	return "dfs"
}

// azureAuthority splits Hadoop's <container>@<account host> into the
// container and the account host (<account>.dfs.core.windows.net, or any
// host whose first label is the account).
func azureAuthority(auth string) (container, host string, err error) {
	container, host, ok := strings.Cut(auth, "@")
	if !ok || container == "" || host == "" {
		return "", "", fmt.Errorf("no container@account named")
	}
	if account, _, _ := strings.Cut(host, "."); account == "" {
		return "", "", fmt.Errorf("no account named in %q", host)
	}
	return container, strings.ToLower(host), nil
}
