package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ckpt-dev/ckpt/peers"
)

// s3Conf is the -D configuration that reaches the S3 peer with keys.
func s3Conf(p *peers.S3Peer, access, secret string) map[string]string {
	return map[string]string{
		"s3.endpoint":          p.Endpoint,
		"s3.path.style.access": "true",
		"s3.access-key":        access,
		"s3.secret-key":        secret,
		"s3.endpoint.region":   p.Region,
	}
}

func s3Router(p *peers.S3Peer) *Router {
	return NewRouter(Options{Timeout: 30 * time.Second, Conf: s3Conf(p, p.AccessKey, p.SecretKey)})
}

// s3Base makes a fresh, empty directory on the S3 peer for t.
func s3Base(t *testing.T, p *peers.S3Peer, fsys FS) string {
	t.Helper()
	base := p.BaseURI(t)
	if err := fsys.MkdirAll(context.Background(), base); err != nil {
		t.Fatalf("S3 peer: mkdir %s: %v", base, err)
	}
	return base
}

func TestContractS3(t *testing.T) {
	p := peers.S3(t)
	fsys := s3Router(p)
	// The killed-writer child finds the peer the way an operator's ckpt
	// does: through Flink's configuration file.
	confDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(confDir, "config.yaml"), []byte(p.FlinkConf()), 0o600); err != nil {
		t.Fatal(err)
	}
	runContract(t, contractBackend{
		name:    "s3",
		fsys:    fsys,
		newBase: func(t *testing.T) string { return s3Base(t, p, fsys) },
		strangerProbe: func(t *testing.T, dir string, probes []probe) []probeResult {
			// The stranger's keys are valid but its user has no policy.
			stranger := NewRouter(Options{Timeout: 30 * time.Second, Conf: s3Conf(p, p.StrangerAccessKey, p.StrangerSecretKey)})
			return runProbes(stranger, probes)
		},
		childEnv:    []string{"FLINK_CONF_DIR=" + confDir},
		noDirRename: true,
		listCount:   1500,
	})
}

// s3Backend is the S3 filesystem a router made for the peer.
func s3Backend(t *testing.T, r *Router, p *peers.S3Peer) *S3 {
	t.Helper()
	fsys, err := r.For(context.Background(), "s3://"+p.Bucket+"/")
	if err != nil {
		t.Fatal(err)
	}
	return fsys.(*S3)
}

// putRaw puts objects with the SDK directly, in parallel: set-up that must
// not go through the code under test.
func putRaw(t *testing.T, s *S3, bucket string, objs map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	work := make(chan string)
	errc := make(chan error, len(objs))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range work {
				_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: bytes.NewReader(objs[k])})
				if err != nil {
					errc <- fmt.Errorf("put %s: %w", k, err)
				}
			}
		}()
	}
	for k := range objs {
		work <- k
	}
	close(work)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
}

func keyOf(t *testing.T, uri string) string {
	t.Helper()
	loc, err := Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(loc.Path, "/")
}

// More objects than one S3 listing returns: pages of at most 1,000, every
// object once, and du counting them from a flat listing.
func TestS3ListingPages(t *testing.T) {
	p := peers.S3(t)
	r := s3Router(p)
	s := s3Backend(t, r, p)
	ctx := context.Background()
	base := s3Base(t, p, r)
	const n = 2345
	objs := map[string][]byte{}
	var bytesTotal int64
	for i := range n {
		// Every 100th object is a level deeper: a directory entry.
		name := fmt.Sprintf("f-%05d", i)
		if i%100 == 0 {
			name = fmt.Sprintf("d-%05d/x", i)
		}
		data := []byte(name)
		objs[keyOf(t, Join(base, name))] = data
		bytesTotal += int64(len(data))
	}
	putRaw(t, s, p.Bucket, objs)

	l, err := r.List(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	pages := 0
	for {
		page, err := l.Next(ctx)
		if len(page) > listPage {
			t.Fatalf("a page of %d entries, more than %d", len(page), listPage)
		}
		if len(page) > 0 {
			pages++
		}
		for _, e := range page {
			if seen[e.Name] {
				t.Fatalf("%s listed twice", e.Name)
			}
			seen[e.Name] = true
			if e.IsDir != strings.HasPrefix(e.Name, "d-") || e.URI != Join(base, e.Name) {
				t.Fatalf("entry %+v", e)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n || pages < 3 {
		t.Fatalf("listed %d names in %d pages, want %d in at least 3", len(seen), pages, n)
	}
	want := Usage{Files: n, Dirs: 1 + n/100 + 1, Bytes: bytesTotal}
	if u, err := Summarize(ctx, r, base); err != nil || u != want {
		t.Fatalf("Summarize = %+v, %v; want %+v", u, err, want)
	}
	if u, err := DiskUsage(ctx, r, base); err != nil || u != want {
		t.Fatalf("DiskUsage = %+v, %v; want %+v", u, err, want)
	}
}

// Writes past the part size go up as a multipart upload, invisible until
// Close; Abort drops the upload.
func TestS3Multipart(t *testing.T) {
	p := peers.S3(t)
	r := s3Router(p)
	s := s3Backend(t, r, p)
	s.partSize = minS3PartSize
	ctx := context.Background()
	base := s3Base(t, p, r)
	uri := Join(base, "big")
	data := testData(2*minS3PartSize+minS3PartSize/2+7, 11)

	w, err := r.Create(ctx, uri, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:2*minS3PartSize+10]); err != nil {
		t.Fatal(err)
	}
	up, _ := w.(*objWriter).up.(*s3Upload)
	if up == nil || up.id == nil || len(up.parts) != 2 {
		t.Fatalf("after two parts' worth: upload %+v", up)
	}
	if _, err := r.Stat(ctx, uri); !IsNotExist(err) {
		t.Fatalf("target visible mid-upload: %v", err)
	}
	if _, err := w.Write(data[2*minS3PartSize+10:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &p.Bucket, Key: aws.String(keyOf(t, uri))})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(h.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
		t.Fatalf("ETag %s: not a 3-part multipart object", etag)
	}
	got, err := ReadAll(ctx, r, uri)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), differs", len(got), err)
	}
	if names, _ := ListAll(ctx, r, base); len(names) != 1 {
		t.Fatalf("after Close the dir holds %v, want only big", names)
	}

	// Abort mid-upload: no object, no upload left on the server.
	w, err = r.Create(ctx, Join(base, "aborted"), CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data[:minS3PartSize+1]); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &p.Bucket, Prefix: aws.String(keyOf(t, Join(base, "aborted")))})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left after Abort", len(ups.Uploads))
	}
	if names, _ := ListAll(ctx, r, base); len(names) != 1 {
		t.Fatalf("after Abort the dir holds %v, want only big", names)
	}
}

// A read pins the object it opened: replaced underneath, it fails loudly
// rather than mixing two versions' bytes. Ranged reads fetch only their range.
func TestS3ReadPinsTheObject(t *testing.T) {
	p := peers.S3(t)
	r := s3Router(p)
	ctx := context.Background()
	base := s3Base(t, p, r)
	uri := Join(base, "f")
	old := testData(100_000, 1)
	if err := WriteFile(ctx, r, uri, old, CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := r.Open(ctx, uri)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 10)
	if _, err := f.ReadAt(buf, 50_000); err != nil || !bytes.Equal(buf, old[50_000:50_010]) {
		t.Fatalf("ReadAt: %v", err)
	}
	if err := WriteFile(ctx, r, uri, testData(100_000, 2), CreateOptions{Overwrite: true}); err != nil {
		t.Fatal(err)
	}
	_, err = f.ReadAt(buf, 0)
	if err == nil || !strings.Contains(err.Error(), "replaced while being read") || !strings.Contains(err.Error(), uri) {
		t.Fatalf("ReadAt after the object was replaced: %v", err)
	}
}

// Every error names the URI, the bucket and the cause, and comes within
// the configured bound.
func TestS3Errors(t *testing.T) {
	p := peers.S3(t)
	ctx := context.Background()
	// A port nothing listens on, and one that accepts and never answers.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	conf := func(edit func(m map[string]string)) map[string]string {
		m := s3Conf(p, p.AccessKey, p.SecretKey)
		m["s3.attempts.maximum"] = "2"
		if edit != nil {
			edit(m)
		}
		return m
	}
	cases := []struct {
		name    string
		conf    map[string]string
		uri     string
		want    []string
		is      error
		maxTime time.Duration
	}{
		{"no such bucket", conf(nil), "s3://ckpt-no-such-bucket/job/chk-1", []string{"no such bucket", `"ckpt-no-such-bucket"`}, fs.ErrNotExist, 0},
		{"access denied", conf(func(m map[string]string) {
			m["s3.access-key"], m["s3.secret-key"] = p.StrangerAccessKey, p.StrangerSecretKey
		}),
			"s3://" + p.Bucket + "/x", []string{"access denied", `"` + p.Bucket + `"`, "s3.access-key (-D)"}, fs.ErrPermission, 0},
		{"wrong secret", conf(func(m map[string]string) { m["s3.secret-key"] = "not-the-secret" }),
			"s3://" + p.Bucket + "/x", []string{"credentials rejected", `"` + p.Bucket + `"`, "SignatureDoesNotMatch"}, fs.ErrPermission, 0},
		{"bad endpoint", conf(func(m map[string]string) { m["s3.endpoint"] = "http://" + closedAddr }),
			"s3://" + p.Bucket + "/x", []string{"cannot reach S3 endpoint http://" + closedAddr, `"` + p.Bucket + `"`, "connection refused"}, nil, 20 * time.Second},
		{"silent endpoint", conf(func(m map[string]string) { m["s3.endpoint"] = "http://" + silent.Addr().String() }),
			"s3://" + p.Bucket + "/x", []string{"no answer from S3 endpoint http://" + silent.Addr().String() + " within"}, nil, 8 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRouter(Options{Timeout: 3 * time.Second, Conf: tc.conf})
			start := time.Now()
			_, err := r.Stat(ctx, tc.uri)
			took := time.Since(start)
			var se *Error
			if err == nil || !errors.As(err, &se) || se.URI != tc.uri || !strings.Contains(err.Error(), tc.uri) {
				t.Fatalf("stat %s: %v; want an *Error naming the URI", tc.uri, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %q does not match %v", err, tc.is)
			}
			if tc.maxTime > 0 && took > tc.maxTime {
				t.Errorf("took %s, bound %s", took, tc.maxTime)
			}
			// Listing says the same.
			if _, err := r.List(ctx, tc.uri); err == nil || !strings.Contains(err.Error(), tc.want[0]) {
				t.Errorf("list: %v", err)
			}
		})
	}
}

// Throttling (503 SlowDown) is retried with backoff up to the configured
// attempts; past them the error says so.
func TestS3RetriesThrottling(t *testing.T) {
	p := peers.S3(t)
	target, err := url.Parse(p.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	throttle, seen := 0, 0
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		seen++
		slow := throttle > 0
		if slow {
			throttle--
		}
		mu.Unlock()
		if slow {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		proxy.ServeHTTP(w, req) // Host stays the proxy's: the signature covers it
	}))
	defer srv.Close()
	ctx := context.Background()
	conf := s3Conf(p, p.AccessKey, p.SecretKey)
	conf["s3.endpoint"] = srv.URL
	conf["s3.attempts.maximum"] = "4"
	r := NewRouter(Options{Timeout: 30 * time.Second, Conf: conf})
	uri := "s3://" + p.Bucket + "/"

	mu.Lock()
	throttle, seen = 3, 0
	mu.Unlock()
	if _, err := r.Stat(ctx, uri); err != nil {
		t.Fatalf("stat through 3 throttled answers (4 attempts): %v", err)
	}
	mu.Lock()
	if seen != 4 {
		t.Errorf("%d requests for one call, want 4 (3 throttled + 1)", seen)
	}
	throttle, seen = 100, 0
	mu.Unlock()
	_, err = r.Stat(ctx, uri)
	if err == nil || !strings.Contains(err.Error(), "SlowDown") || !strings.Contains(err.Error(), p.Bucket) {
		t.Fatalf("stat while always throttled: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != 4 {
		t.Errorf("%d requests before giving up, want 4", seen)
	}
}

// Every delete path removes exactly the one object it names: precious
// objects beside it — siblings, names sharing its prefix as text, objects
// below a directory — keep their bytes.
func TestS3DeletesTouchOnlyTheirObject(t *testing.T) {
	p := peers.S3(t)
	r := s3Router(p)
	s := s3Backend(t, r, p)
	ctx := context.Background()
	base := s3Base(t, p, r)
	k := func(rel string) string {
		if strings.HasSuffix(rel, "/") {
			return keyOf(t, Join(base, rel)) + "/" // a marker
		}
		return keyOf(t, Join(base, rel))
	}
	u := func(rel string) string { return Join(base, rel) }
	want := map[string][]byte{k("") + "/": {}} // base's marker
	put := func(rel string, data []byte) {
		putRaw(t, s, p.Bucket, map[string][]byte{k(rel): data})
		want[k(rel)] = append([]byte{}, data...)
	}
	putMarker := func(rel string) {
		putRaw(t, s, p.Bucket, map[string][]byte{k(rel + "/"): nil})
		want[k(rel+"/")] = []byte{}
	}
	for _, rel := range []string{"job/chk-1/_metadata", "job/chk-1/a", "job/chk-10/x", "job/chk-1.precious",
		"job/chk-1-precious", "job/shared/s1", "job/empty-precious", "job/emptyX/y", "job/implicit/z", "job/keep"} {
		put(rel, testData(64, uint64(len(rel))))
	}
	putMarker("job/empty")
	putMarker("job/chk-1")
	check := func(step string) {
		t.Helper()
		got := map[string][]byte{}
		var token *string
		for {
			out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &p.Bucket, Prefix: aws.String(k("") + "/"), ContinuationToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				obj, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.Bucket, Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(obj.Body)
				obj.Body.Close()
				got[aws.ToString(o.Key)] = b
			}
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			token = out.NextContinuationToken
		}
		for key, data := range want {
			if g, ok := got[key]; !ok || !bytes.Equal(g, data) {
				t.Fatalf("after %s: %s is gone or changed (present: %v)", step, key, ok)
			}
		}
		for key := range got {
			if _, ok := want[key]; !ok {
				t.Fatalf("after %s: unexpected object %s", step, key)
			}
		}
	}
	check("set-up")

	steps := []struct {
		name string
		do   func() error
		gone []string // keys the step removes
		add  []string // keys it adds (with the bytes they had under gone[i])
		is   error    // the error it must return (nil = success)
	}{
		{"remove one file", func() error { return r.Remove(ctx, u("job/chk-1/a")) }, []string{"job/chk-1/a"}, nil, nil},
		{"remove a non-empty dir", func() error { return r.Remove(ctx, u("job/chk-1")) }, nil, nil, ErrNotEmpty},
		{"remove a dir with objects but no marker", func() error { return r.Remove(ctx, u("job/implicit")) }, nil, nil, ErrNotEmpty},
		{"remove an empty dir", func() error { return r.Remove(ctx, u("job/empty")) }, []string{"job/empty/"}, nil, nil},
		{"remove a name that is only a text prefix of others", func() error { return r.Remove(ctx, u("job/chk")) }, nil, nil, nil},
		{"rename _metadata", func() error { return r.Rename(ctx, u("job/chk-1/_metadata"), u("job/chk-1/_disposing")) },
			[]string{"job/chk-1/_metadata"}, []string{"job/chk-1/_disposing"}, nil},
		{"rename onto a precious object", func() error { return r.Rename(ctx, u("job/chk-1/_disposing"), u("job/keep")) }, nil, nil, fs.ErrExist},
		{"rename a directory", func() error { return r.Rename(ctx, u("job/chk-10"), u("job/chk-11")) }, nil, nil, errors.ErrUnsupported},
		{"abort a write", func() error {
			w, err := r.Create(ctx, u("job/chk-1/b"), CreateOptions{})
			if err != nil {
				return err
			}
			w.Write([]byte("partial"))
			return w.Abort()
		}, nil, nil, nil},
		{"abort an overwrite of a precious object", func() error {
			w, err := r.Create(ctx, u("job/keep"), CreateOptions{Overwrite: true})
			if err != nil {
				return err
			}
			w.Write([]byte("never"))
			return w.Abort()
		}, nil, nil, nil},
		{"close onto a precious object that appeared meanwhile", func() error {
			w, err := r.Create(ctx, u("job/late"), CreateOptions{})
			if err != nil {
				return err
			}
			w.Write([]byte("loser"))
			put("job/late", []byte("precious"))
			return w.Close()
		}, nil, nil, fs.ErrExist},
		{"remove the empty chk-1 after its files", func() error {
			if err := r.Remove(ctx, u("job/chk-1/_disposing")); err != nil {
				return err
			}
			return r.Remove(ctx, u("job/chk-1"))
		}, []string{"job/chk-1/_disposing", "job/chk-1/"}, nil, nil},
	}
	for _, st := range steps {
		err := st.do()
		if st.is == nil && err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.is != nil && !errors.Is(err, st.is) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.is)
		}
		for i, g := range st.gone {
			if i < len(st.add) {
				want[k(st.add[i])] = want[k(g)]
			}
			delete(want, k(g))
		}
		check(st.name)
	}
}

// A file anywhere above a new directory stops MkdirAll, and nothing is
// made; an existing directory is made again without complaint.
func TestS3MkdirAllBelowAFile(t *testing.T) {
	p := peers.S3(t)
	r := s3Router(p)
	ctx := context.Background()
	base := s3Base(t, p, r)
	if err := WriteFile(ctx, r, Join(base, "f"), []byte("x"), CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deep := Join(base, "f", "b", "c")
	err := r.MkdirAll(ctx, deep)
	if err == nil || !strings.Contains(err.Error(), Join(base, "f")+" is a file") || !strings.Contains(err.Error(), deep) {
		t.Fatalf("mkdir below a file two levels up: %v", err)
	}
	if _, err := r.Stat(ctx, Join(base, "f", "b")); !IsNotExist(err) {
		t.Fatalf("a refused mkdir left something: %v", err)
	}
	for range 2 {
		if err := r.MkdirAll(ctx, Join(base, "d", "e")); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := ListAll(ctx, r, base); err != nil || len(got) != 2 {
		t.Fatalf("base holds %v, %v", got, err)
	}
}
