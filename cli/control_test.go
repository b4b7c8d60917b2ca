package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/peers"
)

// The control-plane commands (list, savepoint, cancel, stop, checkpoint,
// submit) run in process through run() against `ckpt serve` (its serve
// function, in process) and against real Flink 2.3.0 and 1.20.5.

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs ckpt serve in process on a free loopback port with the
// given -D settings and returns its URL; it stops at the end of the test.
func startServe(t *testing.T, settings map[string]string, specs ...string) (string, *syncBuffer) {
	t.Helper()
	return launchServe(t, serveOptions{cfg: configOf(t, settings), specs: specs})
}

// startServeWith is startServe with a catalog directory.
func startServeWith(t *testing.T, settings map[string]string, catalogDir string) string {
	t.Helper()
	u, log := launchServe(t, serveOptions{cfg: configOf(t, settings), catalogDir: catalogDir})
	if !strings.Contains(log.String(), "recording jobs in "+catalogDir) {
		t.Errorf("serve log:\n%s", log.String())
	}
	return u
}

func configOf(t *testing.T, settings map[string]string) *config.Config {
	t.Helper()
	cfg := config.New()
	for k, v := range settings {
		if err := cfg.Set(k, v, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

func launchServe(t *testing.T, o serveOptions) (string, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	log := &syncBuffer{}
	done := make(chan error, 1)
	o.address, o.port = "127.0.0.1", 0
	o.ready = func(u string) { urls <- u }
	go func() { done <- serve(ctx, o, log) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(time.Minute):
			t.Error("serve did not stop")
		}
	})
	select {
	case u := <-urls:
		return u, log
	case err := <-done:
		t.Fatalf("serve: %v\n%s", err, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("serve not ready:\n%s", log.String())
	}
	return "", nil
}

const controlSpec = `name: counts
parallelism: 2
config:
  execution.checkpointing.interval: 100 ms
  execution.checkpointing.incremental: false
  execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
pipeline:
  - op: generator
    uid: source
    keys: 50
    rate: 1000
  - op: keyBy
  - op: count
    uid: counter
  - op: discard
    uid: sink
`

var (
	submittedRe = regexp.MustCompile(`Job has been submitted with JobID ([0-9a-f]{32})`)
	listLineRe  = regexp.MustCompile(`^\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d : ([0-9a-f]{32}) : (.+) \(([A-Z]+)\)$`)
)

func submittedID(t *testing.T, out string) string {
	t.Helper()
	m := submittedRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no job id in:\n%s", out)
	}
	return m[1]
}

// listed parses `ckpt list` output into job ID → state, checking the format.
func listed(t *testing.T, out string) map[string]string {
	t.Helper()
	jobs := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(l, "---") || l == "No running jobs." || l == "No scheduled jobs.":
		default:
			m := listLineRe.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("not Flink's list format: %q", l)
			}
			jobs[m[1]] = m[3]
		}
	}
	return jobs
}

func waitCheckpoints(t *testing.T, url, jobID string, n int) *cluster.CheckpointStats {
	t.Helper()
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := c.Checkpoints(context.Background(), jobID)
		if err == nil && st.Counts.Completed >= n && st.LatestCompleted != nil {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d checkpoints of %s not completed: %+v %v", n, jobID, st, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestControlAgainstServe(t *testing.T) {
	tmp := t.TempDir()
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	spec := writeSpec(t, controlSpec)
	ck := func(t *testing.T, code int, args ...string) (string, string) {
		t.Helper()
		got, out, errOut := runCkpt(t, append(args[:1:1], append([]string{"-m", url}, args[1:]...)...)...)
		if got != code {
			t.Fatalf("ckpt %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
		}
		return out, errOut
	}

	out, _ := ck(t, ExitOK, "list")
	if out != "No running jobs.\nNo scheduled jobs.\n" {
		t.Errorf("empty list:\n%s", out)
	}
	out, _ = ck(t, ExitOK, "submit", spec)
	id := submittedID(t, out)
	if !strings.Contains(out, "Job "+id+" is RUNNING.") {
		t.Errorf("submit did not watch the job start:\n%s", out)
	}
	out, _ = ck(t, ExitOK, "list")
	if jobs := listed(t, out); jobs[id] != "RUNNING" || !strings.Contains(out, "------------------ Running/Restarting Jobs -------------------") {
		t.Errorf("list:\n%s", out)
	}
	out, _ = ck(t, ExitOK, "list", "--json")
	var js flinkrest.JobsOverviewDTO
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js.Jobs) != 1 || js.Jobs[0].JID != id || js.Jobs[0].Tasks["total"] != 4 {
		t.Errorf("list --json: %v\n%s", err, out)
	}
	waitCheckpoints(t, url, id, 1)

	for _, args := range [][]string{{"checkpoint", id}, {"checkpoint", id, "--full"}, {"checkpoint", "-full", id}} {
		out, _ = ck(t, ExitOK, args...)
		if !regexp.MustCompile(`Checkpoint \d+ for job ` + id + ` completed\.`).MatchString(out) {
			t.Errorf("%v:\n%s", args, out)
		}
	}

	// Savepoints in both formats, then dispose the canonical one.
	spRe := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`)
	var canonical string
	for _, typ := range []string{"canonical", "native"} {
		out, _ = ck(t, ExitOK, "savepoint", id, filepath.Join(tmp, typ), "-type", typ)
		m := spRe.FindStringSubmatch(out)
		if m == nil || !strings.HasPrefix(m[1], filepath.Join(tmp, typ)+"/savepoint-"+id[:6]+"-") {
			t.Fatalf("savepoint %s:\n%s", typ, out)
		}
		if typ == "canonical" {
			canonical = m[1]
		}
	}
	out, _ = ck(t, ExitOK, "savepoint", id, filepath.Join(tmp, "detached"), "--detached")
	if !regexp.MustCompile(`trigger id: [0-9a-f]{32}`).MatchString(out) {
		t.Errorf("detached savepoint:\n%s", out)
	}
	_, errOut := ck(t, ExitError, "savepoint", id)
	if !strings.Contains(errOut, "Property [target-directory] must be provided") {
		t.Errorf("savepoint without a directory: %s", errOut)
	}
	out, _ = ck(t, ExitOK, "savepoint", "-d", canonical)
	if _, err := os.Stat(canonical); !os.IsNotExist(err) || !strings.Contains(out, "disposed") {
		t.Errorf("dispose %s: %v\n%s", canonical, err, out)
	}

	// Dispose a savepoint (a real Flink one copied in) and refuse a non-savepoint.
	meta, err := os.ReadFile(filepath.Join("..", "..", "shared", "fixtures", "flink-metadata", "apache-flink",
		"new-stateful-udf-migration-itcase-flink1.20-hashmap-savepoint", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(tmp, "sp", "savepoint-a1b2c3-0123456789ab")
	os.MkdirAll(sp, 0o755)
	os.WriteFile(filepath.Join(sp, "_metadata"), meta, 0o644)
	out, _ = ck(t, ExitOK, "savepoint", "-d", sp)
	if !strings.Contains(out, "Savepoint '"+sp+"' disposed.") {
		t.Errorf("dispose:\n%s", out)
	}
	if _, err := os.Stat(sp); !os.IsNotExist(err) {
		t.Errorf("disposed savepoint still there: %v", err)
	}
	// A file beside the savepoint's own: it stays, with its directory, and
	// the output names it.
	os.MkdirAll(sp, 0o755)
	os.WriteFile(filepath.Join(sp, "_metadata"), meta, 0o644)
	os.WriteFile(filepath.Join(sp, "notes.txt"), []byte("precious"), 0o644)
	out, _ = ck(t, ExitOK, "savepoint", "-d", sp)
	if b, err := os.ReadFile(filepath.Join(sp, "notes.txt")); err != nil || string(b) != "precious" ||
		!strings.Contains(out, "left "+filepath.Join(sp, "notes.txt")+": not part of the snapshot") {
		t.Errorf("dispose beside a foreign file: %q %v\n%s", b, err, out)
	}
	if _, err := os.Stat(filepath.Join(sp, "_metadata")); !os.IsNotExist(err) {
		t.Errorf("_metadata still there: %v", err)
	}
	_, errOut = ck(t, ExitError, "savepoint", "-d", tmp)
	if !strings.Contains(errOut, "failed to dispose the savepoint") || !strings.Contains(errOut, "no _metadata") {
		t.Errorf("dispose of a non-snapshot: %s", errOut)
	}

	out, _ = ck(t, ExitOK, "cancel", id)
	if !strings.Contains(out, "Cancelling job "+id+".") || !strings.Contains(out, "Cancelled job "+id+".") {
		t.Errorf("cancel:\n%s", out)
	}
	out, _ = ck(t, ExitOK, "list", "-a")
	if listed(t, out)[id] != "CANCELED" || !strings.Contains(out, "---------------------- Terminated Jobs -----------------------") {
		t.Errorf("list -a:\n%s", out)
	}
	st := waitCheckpoints(t, url, id, 1)
	retained := strings.TrimPrefix(st.LatestCompleted.ExternalPath, "file://")

	// Resume: the dry run refuses to drop state without -n (exit 3), lists
	// it, and with -n submits; a max-parallelism change fails whatever (exit 4).
	renamed := writeSpec(t, strings.Replace(controlSpec, "uid: counter", "uid: counter-v2", 1))
	out, errOut = ck(t, ExitSubmitDropsState, "submit", "-s", retained, renamed)
	if !strings.Contains(out, "DROPPED (1") || !strings.Contains(out, "counter") || !strings.Contains(errOut, "pass -n/--allowNonRestoredState") {
		t.Errorf("dry run refusal:\n%s\n%s", out, errOut)
	}
	out, _ = ck(t, ExitOK, "submit", "-s", retained, "-n", "--claimMode", "NO_CLAIM", renamed)
	resumed := submittedID(t, out)
	if !strings.Contains(out, "Dropping the state of 1 operator(s)") {
		t.Errorf("resume with -n:\n%s", out)
	}
	st = waitCheckpoints(t, url, resumed, 1)
	if st.LatestRestored == nil || !strings.HasSuffix(st.LatestRestored.ExternalPath, filepath.Base(retained)) {
		t.Errorf("restored %+v", st.LatestRestored)
	}
	maxp := writeSpec(t, strings.Replace(controlSpec, "  - op: count\n", "  - op: count\n    maxParallelism: 64\n", 1))
	out, errOut = ck(t, ExitSubmitRestoreFails, "submit", "-s", retained, "-n", maxp)
	if !strings.Contains(out, "FAILS") || !strings.Contains(errOut, "Flink refuses this resume even with -n") {
		t.Errorf("max parallelism change:\n%s\n%s", out, errOut)
	}
	out, _ = ck(t, ExitOK, "stop", "-p", filepath.Join(tmp, "stop"), resumed)
	if m := spRe.FindStringSubmatch(out); m == nil || !strings.Contains(out, `Suspending job "`+resumed+`" with a CANONICAL savepoint.`) ||
		!strings.HasPrefix(m[1], filepath.Join(tmp, "stop")+"/savepoint-") {
		t.Errorf("stop:\n%s", out)
	}
	out, _ = ck(t, ExitOK, "list", "-a")
	if st := listed(t, out)[resumed]; st != "FINISHED" {
		t.Errorf("after stop: %s\n%s", st, out)
	}

	// Errors.
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"cancel", "0123456789abcdef0123456789abcdef"}, ExitError, "Job 0123456789abcdef0123456789abcdef not found"},
		{[]string{"cancel", "not-a-job"}, ExitUsage, `job ID "not-a-job" is not valid`},
		{[]string{"checkpoint", "0123456789abcdef0123456789abcdef"}, ExitError, "HTTP 404"},
		{[]string{"savepoint", id, "--type", "binary"}, ExitUsage, `--type "binary"`},
		{[]string{"savepoint"}, ExitUsage, "missing JOBID"},
		{[]string{"stop", "/tmp/x", id}, ExitUsage, "stop -p DIR JOBID"},
		{[]string{"stop", "-p=/tmp/y", "/tmp/x", id}, ExitUsage, "one JOBID expected"},
		{[]string{"cancel", "/tmp/x", id}, ExitUsage, "cancel -s DIR JOBID"},
		{[]string{"cancel", "-s", "/tmp/x", "not-a-job"}, ExitUsage, `job ID "not-a-job" is not valid`},
		{[]string{"submit", "-n", spec}, ExitUsage, "applies to a resume"},
		{[]string{"submit", "-s", retained, "--claimMode", "MINE", spec}, ExitUsage, "--claimMode"},
		{[]string{"submit", writeSpec(t, "name: x\npipeline:\n  - op: generatr\n")}, ExitError, "job.yaml:3"},
		{[]string{"submit", filepath.Join(tmp, "missing.yaml")}, ExitError, "no such file"},
		{[]string{"submit", jarFile(t)}, ExitError, "runs job specs (YAML), not jars"},
		{[]string{"submit", "-Dexecution.checkpointing.interval=soon", spec}, ExitUsage, "execution.checkpointing.interval"},
		{[]string{"list", "extra"}, ExitUsage, "accepts 0 arg"},
	} {
		_, errOut := ck(t, tc.code, tc.args...)
		if !strings.Contains(errOut, tc.msg) {
			t.Errorf("ckpt %v: stderr %q, want %q", tc.args, errOut, tc.msg)
		}
	}
}

func jarFile(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "job.jar")
	os.WriteFile(p, []byte("PK\x03\x04 not really a jar"), 0o644)
	return p
}

// TestControlTarget: CKPT_JOBMANAGER names the target when -m is absent,
// -m wins over it, and a bad target is a usage error.
func TestControlTarget(t *testing.T) {
	url, _ := startServe(t, nil)
	t.Setenv(JobManagerEnv, url)
	if code, out, errOut := runCkpt(t, "list"); code != ExitOK || !strings.Contains(out, "No running jobs.") {
		t.Fatalf("list via %s: %d %s %s", JobManagerEnv, code, out, errOut)
	}
	if code, _, errOut := runCkpt(t, "list", "-m", "ftp://x"); code != ExitUsage || !strings.Contains(errOut, "-m/--jobmanager") {
		t.Errorf("bad -m: %d %s", code, errOut)
	}
	t.Setenv(JobManagerEnv, "127.0.0.1:1")
	if code, out, _ := runCkpt(t, "list", "-m", url); code != ExitOK || !strings.Contains(out, "No running jobs.") {
		t.Errorf("-m does not win over %s: %d %s", JobManagerEnv, code, out)
	}
}

// TestControlUnreachable: a refused connection and a silent endpoint end
// every command with exit 1 and the endpoint named, in bounded time.
func TestControlUnreachable(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := l.Addr().String()
	l.Close()
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
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
	id := "0123456789abcdef0123456789abcdef"
	for _, target := range []struct{ addr, msg string }{
		{refused, "cannot reach the REST endpoint " + refused},
		{silent.Addr().String(), "no answer from " + silent.Addr().String()},
	} {
		for _, args := range [][]string{{"list"}, {"cancel", id}, {"checkpoint", id}, {"savepoint", id, "/tmp/sp"},
			{"stop", id}, {"savepoint", "-d", "/tmp/sp"}, {"submit", writeSpec(t, controlSpec)}} {
			start := time.Now()
			full := append(args[:1:1], append([]string{"-m", target.addr, "--rest-timeout", "500ms"}, args[1:]...)...)
			code, _, errOut := runCkpt(t, full...)
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("ckpt %v took %v", args, el)
			}
			if code != ExitError || !strings.Contains(errOut, target.msg) {
				t.Errorf("ckpt %v against %s: exit %d, stderr %q; want 1 and %q", args, target.addr, code, errOut, target.msg)
			}
		}
	}
}

// TestServeFlags: where serve listens and what it refuses.
func TestServeFlags(t *testing.T) {
	busy, _ := net.Listen("tcp", "127.0.0.1:0")
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "--port", fmt.Sprint(port)}, ExitError, "cannot listen on 127.0.0.1:" + fmt.Sprint(port)},
		{[]string{"serve", "-Drest.port=" + fmt.Sprint(port)}, ExitError, "cannot listen on 127.0.0.1:" + fmt.Sprint(port)},
		{[]string{"serve", "-Drest.port=8081-8090"}, ExitUsage, "port range is not supported"},
		{[]string{"serve", "-Dexecution.checkpointing.interval"}, ExitUsage, "expected key=value"},
		{[]string{"serve", "--port", "0", writeSpec(t, "name: x\npipeline:\n  - op: generatr\n")}, ExitError, "job.yaml:3"},
	} {
		code, _, errOut := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("ckpt %v: exit %d, stderr %q; want %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}

// TestServeBinary: the real binary serves on a free port with a job spec
// given at start; SIGTERM stops it, cancelling the job (its retained
// checkpoints kept: RETAIN_ON_CANCELLATION), exit 0.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "ckpt")
	if out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--port", "0", "-Dexecution.checkpointing.dir="+filepath.Join(tmp, "checkpoints"), writeSpec(t, controlSpec))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	var log bytes.Buffer
	sc := bufio.NewScanner(stderr)
	url, id := "", ""
	urlRe := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	idRe := regexp.MustCompile(`job ([0-9a-f]{32}) submitted`)
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
		if m := idRe.FindStringSubmatch(sc.Text()); m != nil {
			id = m[1]
			break
		}
	}
	if url == "" || id == "" {
		t.Fatalf("serve output:\n%s", log.String())
	}
	resp, err := http.Get(url + "/v1/jobs/" + id)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET job: %v %v", resp, err)
	}
	resp.Body.Close()
	waitCheckpoints(t, url, id, 1)
	cmd.Process.Signal(syscall.SIGTERM)
	rest, _ := io.ReadAll(stderr)
	log.Write(rest)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, log.String())
	}
	if !strings.Contains(log.String(), "cancelled job "+id) {
		t.Errorf("serve output:\n%s", log.String())
	}
	if kept, _ := filepath.Glob(filepath.Join(tmp, "checkpoints", id, "chk-*", "_metadata")); len(kept) == 0 {
		t.Errorf("RETAIN_ON_CANCELLATION: no retained checkpoint left after SIGTERM")
	}
}

// TestControlAgainstFlink drives the same commands against real Flink:
// submit the peer's jar, list, checkpoint, savepoints in both formats,
// dispose, stop with a savepoint, resume from it with -n and a claim mode
// (restoreMode on 1.20), cancel.
func TestControlAgainstFlink(t *testing.T) {
	for _, v := range peers.FlinkVersions {
		t.Run(v, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: v})
			url := p.RESTURL()
			tmp := t.TempDir()
			ck := func(t *testing.T, code int, args ...string) (string, string) {
				t.Helper()
				got, out, errOut := runCkpt(t, append(args[:1:1], append([]string{"-m", url}, args[1:]...)...)...)
				if got != code {
					t.Fatalf("ckpt %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), got, code, out, errOut)
				}
				return out, errOut
			}
			job := peers.FlinkJob{Parallelism: 2, CheckpointInterval: 200 * time.Millisecond, Rate: 200}
			progArgs, err := p.ProgramArgs(job)
			if err != nil {
				t.Fatal(err)
			}
			submitArgs := append([]string{"submit", "-c", peers.FlinkJobEntryClass, p.JobJar()}, progArgs...)
			out, _ := ck(t, ExitOK, submitArgs...)
			id := submittedID(t, out)
			if !strings.Contains(out, "Job "+id+" is RUNNING.") {
				t.Errorf("submit:\n%s", out)
			}
			out, _ = ck(t, ExitOK, "list", "-r")
			if listed(t, out)[id] != "RUNNING" {
				t.Errorf("list -r:\n%s", out)
			}
			waitCheckpoints(t, url, id, 1)
			for _, args := range [][]string{{"checkpoint", id}, {"checkpoint", "--full", id}} {
				out, _ = ck(t, ExitOK, args...)
				if !regexp.MustCompile(`Checkpoint \d+ for job ` + id + ` completed\.`).MatchString(out) {
					t.Errorf("%v:\n%s", args, out)
				}
			}
			spRe := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`)
			var canonical string
			for _, typ := range []string{"canonical", "native"} {
				out, _ = ck(t, ExitOK, "savepoint", id, filepath.Join(tmp, typ), "-type", typ)
				m := spRe.FindStringSubmatch(out)
				if m == nil || !strings.Contains(m[1], filepath.Join(tmp, typ)+"/savepoint-"+id[:6]+"-") {
					t.Fatalf("savepoint %s:\n%s", typ, out)
				}
				if _, err := os.Stat(filepath.Join(peers.LocalPath(m[1]), "_metadata")); err != nil {
					t.Errorf("savepoint %s: %v", m[1], err)
				}
				if typ == "canonical" {
					canonical = m[1]
				}
			}
			out, _ = ck(t, ExitOK, "savepoint", "-d", canonical)
			if !strings.Contains(out, "disposed") {
				t.Errorf("dispose:\n%s", out)
			}
			if _, err := os.Stat(filepath.Join(peers.LocalPath(canonical), "_metadata")); !os.IsNotExist(err) {
				t.Errorf("disposed savepoint still has _metadata: %v", err)
			}
			_, errOut := ck(t, ExitError, "savepoint", id)
			if !strings.Contains(errOut, "target-directory") {
				t.Errorf("savepoint without a directory: %s", errOut)
			}
			out, _ = ck(t, ExitOK, "stop", "-p", filepath.Join(tmp, "stop"), id)
			m := spRe.FindStringSubmatch(out)
			if m == nil || !strings.Contains(out, `Suspending job "`+id+`" with a CANONICAL savepoint.`) {
				t.Fatalf("stop:\n%s", out)
			}
			stopped := m[1]
			out, _ = ck(t, ExitOK, "list", "-a")
			if st := listed(t, out)[id]; st != "FINISHED" {
				t.Errorf("after stop: %s\n%s", st, out)
			}
			// Resume from the stop savepoint: the jar's dry run on Flink's
			// plan of it (max parallelism not in the plan); the claim mode
			// goes out as claimMode (2.x) or restoreMode (1.20).
			resumeArgs := append([]string{"submit", "-s", stopped, "-n", "--claimMode", "NO_CLAIM", "-c", peers.FlinkJobEntryClass, p.JobJar()}, progArgs...)
			out, _ = ck(t, ExitOK, resumeArgs...)
			resumed := submittedID(t, out)
			if !strings.Contains(out, "resume dry run against jar ckpt-flink-peer.jar on Flink "+v) || !strings.Contains(out, "max parallelism NOT CHECKED") {
				t.Errorf("resume:\n%s", out)
			}
			st := waitCheckpoints(t, url, resumed, 1)
			if st.LatestRestored == nil || st.LatestRestored.ExternalPath == "" || !st.LatestRestored.Savepoint {
				t.Errorf("restored %+v", st.LatestRestored)
			}
			out, _ = ck(t, ExitOK, "cancel", resumed)
			if !strings.Contains(out, "Cancelled job "+resumed+".") {
				t.Errorf("cancel:\n%s", out)
			}
			// A job spec runs on Flink through ckpt's runner (runner/), on
			// 1.20 as on 2.x; -D reaches the job's configuration.
			needRunnerJar(t)
			out, _ = ck(t, ExitOK, "submit", "-D", "execution.checkpointing.dir="+peers.URI(filepath.Join(tmp, "spec-chk")), writeSpec(t, controlSpec))
			specJob := submittedID(t, out)
			if !strings.Contains(out, "Job "+specJob+" is RUNNING.") {
				t.Errorf("spec to Flink:\n%s", out)
			}
			waitCheckpoints(t, url, specJob, 1)
			if chk, _ := filepath.Glob(filepath.Join(tmp, "spec-chk", specJob, "chk-*")); len(chk) == 0 {
				t.Errorf("no checkpoint of the spec's job under the -D checkpoint directory %s", filepath.Join(tmp, "spec-chk"))
			}
			ck(t, ExitOK, "cancel", specJob)
			_, errOut = ck(t, ExitError, "cancel", "00000000000000000000000000000000")
			if !strings.Contains(errOut, "HTTP 404") || !strings.Contains(errOut, "00000000000000000000000000000000") || strings.Contains(errOut, "\tat ") {
				t.Errorf("unknown job: %s", errOut)
			}
		})
	}
}

// TestListFormat pins `ckpt list`'s text (Flink's format: sections, rule
// lines, dd.MM.yyyy HH:mm:ss start times, jobs by start time) and --json.
func TestListFormat(t *testing.T) {
	t0 := time.Date(2026, 3, 9, 14, 5, 7, 0, time.UTC)
	jobs := []cluster.JobSummary{
		{ID: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", Name: "orders", Status: cluster.JobRunning, Start: t0.Add(time.Hour)},
		{ID: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", Name: "payments", Status: cluster.JobRestarting, Start: t0},
		{ID: "cccccccccccccccccccccccccccccccc", Name: "new", Status: cluster.JobInitializing, Start: t0.Add(2 * time.Hour)},
		{ID: "dddddddddddddddddddddddddddddddd", Name: "old", Status: cluster.JobCanceled, Start: t0.Add(-time.Hour), End: t0},
		{ID: "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", Name: "done", Status: cluster.JobFinished, Start: t0.Add(-2 * time.Hour), End: t0},
	}
	var all, def, running, none bytes.Buffer
	printJobs(&all, append([]cluster.JobSummary(nil), jobs...), false, false, true, time.UTC)
	printJobs(&def, append([]cluster.JobSummary(nil), jobs...), true, true, false, time.UTC)
	printJobs(&running, append([]cluster.JobSummary(nil), jobs...), true, false, false, time.UTC)
	printJobs(&none, nil, true, true, false, time.UTC)
	golden(t, "list-all.golden", all.String())
	golden(t, "list-default.golden", def.String())
	golden(t, "list-running.golden", running.String())
	golden(t, "list-none.golden", none.String())
	var js bytes.Buffer
	if err := printJobsJSON(&js, append([]cluster.JobSummary(nil), jobs...), false, true, false); err != nil {
		t.Fatal(err)
	}
	golden(t, "list-scheduled.json.golden", js.String())
}

// TestServeCatalog: jobs recorded by one ckpt serve are listed by the next
// (cancelled at the first one's shutdown), with the checkpoint to resume from.
func TestServeCatalog(t *testing.T) {
	tmp := t.TempDir()
	settings := map[string]string{
		config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt"),
	}
	spec := writeSpec(t, controlSpec)
	catalogDir := filepath.Join(tmp, "catalog")
	var id string
	t.Run("first", func(t *testing.T) {
		url := startServeWith(t, settings, catalogDir)
		_, out, _ := runCkpt(t, "submit", "-m", url, spec)
		id = submittedID(t, out)
		waitCheckpoints(t, url, id, 1)
	})
	url := startServeWith(t, settings, catalogDir)
	code, out, errOut := runCkpt(t, "list", "-a", "-m", url)
	if code != ExitOK || listed(t, out)[id] != "CANCELED" {
		t.Fatalf("list -a after a restart: %d\n%s%s", code, out, errOut)
	}
	st := waitCheckpoints(t, url, id, 1)
	code, out, errOut = runCkpt(t, "submit", "-m", url, "-s", st.LatestCompleted.ExternalPath, spec)
	if code != ExitOK {
		t.Fatalf("resume from the remembered checkpoint: %d\n%s%s", code, out, errOut)
	}
}
