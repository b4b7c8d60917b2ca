package storage

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Options configure the filesystems a Router opens.
type Options struct {
	// Timeout bounds each HDFS call that has no earlier context deadline,
	// including connecting to an unreachable NameNode. Zero means
	// DefaultTimeout; it can also be set with CKPT_HDFS_TIMEOUT.
	Timeout time.Duration
	// User is the HDFS user; empty means HADOOP_USER_NAME, else the OS user.
	User string
	// ConfDir overrides where core-site.xml/hdfs-site.xml are read from;
	// empty means HADOOP_CONF_DIR, then HADOOP_HOME/etc/hadoop.
	ConfDir string
	// Conf holds Flink configuration keys given explicitly (the -D values:
	// s3.endpoint, fs.s3a.access.key, ...). They win over the Flink
	// configuration file.
	Conf map[string]string
	// FlinkConfDir overrides where the Flink configuration file
	// (config.yaml, else flink-conf.yaml) is read from; empty means
	// FLINK_CONF_DIR.
	FlinkConfDir string
}

// DefaultTimeout bounds HDFS calls by default.
const DefaultTimeout = 30 * time.Second

// Router is the FS for any URI: it hands each call to the local filesystem,
// to an HDFS client for the URI's NameNode (one client per NameNode, opened
// on first use and kept) or to the S3 client (one for s3://, s3a:// and
// s3p://, made on first use).
type Router struct {
	opts  Options
	local *Local

	mu    sync.Mutex
	hdfs  map[string]FS // by authority ("" = fs.defaultFS)
	s3    *S3
	azure map[string]*Azure // by account
	gcs   *GCS

	defOnce   sync.Once
	defScheme *Location // fs.default-scheme; nil when unset or local
	defFrom   string    // where it was set
	defFS     bool      // Hadoop's fs.defaultFS is set
	defErr    error
}

// NewRouter returns a Router with the given options.
func NewRouter(opts Options) *Router {
	return &Router{opts: opts, local: NewLocal(), hdfs: map[string]FS{}, azure: map[string]*Azure{}}
}

var (
	defaultOnce   sync.Once
	defaultRouter *Router
)

// Default is the process-wide Router with options from the environment.
func Default() *Router {
	defaultOnce.Do(func() { defaultRouter = NewRouter(Options{}) })
	return defaultRouter
}

var _ FS = (*Router)(nil)

// For returns the backend responsible for uri.
func (r *Router) For(ctx context.Context, uri string) (FS, error) {
	loc, err := Parse(uri)
	if err != nil {
		return nil, &Error{Op: "open", URI: uri, Err: err}
	}
	switch loc.Scheme {
	case "", "file":
		return r.local, nil
	case "hdfs":
		r.mu.Lock()
		defer r.mu.Unlock()
		if fs, ok := r.hdfs[loc.Authority]; ok {
			return fs, nil
		}
		fs, err := NewHDFS(ctx, loc.Authority, r.opts)
		if err != nil {
			return nil, &Error{Op: "connect", URI: uri, Err: err}
		}
		r.hdfs[loc.Authority] = fs
		return fs, nil
	case "s3", "s3a", "s3p":
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.s3 == nil {
			s, err := NewS3(ctx, r.opts)
			if err != nil {
				return nil, &Error{Op: "connect", URI: uri, Err: err}
			}
			r.s3 = s
		}
		return r.s3, nil
	case "abfs", "abfss", "wasb", "wasbs":
		_, host, err := azureAuthority(loc.Authority)
		if err != nil {
			return nil, &Error{Op: "open", URI: uri, Err: err}
		}
		account, _, _ := strings.Cut(host, ".")
		r.mu.Lock()
		defer r.mu.Unlock()
		if a, ok := r.azure[account]; ok {
			return a, nil
		}
		a, err := NewAzure(r.opts, host)
		if err != nil {
			return nil, &Error{Op: "connect", URI: uri, Err: err}
		}
		r.azure[account] = a
		return a, nil
	case "gs":
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.gcs == nil {
			g, err := NewGCS(ctx, r.opts)
			if err != nil {
				return nil, &Error{Op: "connect", URI: uri, Err: err}
			}
			r.gcs = g
		}
		return r.gcs, nil
	}
	return nil, &Error{Op: "open", URI: uri, Err: fmt.Errorf("unsupported scheme %q", loc.Scheme)}
}

func (r *Router) Stat(ctx context.Context, uri string) (FileInfo, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := fs.Stat(ctx, q.uri)
	return q.respell(fi), err
}

func (r *Router) List(ctx context.Context, uri string) (Lister, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return nil, err
	}
	l, err := fs.List(ctx, q.uri)
	if err != nil || q.from == "" {
		return l, err
	}
	return respellLister{l, q}, nil
}

func (r *Router) Open(ctx context.Context, uri string) (File, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return nil, err
	}
	return fs.Open(ctx, q.uri)
}

func (r *Router) Create(ctx context.Context, uri string, opts CreateOptions) (Writer, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return nil, err
	}
	return fs.Create(ctx, q.uri, opts)
}

func (r *Router) MkdirAll(ctx context.Context, uri string) error {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return err
	}
	return fs.MkdirAll(ctx, q.uri)
}

func (r *Router) Rename(ctx context.Context, from, to string) error {
	qf, fs, err := r.route(ctx, from)
	if err != nil {
		return err
	}
	qt, fs2, err := r.route(ctx, to)
	if err != nil {
		return err
	}
	if fs != fs2 {
		return &Error{Op: "rename", URI: from, Err: fmt.Errorf("target %s is on another filesystem", to)}
	}
	return fs.Rename(ctx, qf.uri, qt.uri)
}

func (r *Router) Lstat(ctx context.Context, uri string) (FileInfo, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := fs.Lstat(ctx, q.uri)
	return q.respell(fi), err
}

func (r *Router) Remove(ctx context.Context, uri string) error {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return err
	}
	return fs.Remove(ctx, q.uri)
}

func (r *Router) Walk(ctx context.Context, uri string, fn WalkFunc) error {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return err
	}
	return fs.Walk(ctx, q.uri, func(fi FileInfo) error { return fn(q.respell(fi)) })
}

var _ Summarizer = (*Router)(nil)

// Summary totals uri with the backend's fast path when it has one (HDFS
// content summaries), else by walking.
func (r *Router) Summary(ctx context.Context, uri string) (Usage, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return Usage{}, err
	}
	return Summarize(ctx, fs, q.uri)
}

// Close drops the connections of every HDFS backend the Router opened. The
// Router stays usable; later calls reconnect.
func (r *Router) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.hdfs {
		if c, ok := b.(interface{ Close() error }); ok {
			c.Close()
		}
	}
	return nil
}

// Describe says in one line how uri is reached: which backend, where, and
// (for object stores) where the credentials come from — what `ls -v`
// shows so an operator can tell which of their settings took effect.
func (r *Router) Describe(ctx context.Context, uri string) (string, error) {
	q, fs, err := r.route(ctx, uri)
	if err != nil {
		return "", err
	}
	desc, err := describe(ctx, fs)
	if q.from != "" {
		desc = fmt.Sprintf("%s (as %s, by %s), %s", uri, q.uri, r.defFrom, desc)
	}
	return desc, err
}

func describe(ctx context.Context, fs FS) (string, error) {
	switch b := fs.(type) {
	case *Local:
		return "local disk", nil
	case *HDFS:
		return fmt.Sprintf("HDFS NameNode %s as user %s", strings.Join(b.Addresses(), ","), b.User()), nil
	case *S3:
		set := b.Settings()
		style := "virtual-hosted-style"
		if set.PathStyle {
			style = "path-style"
		}
		desc := fmt.Sprintf("S3 endpoint %s (%s), credentials: %s", b.Endpoint(), style, b.CredentialSource(ctx))
		if set.ConfFile != "" {
			desc += ", Flink configuration " + set.ConfFile
		}
		return desc, nil
	case *Azure:
		set := b.Settings()
		desc := fmt.Sprintf("Azure Blob endpoint %s (account %s), credentials: %s", b.Endpoint(), set.Account, b.CredentialSource(ctx))
		if set.ConfFile != "" {
			desc += ", Flink configuration " + set.ConfFile
		}
		return desc, nil
	case *GCS:
		set := b.Settings()
		desc := fmt.Sprintf("GCS endpoint %s, credentials: %s", b.Endpoint(), b.CredentialSource(ctx))
		if set.ConfFile != "" {
			desc += ", Flink configuration " + set.ConfFile
		}
		return desc, nil
	}
	return fmt.Sprintf("%T", fs), nil
}
