package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/cluster/restserver"
	"github.com/ckpt-dev/ckpt/engine/config"
)

const restSpec = `name: faults-rest
parallelism: 2
config:
  execution.checkpointing.interval: 100 ms
  execution.checkpointing.num-retained: 2
pipeline:
  - op: generator
    uid: source
    keys: 100
    rate: 2000
  - op: keyBy
  - op: count
    uid: count
  - op: discard
    uid: sink
`

// restServer is ckpt serve's REST server, in process on loopback, over an
// embedded cluster with one running job.
type restServer struct {
	url, addr, jobID string
	c                *embedded.Cluster
	keep             precious
}

func startRESTServer(t *testing.T) *restServer {
	t.Helper()
	tmp := t.TempDir()
	s := &restServer{}
	s.keep.Put(t, filepath.Join(tmp, "ckpt", "PRECIOUS.txt"))
	s.keep.Put(t, filepath.Join(tmp, "savepoints", "PRECIOUS.txt"))
	cfg := config.New()
	for k, v := range map[string]string{
		config.CheckpointDir: filepath.Join(tmp, "ckpt"),
		config.SavepointDir:  filepath.Join(tmp, "savepoints"),
		config.LocalDir:      filepath.Join(tmp, "local"),
	} {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	s.c = embedded.New(embedded.Options{Config: cfg, Version: "ckpt-faults", Commit: "faults"})
	ctx, cancel := ctxT(time.Minute)
	defer cancel()
	id, err := s.c.SubmitSpec(ctx, "faults-rest.yaml", []byte(restSpec), cluster.RunRequest{})
	if err != nil {
		t.Fatal(err)
	}
	s.jobID = id
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// As cli/serve.go builds it.
	srv := &http.Server{Handler: restserver.New(s.c, restserver.Options{}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	s.addr = ln.Addr().String()
	s.url = "http://" + s.addr
	t.Cleanup(func() {
		sctx, cancel := ctxT(30 * time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		s.c.Close(sctx)
	})
	if !waitUntil(30*time.Second, func() bool { return s.checkpoints(t) >= 1 }) {
		t.Fatal("the job behind the REST server never checkpointed")
	}
	return s
}

// checkpoints is the job's completed checkpoint count, asked in process.
func (s *restServer) checkpoints(t *testing.T) int64 {
	ctx, cancel := ctxT(10 * time.Second)
	defer cancel()
	st, err := s.c.Checkpoints(ctx, s.jobID)
	if err != nil {
		t.Fatal(err)
	}
	return int64(st.Counts.Completed)
}

// malformed is one malformed request: an http.Request for the handler, or
// raw bytes for requests no HTTP client would send.
type malformed struct {
	kind string
	req  *http.Request
	raw  []byte
	// protocol marks a request Go's HTTP server refuses before ckpt's
	// handler sees it (its answer is net/http's, not JSON).
	protocol bool
}

// junkJSON is never a JSON object: unknown fields of an object are
// ignored (as Flink does), so an object could be a valid request.
var junkJSON = []string{
	`{`, `{"target-directory": `, `[1,2,3]`, `"str"`, `nul`, `{"a":1}}`, "\x00\x01\x02", `{"triggerId": [}`,
	`{"target-directory": "x", }`, `{'a': 1}`, `{"a" 1}`, `17`, `true`,
}

func genMalformed(rng *rand.Rand, s *restServer) malformed {
	id := s.jobID
	unknown := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
	jsonReq := func(method, path, body string) *http.Request {
		r, _ := http.NewRequest(method, s.url+path, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	switch k := rng.Intn(9); k {
	case 0: // bad JSON to every endpoint that takes a body
		paths := []string{"/jobs/" + id + "/savepoints", "/jobs/" + id + "/checkpoints", "/jobs/" + id + "/stop",
			"/savepoint-disposal", "/jars/" + unknown + "/run", "/v1/jobs/" + id + "/savepoints"}
		return malformed{kind: "bad JSON", req: jsonReq(http.MethodPost, paths[rng.Intn(len(paths))], junkJSON[rng.Intn(len(junkJSON))])}
	case 1: // a method a path is not served for
		paths := []string{"/overview", "/config", "/jobs", "/jobs/overview", "/jobs/" + id + "/exceptions",
			"/jobs/" + id + "/checkpoints/config", "/jars", "/savepoint-disposal", "/jobmanager/config"}
		methods := []string{http.MethodPut, http.MethodDelete, "OPTIONS", "TRACE", "PROPFIND", http.MethodPatch}
		r, _ := http.NewRequest(methods[rng.Intn(len(methods))], s.url+paths[rng.Intn(len(paths))], nil)
		return malformed{kind: "wrong method", req: r}
	case 2: // junk in the path
		junk := []string{"/jobs/zzzz", "/jobs/" + id + "0", "/jobs/" + unknown, "/jobs/" + id + "/checkpoints/details/abc",
			"/jobs/" + id + "/checkpoints/details/-3", "/jobs/" + id + "/checkpoints/details/99999999999999999999999",
			"/jobs/" + id + "/nope", "/v2/jobs", "/jobs/%00", "/jobs/%ff%fe", "/jobs/" + id + "/savepoints/xyz",
			"/jobs/" + id + "/checkpoints/" + unknown, "/savepoint-disposal/" + unknown, "/jobs/" + strings.Repeat("a", 4000),
			"/jobs/" + id + "/checkpoints/details/1/subtasks/zz", "/%e2%98%83", "/jars/" + unknown + "/plan"}
		r, _ := http.NewRequest(http.MethodGet, s.url+junk[rng.Intn(len(junk))], nil)
		return malformed{kind: "path junk", req: r}
	case 3: // bad query parameters
		qs := []string{"/jobs/" + id + "?mode=explode", "/jobs/" + id + "?mode=stop", "/jars/" + unknown + "/run?parallelism=abc",
			"/jars/" + unknown + "/run?allowNonRestoredState=maybe"}
		q := qs[rng.Intn(len(qs))]
		m := http.MethodPatch
		if strings.HasPrefix(q, "/jars") {
			m = http.MethodPost
		}
		r, _ := http.NewRequest(m, s.url+q, nil)
		return malformed{kind: "bad query", req: r}
	case 4: // a body that is not JSON where JSON is due
		types := []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"}
		r, _ := http.NewRequest(http.MethodPost, s.url+"/jobs/"+id+"/checkpoints", strings.NewReader(`{}`))
		r.Header.Set("Content-Type", types[rng.Intn(len(types))])
		return malformed{kind: "bad content type", req: r}
	case 5: // a request from another web origin or for another host name
		r, _ := http.NewRequest(http.MethodGet, s.url+"/jobs/overview", nil)
		if rng.Intn(2) == 0 {
			r.Host = "evil.example:8081" // a DNS-rebound name
			return malformed{kind: "foreign Host", req: r}
		}
		r.Header.Set("Origin", "http://evil.example")
		return malformed{kind: "foreign Origin", req: r}
	case 6: // an oversized body
		big := `{"target-directory": "` + strings.Repeat("x", 2<<20) + `"`
		return malformed{kind: "oversized body", req: jsonReq(http.MethodPost, "/jobs/"+id+"/savepoints", big)}
	case 7: // a body cut short: Content-Length says more than comes
		body := `{"target-directory": "/tmp/x", "cancel-job": fa`
		cut := 1 + rng.Intn(len(body)-1)
		raw := fmt.Sprintf("POST /jobs/%s/stop HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			id, s.addr, len(body)+50, body[:cut])
		return malformed{kind: "truncated body", raw: []byte(raw)}
	default: // headers no server should take
		bad := []string{
			"GET /jobs HTTP/1.1\r\nHost: %s\r\nX-Junk: " + strings.Repeat("y", 2<<20) + "\r\n\r\n",
			"POST /jobs/x/stop HTTP/1.1\r\nHost: %s\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n12345",
			"GET /jobs HTTP/1.1\r\nHost: %s\r\nBad Header Name: x\r\n\r\n",
			"GET /jobs HTTP/1.1\r\nHost: %s\r\nX-A: \x00\x01\r\n\r\n",
			"G\x00T /jobs HTTP/1.1\r\nHost: %s\r\n\r\n",
		}
		return malformed{kind: "bad headers", raw: []byte(fmt.Sprintf(bad[rng.Intn(len(bad))], s.addr)), protocol: true}
	}
}

// send sends one malformed request and returns its status, content type
// and body; an error is a hang or a dropped connection.
func (s *restServer) send(client *http.Client, m malformed) (int, string, []byte, error) {
	if m.req != nil {
		resp, err := client.Do(m.req)
		if err != nil {
			return 0, "", nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
	}
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		return 0, "", nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	go func() {
		c.Write(m.raw)
		c.(*net.TCPConn).CloseWrite()
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
}

func restFaults(t *testing.T, sz size) {
	s := startRESTServer(t)
	client := &http.Client{Timeout: 15 * time.Second}
	t.Run(fmt.Sprintf("malformed/seed=1/n=%d", sz.malformed), func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		before := s.checkpoints(t)
		byKind := map[string][2]int{} // kind → {sent, wrong}
		wrong := 0
		for i := 0; i < sz.malformed; i++ {
			m := genMalformed(rng, s)
			code, ctype, body, err := s.send(client, m)
			var why string
			switch {
			case err != nil:
				why = fmt.Sprintf("no answer: %v", err)
			case code >= 500:
				why = fmt.Sprintf("a server error %d", code)
			case code < 400 || code > 499:
				why = fmt.Sprintf("status %d, want a 4xx", code)
			case !m.protocol && (!strings.HasPrefix(ctype, "application/json") || !json.Valid(body)):
				why = fmt.Sprintf("status %d with a body that is not JSON (%s): %.80q", code, ctype, body)
			}
			n := byKind[m.kind]
			n[0]++
			if why != "" {
				n[1]++
				wrong++
				if n[1] <= 3 {
					t.Errorf("malformed request %d (%s): %s", i, m.kind, why)
				}
			}
			byKind[m.kind] = n
		}
		for k, n := range byKind {
			t.Logf("%-18s sent %4d, wrongly answered %d", k, n[0], n[1])
		}
		// The job keeps checkpointing.
		if !waitUntil(10*time.Second, func() bool { return s.checkpoints(t) > before }) {
			t.Errorf("no checkpoint completed during or after the malformed requests (%d before)", before)
		}
		report.Add(Row{Family: "rest/malformed", Runs: sz.malformed, Faults: sz.malformed, Recovered: sz.malformed - wrong,
			Note: "recovered = answered 4xx (JSON unless refused by net/http itself)"})
	})
	t.Run(fmt.Sprintf("load/clients=%d", sz.clients), func(t *testing.T) {
		before := s.checkpoints(t)
		paths := []string{"/jobs/" + s.jobID, "/jobs/" + s.jobID + "/checkpoints", "/jobs/overview", "/overview",
			"/jobs/" + s.jobID + "/checkpoints/config"}
		var (
			mu   sync.Mutex
			lat  []time.Duration
			errs []string
		)
		deadline := time.Now().Add(sz.load)
		var wg sync.WaitGroup
		for c := 0; c < sz.clients; c++ {
			wg.Add(1)
			go func(c int) {
				defer wg.Done()
				cl := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
				defer cl.CloseIdleConnections()
				for i := 0; time.Now().Before(deadline); i++ {
					req, _ := http.NewRequest(http.MethodGet, s.url+paths[(c+i)%len(paths)], nil)
					req.Header.Set("Accept", "application/json")
					t0 := time.Now()
					resp, err := cl.Do(req)
					var code int
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						code = resp.StatusCode
					}
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					if err != nil || code != http.StatusOK {
						errs = append(errs, fmt.Sprintf("%s: %d %v", req.URL.Path, code, err))
					}
					mu.Unlock()
				}
			}(c)
		}
		wg.Wait()
		p50, p99 := Percentile(lat, 50), Percentile(lat, 99)
		t.Logf("%d clients for %v: %d requests, p50 %v, p99 %v, max %v, %d failed", sz.clients, sz.load, len(lat), p50, p99,
			Percentile(lat, 100), len(errs))
		for i, e := range errs {
			if i == 3 {
				break
			}
			t.Errorf("under load: %s", e)
		}
		if !waitUntil(10*time.Second, func() bool { return s.checkpoints(t) > before }) {
			t.Errorf("no checkpoint completed under load (%d before)", before)
		}
		report.Add(Row{Family: "rest/load", Runs: len(lat), Recovered: len(lat) - len(errs), P99: p99,
			Note: fmt.Sprintf("%d clients for %v, p50 %v", sz.clients, sz.load, p50.Round(10*time.Microsecond))})
	})
	report.Add(Row{Family: "rest/malformed", ForeignDeleted: s.keep.Check(t)})
}
