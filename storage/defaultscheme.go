package storage

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// Flink's fs.default-scheme, applied where the Router resolves URIs.
//
// Flink's rule (FileSystem.getUnguardedFileSystem): a path with no scheme
// takes the scheme, host and port of fs.default-scheme and keeps its own
// path — "/checkpoints" with fs.default-scheme hdfs://nn:8020/ is
// hdfs://nn:8020/checkpoints; a relative path cannot be placed there and is
// an error unless the default is the local filesystem. Without
// fs.default-scheme a path without scheme is local. A URI with a scheme
// but no authority (hdfs:///checkpoints) is not touched by it in Flink:
// Hadoop's fs.defaultFS names the NameNode. ckpt does the same, and only
// where Flink would fail — no fs.defaultFS in the Hadoop configuration —
// does it take the NameNode from an hdfs:// fs.default-scheme, so the
// classic setup (state.checkpoints.dir: hdfs:///checkpoints/ with the
// NameNode named only in fs.default-scheme) is reached too.

// DefaultSchemeKey is Flink's configuration key for the default scheme.
const DefaultSchemeKey = "fs.default-scheme"

// qualified is a URI after fs.default-scheme: what the backend is asked,
// and how its answers are spelled back the way the caller wrote the URI.
type qualified struct {
	uri      string
	from, to string // answers' prefix, and the caller's spelling of it; "" from = unchanged
}

func (q qualified) respell(fi FileInfo) FileInfo {
	if q.from != "" && strings.HasPrefix(fi.URI, q.from) {
		fi.URI = q.to + strings.TrimPrefix(fi.URI, q.from)
	}
	return fi
}

// respellLister respells every entry of a listing.
type respellLister struct {
	Lister
	q qualified
}

func (l respellLister) Next(ctx context.Context) ([]FileInfo, error) {
	page, err := l.Lister.Next(ctx)
	for i := range page {
		page[i] = l.q.respell(page[i])
	}
	return page, err
}

// loadDefaults reads fs.default-scheme (-D, then the Flink configuration
// file) and whether Hadoop's fs.defaultFS is set, once.
func (r *Router) loadDefaults() error {
	r.defOnce.Do(func() {
		l, err := newFlinkLookup(r.opts)
		if err != nil {
			r.defErr = err
			return
		}
		v, from := l.get(DefaultSchemeKey)
		if v != "" {
			loc, err := Parse(v)
			if err != nil || loc.Scheme == "" {
				r.defErr = fmt.Errorf("%s = %q: want a URI with a scheme, e.g. hdfs://namenode:8020/", from, v)
				return
			}
			if !loc.IsLocal() {
				r.defScheme, r.defFrom = &loc, from
			}
		}
		if _, conf, err := loadHadoopConf(r.opts.ConfDir); err == nil {
			r.defFS = conf["fs.defaultFS"] != "" || conf["fs.default.name"] != ""
		}
	})
	return r.defErr
}

// Qualify is uri as the Router reaches it: fs.default-scheme applied as
// Flink applies it (see above). Other URIs come back unchanged.
func (r *Router) Qualify(uri string) (string, error) {
	q, err := r.qualify(uri)
	return q.uri, err
}

func (r *Router) qualify(uri string) (qualified, error) {
	loc, err := Parse(uri)
	if err != nil {
		return qualified{uri: uri}, nil // For reports it
	}
	if loc.Scheme != "" && !(loc.Scheme == "hdfs" && loc.Authority == "") {
		return qualified{uri: uri}, nil
	}
	if err := r.loadDefaults(); err != nil {
		return qualified{}, &Error{Op: "open", URI: uri, Err: err}
	}
	ds := r.defScheme
	if ds == nil {
		return qualified{uri: uri}, nil
	}
	prefix := ds.Scheme + "://" + ds.Authority
	if loc.Scheme == "" {
		p := filepath.ToSlash(loc.Path)
		if !strings.HasPrefix(p, "/") {
			return qualified{}, &Error{Op: "open", URI: uri, Err: fmt.Errorf("a relative path cannot be resolved against %s = %s; give an absolute path or a full URI", r.defFrom, ds)}
		}
		return qualified{uri: prefix + path.Clean(p), from: prefix, to: ""}, nil
	}
	// hdfs:///path: Hadoop's fs.defaultFS first, as in Flink.
	if ds.Scheme == "hdfs" && ds.Authority != "" && !r.defFS {
		return qualified{uri: prefix + loc.Path, from: prefix, to: "hdfs://"}, nil
	}
	return qualified{uri: uri}, nil
}

// route qualifies uri and finds its backend.
func (r *Router) route(ctx context.Context, uri string) (qualified, FS, error) {
	q, err := r.qualify(uri)
	if err != nil {
		return q, nil, err
	}
	fs, err := r.For(ctx, q.uri)
	return q, fs, err
}
