package storage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
)

// objPeer is one real object-store peer (Azurite, fake-gcs-server) as the
// tests below need it: the same tests run against each.
type objPeer struct {
	name string
	// conf is the -D configuration that reaches the peer.
	conf func() map[string]string
	// endpointKey is the key that overrides the endpoint; endpoint turns a
	// host:port (or URL) into its value.
	endpointKey string
	endpoint    func(hostport string) string
	// base is a fresh prefix URI for t.
	base func(t *testing.T) string
	// bucket is the peer's bucket (container).
	bucket string
	// missingBucket is a URI in a bucket (container) that does not exist.
	missingBucket string
	// partKey sets the part size to 256 KiB.
	partKey, partValue string
}

func azureObjPeer(t *testing.T) objPeer {
	p := peers.Azure(t)
	return objPeer{
		name:          "azure",
		conf:          func() map[string]string { return p.Conf(p.Key) },
		endpointKey:   "fs.azure.abfs.endpoint",
		endpoint:      func(hp string) string { return hp },
		base:          func(t *testing.T) string { return p.BaseURI(t) },
		bucket:        p.Container,
		missingBucket: "abfs://no-such-container@" + p.Host() + "/job/chk-1",
	}
}

func gcsObjPeer(t *testing.T) objPeer {
	p := peers.GCS(t)
	return objPeer{
		name:          "gcs",
		conf:          func() map[string]string { return gcsConf(p) },
		endpointKey:   "gs.storage.root.url",
		endpoint:      func(hp string) string { return "http://" + hp + "/" },
		base:          func(t *testing.T) string { return p.BaseURI(t) },
		bucket:        p.Bucket,
		missingBucket: "gs://ckpt-no-such-bucket/job/chk-1",
		partKey:       "gs.writer.chunk.size", partValue: "256kb",
	}
}

func forEachObjPeer(t *testing.T, fn func(t *testing.T, p objPeer)) {
	t.Run("azure", func(t *testing.T) { fn(t, azureObjPeer(t)) })
	t.Run("gcs", func(t *testing.T) { fn(t, gcsObjPeer(t)) })
}

func (p objPeer) router(edit func(m map[string]string)) *Router {
	m := p.conf()
	if edit != nil {
		edit(m)
	}
	return NewRouter(Options{Timeout: 30 * time.Second, Conf: m})
}

// objStoreOf is the backend's store: set-up and checks below go through it
// directly, not through objectFS, the code under test.
func objStoreOf(t *testing.T, r *Router, uri string) (*objectFS, string) {
	t.Helper()
	fsys, err := r.For(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := Parse(uri)
	switch b := fsys.(type) {
	case *Azure:
		c, _, _ := azureAuthority(loc.Authority)
		return b.objectFS, c
	case *GCS:
		return b.objectFS, loc.Authority
	}
	t.Fatalf("%s is not an object store: %T", uri, fsys)
	return nil, ""
}

// Every delete path removes exactly the one object it names: precious
// objects beside it — siblings, names sharing its prefix as text, objects
// below a directory — keep their bytes.
func TestObjectDeletesTouchOnlyTheirObject(t *testing.T) {
	forEachObjPeer(t, func(t *testing.T, p objPeer) {
		r := p.router(nil)
		ctx := context.Background()
		base := p.base(t)
		o, bucket := objStoreOf(t, r, base)
		prefix := strings.TrimPrefix(mustParse(t, base).Path, "/") + "/"
		want := map[string][]byte{}
		put := func(rel string, data []byte) {
			t.Helper()
			if err := o.store.put(ctx, bucket, prefix+rel, data, false); err != nil {
				t.Fatal(err)
			}
			want[prefix+rel] = append([]byte{}, data...)
		}
		put("", nil) // base's marker
		for _, rel := range []string{"job/chk-1/_metadata", "job/chk-1/a", "job/chk-10/x", "job/chk-1.precious",
			"job/chk-1-precious", "job/shared/s1", "job/empty-precious", "job/emptyX/y", "job/implicit/z", "job/keep"} {
			put(rel, testData(64, uint64(len(rel))))
		}
		put("job/empty/", nil)
		put("job/chk-1/", nil)
		check := func(step string) {
			t.Helper()
			got := map[string][]byte{}
			token := ""
			for {
				pg, err := o.store.list(ctx, bucket, prefix, "", token, 1000)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range pg.objects {
					b := make([]byte, a.size)
					if a.size > 0 {
						if err := o.store.readRange(ctx, bucket, a.key, "", 0, b); err != nil {
							t.Fatal(err)
						}
					}
					got[a.key] = b
				}
				if pg.next == "" {
					break
				}
				token = pg.next
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
		u := func(rel string) string { return Join(base, rel) }
		steps := []struct {
			name string
			do   func() error
			gone []string
			add  []string
			is   error
		}{
			{"remove one file", func() error { return r.Remove(ctx, u("job/chk-1/a")) }, []string{"job/chk-1/a"}, nil, nil},
			{"remove a non-empty dir", func() error { return r.Remove(ctx, u("job/chk-1")) }, nil, nil, ErrNotEmpty},
			{"remove a dir with objects but no marker", func() error { return r.Remove(ctx, u("job/implicit")) }, nil, nil, ErrNotEmpty},
			{"remove an empty dir", func() error { return r.Remove(ctx, u("job/empty")) }, []string{"job/empty/"}, nil, nil},
			{"remove a name that is only a text prefix of others", func() error { return r.Remove(ctx, u("job/chk")) }, nil, nil, nil},
			{"remove the bucket's root", func() error { return r.Remove(ctx, mustRoot(t, base)) }, nil, nil, nil},
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
			if st.name == "remove the bucket's root" {
				if err == nil || !strings.Contains(err.Error(), "refusing") {
					t.Fatalf("%s: %v, want a refusal", st.name, err)
				}
			} else if st.is == nil && err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if st.is != nil && !errors.Is(err, st.is) {
				t.Fatalf("%s: %v, want %v", st.name, err, st.is)
			}
			for i, g := range st.gone {
				if i < len(st.add) {
					want[prefix+st.add[i]] = want[prefix+g]
				}
				delete(want, prefix+g)
			}
			check(st.name)
		}
	})
}

func mustParse(t *testing.T, uri string) Location {
	t.Helper()
	loc, err := Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustRoot(t *testing.T, uri string) string {
	loc := mustParse(t, uri)
	loc.Path = "/"
	return loc.String()
}

// Large files go up in parts (Azure blocks, GCS resumable chunks): the
// bytes arrive whole, nothing is visible before Close, and a target that
// appeared meanwhile still wins.
func TestObjectLargeUploadsInParts(t *testing.T) {
	forEachObjPeer(t, func(t *testing.T, p objPeer) {
		r := p.router(func(m map[string]string) {
			if p.partKey != "" {
				m[p.partKey] = p.partValue
			}
		})
		ctx := context.Background()
		base := p.base(t)
		if err := r.MkdirAll(ctx, base); err != nil {
			t.Fatal(err)
		}
		o, _ := objStoreOf(t, r, base)
		if p.partKey == "" {
			o.partSize = 256 << 10 // Azure blocks have no minimum: as small as GCS chunks
		}
		if o.partSize != 256<<10 {
			t.Fatalf("part size %d, want 256 KiB from %s", o.partSize, p.partKey)
		}
		data := testData(5*o.partSize/2+123, 9)
		uri := Join(base, "big")
		w, err := r.Create(ctx, uri, CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off < len(data); off += 100_000 {
			if _, err := w.Write(data[off:min(off+100_000, len(data))]); err != nil {
				t.Fatal(err)
			}
		}
		if ow := w.(*objWriter); ow.up == nil {
			t.Fatal("no part upload started for a file of 2.5 parts")
		}
		if _, err := r.Stat(ctx, uri); !IsNotExist(err) {
			t.Fatalf("visible before Close: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := ReadAll(ctx, r, uri)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes (%v), want %d equal", len(got), err, len(data))
		}
		// A parted upload racing a create of the same name: exactly one
		// wins, with its own bytes whole. (On GCS the create wins and the
		// upload is refused; Azurite counts the staged blocks as the blob
		// existing and refuses the create instead.)
		w, err = r.Create(ctx, Join(base, "raced"), CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		racerErr := WriteFile(ctx, r, Join(base, "raced"), []byte("winner"), CreateOptions{})
		closeErr := w.Close()
		got, _ = ReadAll(ctx, r, Join(base, "raced"))
		switch {
		case racerErr == nil && errors.Is(closeErr, fs.ErrExist):
			if string(got) != "winner" {
				t.Fatalf("the create won but the target holds %d other bytes", len(got))
			}
		case closeErr == nil && errors.Is(racerErr, fs.ErrExist):
			if !bytes.Equal(got, data) {
				t.Fatalf("the upload won but the target holds %d other bytes", len(got))
			}
		default:
			t.Fatalf("racing create: %v; upload's Close: %v; want exactly one fs.ErrExist", racerErr, closeErr)
		}
		if p.name == "gcs" && racerErr != nil {
			t.Errorf("on GCS the create should win: %v", racerErr)
		}
	})
}

// Every error names the URI, the bucket and the cause, within the bound.
func TestObjectErrors(t *testing.T) {
	forEachObjPeer(t, func(t *testing.T, p objPeer) {
		ctx := context.Background()
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
		uri := p.base(t) + "/x"
		cases := []struct {
			name    string
			edit    func(m map[string]string)
			uri     string
			want    []string
			is      error
			maxTime time.Duration
		}{
			{"no such bucket", nil, p.missingBucket, []string{"no such", "no-such"}, fs.ErrNotExist, 0},
			{"bad endpoint", func(m map[string]string) { m[p.endpointKey] = p.endpoint(closedAddr) }, uri, []string{"cannot reach", closedAddr, "connection refused"}, nil, 20 * time.Second},
			{"silent endpoint", func(m map[string]string) { m[p.endpointKey] = p.endpoint(silent.Addr().String()) }, uri, []string{"no answer from", silent.Addr().String(), "within"}, nil, 8 * time.Second},
		}
		if p.name == "azure" {
			ap := peers.Azure(t)
			cases = append(cases, struct {
				name    string
				edit    func(m map[string]string)
				uri     string
				want    []string
				is      error
				maxTime time.Duration
			}{"wrong key", func(m map[string]string) { m["fs.azure.account.key."+ap.Host()] = ap.StrangerKey }, uri,
				// Azurite answers a bad signature with AuthorizationFailure
				// (Azure itself: AuthenticationFailed, "credentials rejected").
				[]string{"access denied", `"` + p.bucket + `"`, "AuthorizationFailure", "fs.azure.account.key." + ap.Host() + " (-D)"}, fs.ErrPermission, 0})
		} else {
			cases = append(cases, struct {
				name    string
				edit    func(m map[string]string)
				uri     string
				want    []string
				is      error
				maxTime time.Duration
			}{"access denied", func(m map[string]string) { m[p.endpointKey] = deniedGCS(t) }, uri,
				[]string{"access denied", `"` + p.bucket + `"`, "does not have storage.objects.get access"}, fs.ErrPermission, 0})
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				m := p.conf()
				m["gs.retry.max-attempt"] = "2"
				m["fs.azure.io.retry.max.retries"] = "1"
				if tc.edit != nil {
					tc.edit(m)
				}
				r := NewRouter(Options{Timeout: 3 * time.Second, Conf: m})
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
				if _, err := r.List(ctx, tc.uri); err == nil || !strings.Contains(err.Error(), tc.want[0]) {
					t.Errorf("list: %v", err)
				}
			})
		}
	})
}

// Throttling (503, 429) is retried with backoff up to the configured
// attempts; past them the error says so.
func TestObjectRetriesThrottling(t *testing.T) {
	forEachObjPeer(t, func(t *testing.T, p objPeer) {
		var target *url.URL
		m := p.conf()
		switch p.name {
		case "azure":
			target, _ = url.Parse("http://" + m[p.endpointKey])
		default:
			target, _ = url.Parse(m[p.endpointKey])
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
				io.Copy(io.Discard, req.Body)
				w.Header().Set("x-ms-error-code", "ServerBusy")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "ServerBusy: slow down")
				return
			}
			proxy.ServeHTTP(w, req)
		}))
		defer srv.Close()
		ctx := context.Background()
		r := p.router(func(m map[string]string) {
			m[p.endpointKey] = p.endpoint(strings.TrimPrefix(srv.URL, "http://"))
			m["gs.retry.max-attempt"] = "4"
			m["fs.azure.io.retry.max.retries"] = "3"
		})
		uri := mustRoot(t, p.base(t))
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
		_, err := r.Stat(ctx, uri)
		if err == nil || !strings.Contains(err.Error(), p.bucket) || !strings.Contains(err.Error(), uri) {
			t.Fatalf("stat while always throttled: %v", err)
		}
		mu.Lock()
		defer mu.Unlock()
		if seen != 4 {
			t.Errorf("%d requests before giving up, want 4", seen)
		}
	})
}
