package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/colinmarc/hdfs/v2"
	"github.com/colinmarc/hdfs/v2/hadoopconf"
)

// defaultNameNodePort is Hadoop's default NameNode RPC port, used for
// hdfs://host/path URIs that name no port.
const defaultNameNodePort = "8020"

// HDFS is the filesystem of one HDFS cluster, reached through
// github.com/colinmarc/hdfs/v2.
//
// The client library has no contexts and its NameNode connection no
// deadlines, so this backend bounds every call itself: each NameNode call
// runs in a goroutine and is abandoned when its deadline (the context's, or
// Options.Timeout, whichever comes first) passes. The abandoned client is
// then closed and the next call dials afresh, so a NameNode that accepts
// connections and never answers costs one timeout per call, not a hang.
// (A cancelled context returns at once too, but keeps the connection: the
// NameNode was not at fault.) NameNode sockets also carry an idle deadline
// of about Options.Timeout on every read and write, and DataNode transfers
// get the timeout as a deadline per Read or Write, so nothing inside the
// library can block forever either.
type HDFS struct {
	authority string   // as given in URIs ("" = fs.defaultFS)
	addrs     []string // NameNode RPC addresses (several for HA)
	user      string
	timeout   time.Duration
	base      hdfs.ClientOptions // Addresses, User and dial funcs are set per client

	dialMu sync.Mutex // serialises dialling a new client
	mu     sync.Mutex // guards cur
	cur    *nnClient
}

// nnClient is one connected client and the NameNode sockets it dialled, so
// an abandoned call can be cut off by closing them.
type nnClient struct {
	c *hdfs.Client

	mu     sync.Mutex
	conns  []net.Conn
	broken bool // a NameNode socket failed: the client must not be reused
	closed bool
}

var (
	_ FS         = (*HDFS)(nil)
	_ Summarizer = (*HDFS)(nil)
)

// NewHDFS prepares the filesystem of the NameNode at authority (host:port,
// host alone meaning port 8020, or an HA nameservice defined in the Hadoop
// configuration), or of the one named by fs.defaultFS in the Hadoop
// configuration when authority is empty. It reads the configuration and
// settles the user and timeout, but connects lazily: the first call dials,
// so a NameNode that is down surfaces as an error naming that call's URI.
func NewHDFS(ctx context.Context, authority string, opts Options) (FS, error) {
	h, err := newHDFS(authority, opts)
	if err != nil {
		return nil, err
	}
	return h, nil
}

func newHDFS(authority string, opts Options) (*HDFS, error) {
	timeout, err := resolveTimeout(opts.Timeout)
	if err != nil {
		return nil, err
	}
	confDir, conf, err := loadHadoopConf(opts.ConfDir)
	if err != nil {
		return nil, err
	}
	addrs, err := resolveNameNodes(authority, confDir, conf)
	if err != nil {
		return nil, err
	}
	base := hdfs.ClientOptionsFromConf(conf)
	if base.KerberosClient != nil {
		return nil, fmt.Errorf("the Hadoop configuration in %s asks for Kerberos (hadoop.security.authentication=kerberos), which ckpt does not support yet", confDir)
	}
	u, err := resolveUser(opts.User)
	if err != nil {
		return nil, err
	}
	return &HDFS{authority: authority, addrs: addrs, user: u, timeout: timeout, base: base}, nil
}

// resolveTimeout picks Options.Timeout, else CKPT_HDFS_TIMEOUT (a Go
// duration such as "10s", or whole seconds), else DefaultTimeout.
func resolveTimeout(t time.Duration) (time.Duration, error) {
	if t > 0 {
		return t, nil
	}
	env := strings.TrimSpace(os.Getenv("CKPT_HDFS_TIMEOUT"))
	if env == "" {
		return DefaultTimeout, nil
	}
	if d, err := time.ParseDuration(env); err == nil && d > 0 {
		return d, nil
	}
	if n, err := strconv.Atoi(env); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	return 0, fmt.Errorf("CKPT_HDFS_TIMEOUT=%q: want a positive duration such as 30s or a number of seconds", env)
}

// resolveUser picks the HDFS user the way Hadoop's tools do with simple
// authentication: the explicit option, else HADOOP_USER_NAME, else the OS user.
func resolveUser(u string) (string, error) {
	if u != "" {
		return u, nil
	}
	if u := os.Getenv("HADOOP_USER_NAME"); u != "" {
		return u, nil
	}
	cur, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("cannot tell the HDFS user (set HADOOP_USER_NAME): %w", err)
	}
	return cur.Username, nil
}

// HadoopConfDir is where the Hadoop configuration is read from: confDir if
// set, else $HADOOP_CONF_DIR, else $HADOOP_HOME/etc/hadoop (Hadoop 2+ layout),
// else $HADOOP_HOME/conf. It returns "" when none is set.
func HadoopConfDir(confDir string) string {
	if confDir != "" {
		return confDir
	}
	if d := os.Getenv("HADOOP_CONF_DIR"); d != "" {
		return d
	}
	if home := os.Getenv("HADOOP_HOME"); home != "" {
		etc := filepath.Join(home, "etc", "hadoop")
		if _, err := os.Stat(filepath.Join(etc, "core-site.xml")); err == nil {
			return etc
		}
		if _, err := os.Stat(filepath.Join(home, "conf", "core-site.xml")); err == nil {
			return filepath.Join(home, "conf")
		}
		return etc
	}
	return ""
}

// loadHadoopConf reads core-site.xml and hdfs-site.xml (and mapred-site.xml,
// which the parser also reads) from the configuration directory. A missing
// directory or file is no error: the configuration is then empty.
func loadHadoopConf(confDir string) (string, hadoopconf.HadoopConf, error) {
	dir := HadoopConfDir(confDir)
	if dir == "" {
		return "", hadoopconf.HadoopConf{}, nil
	}
	kv, err := LoadHadoopSite(dir, "core-site.xml", "hdfs-site.xml", "mapred-site.xml")
	conf := hadoopconf.HadoopConf(kv)
	if err != nil {
		return dir, nil, fmt.Errorf("reading the Hadoop configuration in %s: %w", dir, err)
	}
	if conf == nil {
		conf = hadoopconf.HadoopConf{}
	}
	return dir, conf, nil
}

// resolveNameNodes turns a URI authority into NameNode RPC addresses.
func resolveNameNodes(authority, confDir string, conf hadoopconf.HadoopConf) ([]string, error) {
	if authority == "" {
		def := conf["fs.defaultFS"]
		if def == "" {
			def = conf["fs.default.name"] // Hadoop 1 spelling
		}
		where := "no Hadoop configuration found (set HADOOP_CONF_DIR or HADOOP_HOME)"
		if confDir != "" {
			where = "not set in " + filepath.Join(confDir, "core-site.xml")
		}
		if def == "" {
			return nil, fmt.Errorf("hdfs:/// needs fs.defaultFS: %s; or name the NameNode: hdfs://host:port/path", where)
		}
		u, err := url.Parse(def)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("fs.defaultFS %q in %s is not an hdfs://host:port URI", def, confDir)
		}
		if u.Scheme != "hdfs" {
			return nil, fmt.Errorf("fs.defaultFS is %q (in %s), not an HDFS cluster; name the NameNode: hdfs://host:port/path", def, confDir)
		}
		authority = u.Host
	}
	// An HA nameservice: its NameNodes are listed in hdfs-site.xml.
	if ids := conf["dfs.ha.namenodes."+authority]; ids != "" {
		var addrs []string
		for _, id := range strings.Split(ids, ",") {
			if a := conf["dfs.namenode.rpc-address."+authority+"."+strings.TrimSpace(id)]; a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("nameservice %q in %s lists NameNodes %q but no dfs.namenode.rpc-address.%s.* for them", authority, confDir, ids, authority)
		}
		return addrs, nil
	}
	host, port, err := net.SplitHostPort(authority)
	if err != nil {
		// No port: Hadoop's default NameNode port.
		host, port = strings.Trim(authority, "[]"), defaultNameNodePort
	}
	if host == "" {
		return nil, fmt.Errorf("NameNode address %q has no host", authority)
	}
	if _, err := strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("NameNode address %q has a bad port", authority)
	}
	return []string{net.JoinHostPort(host, port)}, nil
}

// Addresses are the NameNode RPC addresses this filesystem talks to.
func (h *HDFS) Addresses() []string { return append([]string(nil), h.addrs...) }

// User is the HDFS user calls are made as.
func (h *HDFS) User() string { return h.user }

// Timeout is the bound on each call without an earlier context deadline.
func (h *HDFS) Timeout() time.Duration { return h.timeout }

// Close drops the NameNode connection. The filesystem stays usable: the next
// call reconnects.
func (h *HDFS) Close() error {
	h.mu.Lock()
	nc := h.cur
	h.cur = nil
	h.mu.Unlock()
	if nc != nil {
		nc.close()
	}
	return nil
}

// deadlineConn gives every read and write on a NameNode socket an idle
// deadline, and marks its client broken when I/O fails.
type deadlineConn struct {
	net.Conn
	idle time.Duration
	nc   *nnClient
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	n, err := c.Conn.Read(b)
	if err != nil {
		c.nc.markBroken()
	}
	return n, err
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	n, err := c.Conn.Write(b)
	if err != nil {
		c.nc.markBroken()
	}
	return n, err
}

func (nc *nnClient) markBroken() {
	nc.mu.Lock()
	nc.broken = true
	nc.mu.Unlock()
}

func (nc *nnClient) isBroken() bool {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return nc.broken
}

// close cuts the client's sockets first, which unblocks any call stuck
// reading from them, and then closes the client (which waits for that call).
func (nc *nnClient) close() {
	nc.mu.Lock()
	if nc.closed {
		nc.mu.Unlock()
		return
	}
	nc.broken, nc.closed = true, true
	conns := nc.conns
	nc.conns = nil
	nc.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	if nc.c != nil {
		go nc.c.Close()
	}
}

// current is the shared client if it is still healthy.
func (h *HDFS) current() *nnClient {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur != nil && h.cur.isBroken() {
		h.cur.close()
		h.cur = nil
	}
	return h.cur
}

// client returns the shared client, dialling a new one if needed. Dials are
// serialised by dialMu, never under mu, so giving up on a call (which takes
// mu) is never stuck behind a slow dial. The dial itself is bounded by the
// timeout; callers bound their wait separately.
func (h *HDFS) client() (*nnClient, error) {
	if nc := h.current(); nc != nil {
		return nc, nil
	}
	h.dialMu.Lock()
	defer h.dialMu.Unlock()
	if nc := h.current(); nc != nil {
		return nc, nil
	}
	nc := &nnClient{}
	dialer := &net.Dialer{Timeout: h.timeout, KeepAlive: 30 * time.Second}
	opts := h.base
	opts.Addresses = h.addrs
	opts.User = h.user
	opts.NamenodeDialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		nc.mu.Lock()
		defer nc.mu.Unlock()
		if nc.closed {
			conn.Close()
			return nil, net.ErrClosed
		}
		nc.conns = append(nc.conns, conn)
		// The idle deadline is a backstop for calls made outside call()
		// (a reader fetching block locations); a little slack lets call's
		// own bound, with its clearer error, fire first.
		return &deadlineConn{Conn: conn, idle: h.timeout + time.Second, nc: nc}, nil
	}
	opts.DatanodeDialFunc = dialer.DialContext
	c, err := hdfs.NewClient(opts)
	if err != nil {
		nc.close()
		return nil, h.unreachable(err)
	}
	nc.c = c
	h.mu.Lock()
	h.cur = nc
	h.mu.Unlock()
	return nc, nil
}

// drop discards nc and, if it is still the shared client, forgets it.
func (h *HDFS) drop(nc *nnClient) {
	h.mu.Lock()
	if h.cur == nc {
		h.cur = nil
	}
	h.mu.Unlock()
	nc.close()
}

func (h *HDFS) unreachable(err error) error {
	return &nameNodeError{addrs: h.addrs, err: err}
}

// nameNodeError says the NameNode could not be reached or did not answer.
type nameNodeError struct {
	addrs []string
	err   error
}

func (e *nameNodeError) Error() string {
	return fmt.Sprintf("NameNode %s unreachable: %v", strings.Join(e.addrs, ","), e.err)
}
func (e *nameNodeError) Unwrap() error { return e.err }

// callTimeoutError is returned when a call got no answer within its bound.
type callTimeoutError struct {
	addrs []string
	after time.Duration
	cause error // context.DeadlineExceeded or context.Canceled
}

func (e *callTimeoutError) Error() string {
	if errors.Is(e.cause, context.Canceled) {
		return fmt.Sprintf("canceled while waiting for NameNode %s", strings.Join(e.addrs, ","))
	}
	return fmt.Sprintf("no answer from NameNode %s within %s (raise CKPT_HDFS_TIMEOUT if it is just slow)", strings.Join(e.addrs, ","), e.after.Round(time.Millisecond))
}
func (e *callTimeoutError) Unwrap() error { return e.cause }
func (e *callTimeoutError) Timeout() bool { return true }

// bound gives ctx the backend's timeout unless it already ends sooner.
func (h *HDFS) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= h.timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, h.timeout)
}

// call runs fn against the NameNode within ctx's bound. On timeout it gives
// up on the client (fn's goroutine ends when the cut sockets fail it).
func (h *HDFS) call(ctx context.Context, op, uri string, fn func(c *hdfs.Client) error) error {
	if err := ctx.Err(); err != nil {
		return &Error{Op: op, URI: uri, Err: err}
	}
	ctx, cancel := h.bound(ctx)
	defer cancel()
	start := time.Now()
	type result struct {
		nc  *nnClient
		err error
	}
	done := make(chan result, 1)
	var (
		usedMu sync.Mutex
		used   *nnClient // the client fn runs on, once it has one
	)
	go func() {
		nc, err := h.client()
		if err != nil {
			done <- result{nil, err}
			return
		}
		usedMu.Lock()
		used = nc
		usedMu.Unlock()
		err = fn(nc.c)
		done <- result{nc, err}
	}()
	select {
	case r := <-done:
		if r.nc != nil && r.nc.isBroken() {
			// The socket failed under this call: reconnect next time instead
			// of letting the library back off from the NameNode for seconds.
			h.drop(r.nc)
			if r.err != nil && !isRemote(r.err) {
				r.err = h.unreachable(r.err)
			}
		}
		if r.err != nil && errors.Is(r.err, os.ErrDeadlineExceeded) && !isRemote(r.err) {
			// The socket's own idle deadline fired (it backs up ours).
			r.err = &callTimeoutError{addrs: h.addrs, after: time.Since(start), cause: context.DeadlineExceeded}
		}
		return h.wrap(op, uri, r.err)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			// The caller lost interest (a TUI moved on): let the call finish
			// in the background, bounded by the socket deadlines, and keep
			// the connection for everyone else.
			return &Error{Op: op, URI: uri, Err: &callTimeoutError{addrs: h.addrs, after: time.Since(start), cause: ctx.Err()}}
		}
		// No answer in time: cut the client's sockets. fn's goroutine then
		// fails and ends, and the next call dials afresh. A goroutine still
		// dialling ends when the dial's own timeout passes.
		usedMu.Lock()
		nc := used
		usedMu.Unlock()
		if nc != nil {
			h.drop(nc)
		}
		return &Error{Op: op, URI: uri, Err: &callTimeoutError{addrs: h.addrs, after: time.Since(start), cause: ctx.Err()}}
	}
}

// hdfsPath is the path inside the cluster for uri, checking that uri belongs
// to this filesystem.
func (h *HDFS) hdfsPath(op, uri string) (Location, error) {
	loc, err := Parse(uri)
	if err != nil {
		return loc, &Error{Op: op, URI: uri, Err: err}
	}
	if loc.Scheme != "hdfs" {
		return loc, &Error{Op: op, URI: uri, Err: fmt.Errorf("not an hdfs:// URI")}
	}
	if loc.Authority != h.authority {
		return loc, &Error{Op: op, URI: uri, Err: fmt.Errorf("belongs to NameNode %q, not %q", loc.Authority, h.authority)}
	}
	return loc, nil
}

func (h *HDFS) info(uri string, fi os.FileInfo) FileInfo {
	out := FileInfo{URI: uri, Name: fi.Name(), Size: fi.Size(), ModTime: fi.ModTime(), IsDir: fi.IsDir(), Mode: fi.Mode()}
	if hf, ok := fi.(*hdfs.FileInfo); ok {
		out.Owner, out.Group = hf.Owner(), hf.OwnerGroup()
		// The NameNode's status names a link's target (HDFS has symlinks
		// disabled unless a cluster enables them).
		if st, ok := hf.Sys().(interface{ GetSymlink() []byte }); ok && len(st.GetSymlink()) > 0 {
			out.Mode |= fs.ModeSymlink
		}
	}
	if out.IsDir {
		out.Size = 0
	}
	return out
}

func (h *HDFS) Stat(ctx context.Context, uri string) (FileInfo, error) {
	loc, err := h.hdfsPath("stat", uri)
	if err != nil {
		return FileInfo{}, err
	}
	var fi os.FileInfo
	err = h.call(ctx, "stat", uri, func(c *hdfs.Client) error {
		var err error
		fi, err = c.Stat(loc.Path)
		return err
	})
	if err != nil {
		return FileInfo{}, err
	}
	info := h.info(uri, fi)
	info.Name = path.Base(loc.Path)
	return info, nil
}

// Summary asks the NameNode for the totals of uri in one call. Like
// DiskUsage it counts uri itself among the directories.
func (h *HDFS) Summary(ctx context.Context, uri string) (Usage, error) {
	loc, err := h.hdfsPath("du", uri)
	if err != nil {
		return Usage{}, err
	}
	var u Usage
	err = h.call(ctx, "du", uri, func(c *hdfs.Client) error {
		cs, err := c.GetContentSummary(loc.Path)
		if err != nil {
			return err
		}
		u = Usage{Files: int64(cs.FileCount()), Dirs: int64(cs.DirectoryCount()), Bytes: cs.Size()}
		return nil
	})
	return u, err
}

type hdfsLister struct {
	h    *HDFS
	dir  Location
	uri  string
	f    *hdfs.FileReader
	done bool
}

func (h *HDFS) List(ctx context.Context, uri string) (Lister, error) {
	loc, err := h.hdfsPath("list", uri)
	if err != nil {
		return nil, err
	}
	var f *hdfs.FileReader
	err = h.call(ctx, "list", uri, func(c *hdfs.Client) error {
		var err error
		f, err = c.Open(loc.Path)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !f.Stat().IsDir() {
		f.Close()
		return nil, &Error{Op: "list", URI: uri, Err: errNotDir}
	}
	return &hdfsLister{h: h, dir: loc, uri: uri, f: f}, nil
}

var errNotDir = errors.New("not a directory")

// Next asks the NameNode for the next page. HDFS pages listings itself
// (dfs.ls.limit entries per call, 1000 by default); we ask for listPage
// entries, continuing after the last name seen, so memory stays flat however
// large the directory.
func (l *hdfsLister) Next(ctx context.Context) ([]FileInfo, error) {
	if l.done {
		return nil, io.EOF
	}
	var fis []os.FileInfo
	err := l.h.call(ctx, "list", l.uri, func(*hdfs.Client) error {
		var err error
		fis, err = l.f.Readdir(listPage)
		return err
	})
	if errors.Is(err, io.EOF) {
		l.done = true
		return nil, io.EOF
	}
	if err != nil {
		return nil, err
	}
	out := make([]FileInfo, 0, len(fis))
	for _, fi := range fis {
		out = append(out, l.h.info(childURI(l.dir, fi.Name()), fi))
	}
	return out, nil
}

func (l *hdfsLister) Close() error { return l.f.Close() }

// hdfsFile reads one file. Sequential reads and ReadAt use separate readers
// so ReadAt neither moves nor disturbs the sequential position, and a mutex
// makes concurrent ReadAt calls safe (the library's reader is not).
type hdfsFile struct {
	h    *HDFS
	uri  string
	path string
	size int64

	mu sync.Mutex
	r  *hdfs.FileReader // sequential reads and Seek
	ra *hdfs.FileReader // ReadAt, opened on first use
}

func (h *HDFS) Open(ctx context.Context, uri string) (File, error) {
	loc, err := h.hdfsPath("open", uri)
	if err != nil {
		return nil, err
	}
	var f *hdfs.FileReader
	err = h.call(ctx, "open", uri, func(c *hdfs.Client) error {
		var err error
		f, err = c.Open(loc.Path)
		return err
	})
	if err != nil {
		return nil, err
	}
	if f.Stat().IsDir() {
		f.Close()
		return nil, &Error{Op: "open", URI: uri, Err: errors.New("is a directory")}
	}
	return &hdfsFile{h: h, uri: uri, path: loc.Path, size: f.Stat().Size(), r: f}, nil
}

func (f *hdfsFile) Size() int64 { return f.size }

func (f *hdfsFile) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r == nil {
		return 0, &Error{Op: "read", URI: f.uri, Err: fs.ErrClosed}
	}
	f.r.SetDeadline(time.Now().Add(f.h.timeout))
	n, err := f.r.Read(b)
	if err != nil && err != io.EOF {
		return n, f.h.wrap("read", f.uri, err)
	}
	return n, err
}

func (f *hdfsFile) ReadAt(b []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r == nil {
		return 0, &Error{Op: "read", URI: f.uri, Err: fs.ErrClosed}
	}
	if off < 0 {
		return 0, &Error{Op: "read", URI: f.uri, Err: fmt.Errorf("negative offset %d", off)}
	}
	if off >= f.size {
		return 0, io.EOF
	}
	if f.ra == nil {
		ctx, cancel := context.WithTimeout(context.Background(), f.h.timeout)
		defer cancel()
		err := f.h.call(ctx, "read", f.uri, func(c *hdfs.Client) error {
			var err error
			f.ra, err = c.Open(f.path)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	f.ra.SetDeadline(time.Now().Add(f.h.timeout))
	n, err := f.ra.ReadAt(b, off)
	if err != nil && err != io.EOF {
		return n, f.h.wrap("read", f.uri, err)
	}
	return n, err
}

func (f *hdfsFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r == nil {
		return 0, &Error{Op: "seek", URI: f.uri, Err: fs.ErrClosed}
	}
	n, err := f.r.Seek(offset, whence)
	if err != nil {
		return n, &Error{Op: "seek", URI: f.uri, Err: err}
	}
	return n, nil
}

func (f *hdfsFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.r == nil {
		return nil
	}
	f.r.Close()
	f.r = nil
	if f.ra != nil {
		f.ra.Close()
		f.ra = nil
	}
	return nil
}

// hdfsWriter writes to a temporary name and renames it into place on Close.
type hdfsWriter struct {
	h        *HDFS
	uri      string
	tmp, dst string
	opts     CreateOptions
	w        *hdfs.FileWriter
	closed   bool
}

func (h *HDFS) Create(ctx context.Context, uri string, opts CreateOptions) (Writer, error) {
	loc, err := h.hdfsPath("create", uri)
	if err != nil {
		return nil, err
	}
	if loc.Path == "/" {
		return nil, &Error{Op: "create", URI: uri, Err: errors.New("is a directory")}
	}
	dst := loc.Path
	tmp := path.Join(path.Dir(dst), TempName(path.Base(dst)))
	var w *hdfs.FileWriter
	err = h.call(ctx, "create", uri, func(c *hdfs.Client) error {
		if !opts.Overwrite {
			if _, err := c.Stat(dst); err == nil {
				return fs.ErrExist
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		var err error
		w, err = c.Create(tmp)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &hdfsWriter{h: h, uri: uri, tmp: tmp, dst: dst, opts: opts, w: w}, nil
}

func (w *hdfsWriter) Write(b []byte) (int, error) {
	if w.closed {
		return 0, &Error{Op: "write", URI: w.uri, Err: fs.ErrClosed}
	}
	if len(b) == 0 {
		// The library would allocate a block for nothing, and the NameNode
		// then never considers an empty block replicated: Close would wait
		// forever for "replication in progress" to end.
		return 0, nil
	}
	w.w.SetDeadline(time.Now().Add(w.h.timeout))
	n, err := w.w.Write(b)
	if err != nil {
		return n, w.h.wrap("write", w.uri, err)
	}
	return n, nil
}

// Close finishes the temporary file (waiting for the DataNodes' acks), then
// renames it to the target. Without Overwrite an existing target fails the
// Close with fs.ErrExist. The client library can only rename with
// overwrite, so "no overwrite" is a check just before the rename: two
// writers racing for the same new name within that instant could still
// replace one another (ckpt never does that; every snapshot file has one
// writer).
func (w *hdfsWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	deadline := time.Now().Add(w.h.timeout)
	w.w.SetDeadline(deadline)
	err := w.w.Close()
	// The NameNode answers "not yet" while the last block's replicas report
	// in; the Java client retries with backoff, and so do we, within the bound.
	for wait := 50 * time.Millisecond; hdfs.IsErrReplicating(err) && time.Now().Add(wait).Before(deadline); wait *= 2 {
		time.Sleep(wait)
		err = w.w.Close()
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err == nil {
		err = w.h.call(ctx, "create", w.uri, func(c *hdfs.Client) error {
			if !w.opts.Overwrite {
				if _, err := c.Stat(w.dst); err == nil {
					return fs.ErrExist
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			return c.Rename(w.tmp, w.dst)
		})
		if err == nil {
			return nil
		}
	}
	w.removeTmp()
	return w.h.wrap("create", w.uri, err)
}

// Abort drops the temporary file; nothing ever appears at the target.
func (w *hdfsWriter) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	// Closing finishes the block pipeline cleanly (so the DataNode is not left
	// waiting); the file is deleted right after, so what it holds is moot.
	w.w.SetDeadline(time.Now().Add(w.h.timeout))
	w.w.Close()
	return w.removeTmp()
}

func (w *hdfsWriter) removeTmp() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.h.timeout)
	defer cancel()
	return w.h.call(ctx, "abort", w.uri, func(c *hdfs.Client) error {
		return c.RemoveAll(w.tmp)
	})
}

func (h *HDFS) MkdirAll(ctx context.Context, uri string) error {
	loc, err := h.hdfsPath("mkdir", uri)
	if err != nil {
		return err
	}
	return h.call(ctx, "mkdir", uri, func(c *hdfs.Client) error {
		err := c.MkdirAll(loc.Path, 0o755)
		if errors.Is(err, fs.ErrExist) {
			return errNotDir // MkdirAll only fails this way when a file is in the way
		}
		return err
	})
}

func (h *HDFS) Rename(ctx context.Context, from, to string) error {
	lf, err := h.hdfsPath("rename", from)
	if err != nil {
		return err
	}
	lt, err := h.hdfsPath("rename", to)
	if err != nil {
		return err
	}
	return h.call(ctx, "rename", from, func(c *hdfs.Client) error {
		// Same check-then-rename as Create: the library renames with
		// overwrite only.
		if _, err := c.Stat(lt.Path); err == nil {
			return fmt.Errorf("target %s: %w", to, fs.ErrExist)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("target %s: %w", to, h.classify(err))
		}
		if _, err := c.Stat(lf.Path); err != nil {
			return err
		}
		return c.Rename(lf.Path, lt.Path)
	})
}

// Lstat is Stat: HDFS has symbolic links disabled (Hadoop refuses to
// create them unless a cluster enables them for testing), and where a
// status does name a link target, Mode carries fs.ModeSymlink.
func (h *HDFS) Lstat(ctx context.Context, uri string) (FileInfo, error) {
	return h.Stat(ctx, uri)
}

func (h *HDFS) Remove(ctx context.Context, uri string) error {
	loc, err := h.hdfsPath("remove", uri)
	if err != nil {
		return err
	}
	if loc.Path == "/" {
		return &Error{Op: "remove", URI: uri, Err: errors.New("refusing to remove the root of the filesystem")}
	}
	return h.call(ctx, "remove", uri, func(c *hdfs.Client) error {
		err := c.Remove(loc.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil && (errors.Is(err, syscall.ENOTEMPTY) || strings.Contains(err.Error(), "not empty") || strings.Contains(err.Error(), "non empty")) {
			return fmt.Errorf("%w: %v", ErrNotEmpty, err)
		}
		return err
	})
}

func (h *HDFS) Walk(ctx context.Context, uri string, fn WalkFunc) error {
	root, err := h.Stat(ctx, uri)
	if err != nil {
		return err
	}
	return walkTree(ctx, h, root, fn)
}

// wrap turns a library error into *Error with a cause that matches the fs
// sentinel errors where HDFS said so.
func (h *HDFS) wrap(op, uri string, err error) error {
	if err == nil {
		return nil
	}
	var se *Error
	if errors.As(err, &se) {
		return err
	}
	return &Error{Op: op, URI: uri, Err: h.classify(err)}
}

// remoteException is an exception the NameNode or a DataNode sent back.
type remoteException struct {
	class string // Java class, e.g. org.apache.hadoop.security.AccessControlException
	msg   string // the first line of its message
	is    error  // the fs sentinel it means, if any
}

func (e *remoteException) Error() string {
	if e.msg == "" {
		return e.class
	}
	short := e.class[strings.LastIndex(e.class, ".")+1:]
	return short + ": " + e.msg
}

func (e *remoteException) Is(target error) bool { return e.is != nil && target == e.is }

// remoteSentinels maps Java exception classes to the fs errors callers test for.
var remoteSentinels = map[string]error{
	"java.io.FileNotFoundException":                                                  fs.ErrNotExist,
	"org.apache.hadoop.security.AccessControlException":                              fs.ErrPermission,
	"org.apache.hadoop.hdfs.protocol.FSLimitException$PathComponentTooLongException": fs.ErrInvalid,
	"org.apache.hadoop.fs.FileAlreadyExistsException":                                fs.ErrExist,
	"org.apache.hadoop.fs.ParentNotDirectoryException":                               errNotDir,
	"org.apache.hadoop.HadoopIllegalArgumentException":                               fs.ErrInvalid,
}

func isRemote(err error) bool {
	var re hdfs.Error
	return errors.As(err, &re)
}

func (h *HDFS) classify(err error) error {
	var done *remoteException
	if errors.As(err, &done) || strings.Contains(err.Error(), "as HDFS user") {
		return err // classified already
	}
	var re hdfs.Error
	if errors.As(err, &re) {
		msg := re.Message()
		if i := strings.IndexByte(msg, '\n'); i >= 0 {
			msg = msg[:i]
		}
		// Hadoop prefixes the class name to the message; drop the repeat.
		msg = strings.TrimSpace(strings.TrimPrefix(msg, re.Exception()+":"))
		if re.Exception() == "org.apache.hadoop.security.AccessControlException" && !strings.Contains(msg, "user=") {
			msg += " (as HDFS user " + h.user + ")"
		}
		return &remoteException{class: re.Exception(), msg: msg, is: remoteSentinels[re.Exception()]}
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return h.classify(pe.Err)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no answer within %s (raise CKPT_HDFS_TIMEOUT if HDFS is just slow): %w", h.timeout, err)
	}
	if errors.Is(err, fs.ErrPermission) {
		// The library keeps only "permission denied"; say who was denied.
		return fmt.Errorf("%w (as HDFS user %s)", err, h.user)
	}
	return err
}
