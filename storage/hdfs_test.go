package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2/hadoopconf"

	"github.com/ckpt-dev/ckpt/peers"
)

// ops is every kind of call a caller makes, each of which must come back
// within the bound when the NameNode is gone or silent.
var boundedOps = []struct {
	name string
	do   func(ctx context.Context, fsys FS, uri string) error
}{
	{"stat", func(ctx context.Context, fsys FS, uri string) error { _, err := fsys.Stat(ctx, uri); return err }},
	{"list", func(ctx context.Context, fsys FS, uri string) error { _, err := ListAll(ctx, fsys, uri); return err }},
	{"open", func(ctx context.Context, fsys FS, uri string) error { _, err := fsys.Open(ctx, uri); return err }},
	{"create", func(ctx context.Context, fsys FS, uri string) error {
		return WriteFile(ctx, fsys, Join(uri, "f"), []byte("x"), CreateOptions{})
	}},
	{"mkdir", func(ctx context.Context, fsys FS, uri string) error { return fsys.MkdirAll(ctx, uri) }},
	{"rename", func(ctx context.Context, fsys FS, uri string) error { return fsys.Rename(ctx, uri, uri+"-2") }},
	{"remove", func(ctx context.Context, fsys FS, uri string) error { return fsys.Remove(ctx, uri) }},
	{"lstat", func(ctx context.Context, fsys FS, uri string) error { _, err := fsys.Lstat(ctx, uri); return err }},
	{"walk", func(ctx context.Context, fsys FS, uri string) error {
		return fsys.Walk(ctx, uri, func(FileInfo) error { return nil })
	}},
	{"du", func(ctx context.Context, fsys FS, uri string) error { _, err := Summarize(ctx, fsys, uri); return err }},
}

// silentNameNode accepts connections and never answers: the worst case for
// a client without deadlines.
func silentNameNode(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c) // read whatever comes, say nothing
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// deadPort is a loopback port nobody listens on (connection refused).
func deadPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestHDFSNameNodeUnreachableOrSilent(t *testing.T) {
	const bound = 700 * time.Millisecond
	cases := []struct {
		name     string
		addr     string
		wantText string
		timeout  bool
	}{
		{"refused", deadPort(t), "unreachable", false},
		{"silent", silentNameNode(t), "no answer from NameNode", true},
	}
	for _, tc := range cases {
		for _, op := range boundedOps {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				fsys := NewRouter(Options{Timeout: bound, User: "u"})
				uri := "hdfs://" + tc.addr + "/ckpt/job"
				start := time.Now()
				err := op.do(context.Background(), fsys, uri)
				took := time.Since(start)
				if err == nil {
					t.Fatal("no error")
				}
				// Walk and du make one call that fails; create/rename make
				// at most two. Allow slack for a loaded machine.
				if took > 3*bound+time.Second {
					t.Fatalf("took %s with a %s bound", took, bound)
				}
				var se *Error
				if !errors.As(err, &se) || !strings.Contains(err.Error(), uri) || !strings.Contains(err.Error(), tc.addr) || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("error %q: want an *Error naming %s, the NameNode and %q", err, uri, tc.wantText)
				}
				if tc.timeout && !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("error %q does not match context.DeadlineExceeded", err)
				}
			})
		}
	}
}

func TestHDFSContextDeadlineWinsOverTimeout(t *testing.T) {
	fsys := NewRouter(Options{Timeout: time.Minute, User: "u"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fsys.Stat(ctx, "hdfs://"+silentNameNode(t)+"/x")
	if took := time.Since(start); err == nil || took > 2*time.Second {
		t.Fatalf("stat took %s, err %v; want the context's 300ms deadline to bound it", took, err)
	}
	// Cancelling (not a deadline) is reported as such, and keeps the
	// connection: a TUI that moves on must not break other calls. Missing
	// the deadline drops it, so the next call dials afresh.
	silent := "hdfs://" + silentNameNode(t) + "/x"
	b, _ := fsys.For(context.Background(), silent)
	h := b.(*HDFS)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = fsys.Stat(ctx, silent)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "canceled") {
		t.Fatalf("cancelled stat: %v", err)
	}
	if h.current() == nil {
		t.Fatal("a cancelled call dropped the shared connection")
	}
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := fsys.Stat(ctx, silent); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stat past its deadline: %v", err)
	}
	if h.current() != nil {
		t.Fatal("a call without an answer in time kept its connection")
	}
}

func TestHDFSTimeoutFromEnv(t *testing.T) {
	cases := []struct {
		opt     time.Duration
		env     string
		want    time.Duration
		wantErr bool
	}{
		{0, "", DefaultTimeout, false},
		{5 * time.Second, "1s", 5 * time.Second, false}, // the option wins
		{0, "2500ms", 2500 * time.Millisecond, false},
		{0, "7", 7 * time.Second, false},
		{0, "soon", 0, true},
		{0, "-3s", 0, true},
	}
	for _, tc := range cases {
		t.Setenv("CKPT_HDFS_TIMEOUT", tc.env)
		got, err := resolveTimeout(tc.opt)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("opt %s env %q: %s, %v; want %s (error %v)", tc.opt, tc.env, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "CKPT_HDFS_TIMEOUT") {
			t.Errorf("error %q does not name the variable", err)
		}
	}
}

func TestHDFSUserResolution(t *testing.T) {
	t.Setenv("HADOOP_USER_NAME", "")
	osUser, err := resolveUser("")
	if err != nil || osUser == "" {
		t.Fatalf("OS user: %q, %v", osUser, err)
	}
	t.Setenv("HADOOP_USER_NAME", "flink")
	if u, _ := resolveUser(""); u != "flink" {
		t.Errorf("HADOOP_USER_NAME ignored: %q", u)
	}
	if u, _ := resolveUser("alice"); u != "alice" {
		t.Errorf("explicit user ignored: %q", u)
	}
}

func writeConf(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	for name, props := range files {
		body := "<?xml version=\"1.0\"?>\n<configuration>\n" + props + "</configuration>\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func prop(k, v string) string {
	return "<property><name>" + k + "</name><value>" + v + "</value></property>\n"
}

func TestResolveNameNodes(t *testing.T) {
	ha := hadoopconf.HadoopConf{
		"fs.defaultFS":                         "hdfs://prod",
		"dfs.nameservices":                     "prod",
		"dfs.ha.namenodes.prod":                "nn1, nn2",
		"dfs.namenode.rpc-address.prod.nn1":    "m1:8020",
		"dfs.namenode.rpc-address.prod.nn2":    "m2:8020",
		"dfs.ha.namenodes.broken":              "a",
		"dfs.namenode.rpc-address.other.nn1":   "x:1",
		"dfs.namenode.rpc-address.unrelated.a": "y:1",
	}
	cases := []struct {
		name      string
		authority string
		conf      hadoopconf.HadoopConf
		want      string
		wantErr   string
	}{
		{"explicit host:port", "nn:9000", nil, "nn:9000", ""},
		{"host without port", "nn", nil, "nn:8020", ""},
		{"ipv6", "[::1]:9000", nil, "[::1]:9000", ""},
		{"defaultFS", "", hadoopconf.HadoopConf{"fs.defaultFS": "hdfs://127.0.0.1:9000"}, "127.0.0.1:9000", ""},
		{"defaultFS without port", "", hadoopconf.HadoopConf{"fs.defaultFS": "hdfs://nn/"}, "nn:8020", ""},
		{"hadoop 1 key", "", hadoopconf.HadoopConf{"fs.default.name": "hdfs://old:54310"}, "old:54310", ""},
		{"HA via defaultFS", "", ha, "m1:8020,m2:8020", ""},
		{"HA by name", "prod", ha, "m1:8020,m2:8020", ""},
		{"HA without addresses", "broken", ha, "", "no dfs.namenode.rpc-address.broken"},
		{"no defaultFS", "", hadoopconf.HadoopConf{}, "", "needs fs.defaultFS"},
		{"defaultFS not hdfs", "", hadoopconf.HadoopConf{"fs.defaultFS": "file:///"}, "", "not an hdfs"},
		{"bad port", "nn:http", nil, "", "bad port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolveNameNodes(tc.authority, "/etc/hadoop", tc.conf)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, ",") != tc.want {
				t.Fatalf("got %q, %v; want %s", got, err, tc.want)
			}
		})
	}
}

func TestHadoopConfDirOrder(t *testing.T) {
	root := t.TempDir()
	confDir := filepath.Join(root, "conf")
	home := filepath.Join(root, "home")
	writeConf(t, confDir, map[string]string{"core-site.xml": prop("fs.defaultFS", "hdfs://from-conf-dir:1")})
	writeConf(t, filepath.Join(home, "etc", "hadoop"), map[string]string{
		"core-site.xml": prop("fs.defaultFS", "hdfs://from-home:2"),
		"hdfs-site.xml": prop("dfs.client.use.datanode.hostname", "true"),
	})
	explicit := filepath.Join(root, "explicit")
	writeConf(t, explicit, map[string]string{"core-site.xml": prop("fs.defaultFS", "hdfs://explicit:3")})

	cases := []struct {
		name, opt, confEnv, homeEnv string
		want                        string
	}{
		{"option first", explicit, confDir, home, "explicit:3"},
		{"HADOOP_CONF_DIR", "", confDir, home, "from-conf-dir:1"},
		{"HADOOP_HOME/etc/hadoop", "", "", home, "from-home:2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HADOOP_CONF_DIR", tc.confEnv)
			t.Setenv("HADOOP_HOME", tc.homeEnv)
			h, err := newHDFS("", Options{ConfDir: tc.opt, User: "u"})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(h.Addresses(), ","); got != tc.want {
				t.Fatalf("NameNode %s, want %s", got, tc.want)
			}
		})
	}
	t.Setenv("HADOOP_CONF_DIR", "")
	t.Setenv("HADOOP_HOME", "")
	_, err := newHDFS("", Options{User: "u"})
	if err == nil || !strings.Contains(err.Error(), "HADOOP_CONF_DIR") {
		t.Fatalf("no configuration anywhere: %v", err)
	}
	// A broken file is an error naming it, not an empty configuration.
	bad := filepath.Join(root, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "core-site.xml"), []byte("<configuration><property>"), 0o644)
	if _, err := newHDFS("", Options{ConfDir: bad, User: "u"}); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("broken core-site.xml: %v", err)
	}
	kerb := filepath.Join(root, "kerb")
	writeConf(t, kerb, map[string]string{"core-site.xml": prop("hadoop.security.authentication", "kerberos")})
	if _, err := newHDFS("nn:1", Options{ConfDir: kerb, User: "u"}); err == nil || !strings.Contains(err.Error(), "Kerberos") {
		t.Fatalf("kerberos conf: %v", err)
	}
}

// TestHDFSDefaultFS reaches the peer through hdfs:///, resolving the
// NameNode from the core-site.xml the peer wrote, as Hadoop tools do.
func TestHDFSDefaultFS(t *testing.T) {
	p := peers.HDFS(t)
	base := p.BaseURI(t)
	loc, _ := Parse(base)
	ctx := context.Background()
	if err := WriteFile(ctx, NewRouter(Options{}), Join(base, "f"), []byte("hello"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HADOOP_HOME", "")
	t.Setenv("HADOOP_CONF_DIR", p.ConfDir)
	short := "hdfs://" + loc.Path
	fsys := NewRouter(Options{})
	got, err := ReadAll(ctx, fsys, Join(short, "f"))
	if err != nil || string(got) != "hello" {
		t.Fatalf("read via %s: %q, %v", short, got, err)
	}
	ents, err := ListAll(ctx, fsys, short)
	if err != nil || len(ents) != 1 || ents[0].URI != short+"/f" {
		t.Fatalf("list %s = %+v, %v; entries keep the hdfs:/// spelling", short, ents, err)
	}
	// The option beats the environment.
	t.Setenv("HADOOP_CONF_DIR", t.TempDir())
	if _, err := NewRouter(Options{ConfDir: p.ConfDir}).Stat(ctx, Join(short, "f")); err != nil {
		t.Fatalf("ConfDir option: %v", err)
	}
}

// TestHDFSActsAsUser checks that the user reaches the NameNode: files are
// owned by it, and the permission error names it.
func TestHDFSActsAsUser(t *testing.T) {
	p := peers.HDFS(t)
	base := p.BaseURI(t)
	ctx := context.Background()
	t.Setenv("HADOOP_USER_NAME", "flink")
	fsys := NewRouter(Options{})
	if err := WriteFile(ctx, fsys, Join(base, "by-flink"), []byte("x"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fi, err := fsys.Stat(ctx, Join(base, "by-flink"))
	if err != nil || fi.Owner != "flink" || fi.Group == "" {
		t.Fatalf("owner %q group %q, %v; want flink", fi.Owner, fi.Group, err)
	}
	if err := fsys.MkdirAll(ctx, Join(base, "flink-only")); err != nil {
		t.Fatal(err)
	}
	other := NewRouter(Options{User: "mallory"})
	err = WriteFile(ctx, other, Join(base, "flink-only", "x"), []byte("x"), CreateOptions{})
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "mallory") {
		t.Fatalf("write into another user's dir: %v", err)
	}
}

// proxy forwards TCP to target until told to go silent or down, standing in
// for a NameNode that hangs or dies under a connected client.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	silent bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.up("127.0.0.1:0")
	t.Cleanup(p.down)
	return p
}

func (p *proxy) up(addr string) {
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger briefly after down()
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr, p.silent = ln, ln.Addr().String(), false
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			silent := p.silent
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			if silent {
				go io.Copy(io.Discard, c)
				continue
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, up)
			p.mu.Unlock()
			go p.pump(up, c)
			go p.pump(c, up)
		}
	}()
}

// pump copies while the proxy is not silent; once silent it swallows.
func (p *proxy) pump(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if err != nil {
			dst.Close()
			return
		}
		p.mu.Lock()
		silent := p.silent
		p.mu.Unlock()
		if !silent {
			dst.Write(buf[:n])
		}
	}
}

func (p *proxy) setSilent() { p.mu.Lock(); p.silent = true; p.mu.Unlock() }

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestHDFSNameNodeHangsThenDiesThenReturns drives one client through a
// NameNode that stops answering, then goes away, then comes back: each
// failure is bounded and names the URI, and the client recovers by itself
// (no restart of ckpt, no multi-second back-off).
func TestHDFSNameNodeHangsThenDiesThenReturns(t *testing.T) {
	peer := peers.HDFS(t)
	base := peer.BaseURI(t)
	loc, _ := Parse(base)
	px := newProxy(t, peer.Addr)
	uri := "hdfs://" + px.addr + loc.Path
	ctx := context.Background()
	const bound = time.Second
	fsys := NewRouter(Options{Timeout: bound})
	if err := fsys.MkdirAll(ctx, Join(uri, "d")); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	stat := func() (time.Duration, error) {
		start := time.Now()
		_, err := fsys.Stat(ctx, Join(uri, "d"))
		return time.Since(start), err
	}

	px.setSilent()
	took, err := stat()
	if err == nil || took > 3*bound || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), Join(uri, "d")) {
		t.Fatalf("silent NameNode: %v after %s", err, took)
	}

	px.down()
	took, err = stat()
	if err == nil || took > 3*bound || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("NameNode down: %v after %s", err, took)
	}

	px.up(px.addr)
	took, err = stat()
	if err != nil {
		t.Fatalf("NameNode back: still failing after %s: %v", took, err)
	}
	if took > bound {
		t.Errorf("first call after the NameNode returned took %s", took)
	}
}
