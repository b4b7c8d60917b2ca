package peers

// The Flink side of the state reader's benchmarks (bench/): ValuesJob writes
// a large keyed state whose every value the benchmark knows, and Flink's
// State Processor API reads it back, timed, in a JVM of its own
// (peers/flink/src/main/java/dev/ckpt/peer/{ValuesJob,SpaReader}.java).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ValuesJobEntryClass writes ValuesJob's state: operator ValuesJobUID with
// value states "v-long" (Long), "v-string" (String) and "v-pojo"
// (StateJob$Pojo) for keys 0..Keys-1, their values ValuesLong, ValuesString
// and ValuesPojo of the key.
const (
	ValuesJobEntryClass = "dev.ckpt.peer.ValuesJob"
	ValuesJobUID        = "values"
	ValuesPojoClass     = "dev.ckpt.peer.StateJob$Pojo"
)

// ValuesJobSpec is what ValuesJob writes.
type ValuesJobSpec struct {
	Keys      int64  // keys 0..Keys-1
	StringLen int    // characters of every v-string value (at least its "value-<k>-" prefix)
	Done      string // the file the job writes once every key is in its state
	// Timeout bounds the wait for Done (default 30 min: a GiB of state).
	Timeout time.Duration
}

// ValuesLong is key k's v-long value.
func ValuesLong(k int64) int64 { return k * 3 }

// ValuesString is key k's v-string value: "value-<k>-" padded with '.' to n characters.
func ValuesString(k int64, n int) string {
	s := "value-" + strconv.FormatInt(k, 10) + "-"
	if len(s) < n {
		s += strings.Repeat(".", n-len(s))
	}
	return s
}

// ValuesPojo is key k's v-pojo value: its fields (name, count, score, boxed;
// boxed is nil for odd keys).
type ValuesPojo struct {
	Name  string
	Count int64
	Score float64
	Boxed *int32
}

// ValuesPojoOf is key k's v-pojo value.
func ValuesPojoOf(k int64) ValuesPojo {
	p := ValuesPojo{Name: "pojo-" + strconv.FormatInt(k, 10), Count: k, Score: float64(k) / 2}
	if k%2 == 0 {
		b := int32(k % 100_000)
		p.Boxed = &b
	}
	return p
}

// SubmitValuesJob runs ValuesJob (parallelism 1; job's max parallelism,
// backend and directories) and waits until every key is written.
func (p *FlinkPeer) SubmitValuesJob(job FlinkJob, s ValuesJobSpec) (*FlinkRun, error) {
	spec, err := p.jobSpec(job, nil)
	if err != nil {
		return nil, err
	}
	spec["keys"], spec["stringLen"], spec["done"] = s.Keys, s.StringLen, s.Done
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Minute
	}
	return p.runJarJob(job, ValuesJobEntryClass, spec, "", s.Done, s.Timeout)
}

// SPAReader is Flink's State Processor API in a JVM of its own, answering
// read requests one at a time (Peer's spa-serve mode).
type SPAReader struct {
	version string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan json.RawMessage
	exited  chan struct{}
	log     string
}

// SPARead is one read: ValuesJob's three value states of operator UID in
// the savepoint at Path, with Backend ("hashmap", Flink's default, or
// "rocksdb") at Parallelism (default 1). With Key, the reader function
// reads that key's values only: the SPA has no key lookup, it restores and
// visits every key whatever the function wants.
type SPARead struct {
	Path        string `json:"path"`
	UID         string `json:"uid"`
	Backend     string `json:"backend,omitempty"`
	Parallelism int    `json:"parallelism,omitempty"`
	Key         *int64 `json:"key,omitempty"`
	TmpDir      string `json:"tmpDir,omitempty"`
}

// SPAResult is what the SPA read and how long it took: Wall from
// SavepointReader.read to the end of the job in the warm JVM (a local
// MiniCluster started per read, as the SPA does), NetRuntime the job's own.
type SPAResult struct {
	FlinkVersion string `json:"flinkVersion"`
	Backend      string `json:"backend"`
	Parallelism  int    `json:"parallelism"`
	Keys         int64  `json:"keys"`       // keys the reader function visited
	Entries      int64  `json:"entries"`    // non-null values read
	ValueBytes   int64  `json:"valueBytes"` // their payload (8 per Long, String chars, POJO name chars + 20)
	WallNanos    int64  `json:"wallNanos"`
	NetRuntimeMs int64  `json:"netRuntimeMillis"`
}

// Wall is the read's wall time.
func (r *SPAResult) Wall() time.Duration { return time.Duration(r.WallNanos) }

// StartSPAReader starts the SPA JVM of Flink version with heapMB of heap
// (a hashmap read holds the whole state on the heap); it stops at
// t.Cleanup. Without Java/Maven the test skips loudly.
func StartSPAReader(t testing.TB, version string, heapMB int) *SPAReader {
	t.Helper()
	if version == "" {
		version = FlinkVersion2
	}
	if !slices.Contains(FlinkVersions, version) {
		t.Fatalf("flink peer: no build for Flink %q (have %v)", version, FlinkVersions)
	}
	classpath := flinkClasspath(t, version)
	dir := filepath.Join(WorkDir(), "spa")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("spa reader: %v", err)
	}
	logPath := filepath.Join(dir, fmt.Sprintf("spa-%s-%d.log", version, os.Getpid()))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("spa reader: %v", err)
	}
	cmd := exec.Command("java", flinkJavaArgs(classpath, heapMB, "spa-serve")...)
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("spa reader: %v", err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("spa reader: %v", err)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		Unavailable(t, "spa reader: starting java: %v", err)
	}
	r := &SPAReader{version: version, cmd: cmd, stdin: stdin, replies: make(chan json.RawMessage, 1),
		exited: make(chan struct{}), log: logPath}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, replyPrefix) {
				r.replies <- json.RawMessage(line[len(replyPrefix):])
			} else {
				fmt.Fprintln(logf, "stdout:", line)
			}
		}
		close(r.replies)
	}()
	go func() { _ = cmd.Wait(); logf.Close(); close(r.exited) }()
	t.Cleanup(func() {
		_ = r.stdin.Close()
		select {
		case <-r.exited:
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.exited
		}
	})
	select {
	case msg, ok := <-r.replies:
		var ready struct {
			FlinkVersion string `json:"flinkVersion"`
		}
		if !ok || json.Unmarshal(msg, &ready) != nil || ready.FlinkVersion != version {
			t.Fatalf("spa reader: bad start (%s); log %s:\n%s", msg, logPath, tail(logPath, 30))
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("spa reader: not ready within 2 min; log %s", logPath)
	}
	return r
}

// ReadKeyed runs one read (bounded by timeout) and returns what the SPA read.
func (r *SPAReader) ReadKeyed(req SPARead, timeout time.Duration) (*SPAResult, error) {
	b, err := json.Marshal(struct {
		Cmd string `json:"cmd"`
		SPARead
	}{"read-keyed", req})
	if err != nil {
		return nil, err
	}
	if _, err := r.stdin.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("spa reader: %w", err)
	}
	var msg json.RawMessage
	select {
	case m, ok := <-r.replies:
		if !ok {
			return nil, fmt.Errorf("spa reader: JVM exited; log %s:\n%s", r.log, tail(r.log, 30))
		}
		msg = m
	case <-time.After(timeout):
		_ = r.cmd.Process.Kill() // its state is unknown now
		return nil, fmt.Errorf("spa reader: no reply within %v; log %s", timeout, r.log)
	}
	var out struct {
		OK    bool        `json:"ok"`
		Error *FlinkError `json:"error"`
		SPAResult
	}
	if err := json.Unmarshal(msg, &out); err != nil {
		return nil, fmt.Errorf("spa reader: bad reply %s: %w", msg, err)
	}
	if !out.OK {
		if out.Error != nil {
			return nil, out.Error
		}
		return nil, fmt.Errorf("spa reader: failed: %s", msg)
	}
	return &out.SPAResult, nil
}

// StopWithSavepointWithin is StopWithSavepointFormat with a bound of its
// own on the savepoint (a GiB of state on a busy machine takes longer than
// the 120 s the other requests wait).
func (r *FlinkRun) StopWithSavepointWithin(dir, format string, timeout time.Duration) (string, error) {
	if dir == "" {
		dir = r.job.SavepointDir
	}
	var trig struct {
		RequestID string `json:"request-id"`
	}
	if err := r.peer.rest(http.MethodPost, "/jobs/"+r.id+"/stop",
		map[string]any{"targetDirectory": URI(dir), "drain": false, "formatType": format}, &trig); err != nil {
		return "", err
	}
	deadline := time.Now().Add(timeout)
	for {
		var res struct {
			Status    struct{ ID string } `json:"status"`
			Operation struct {
				Location     string          `json:"location"`
				FailureCause json.RawMessage `json:"failure-cause"`
			} `json:"operation"`
		}
		if err := r.peer.rest(http.MethodGet, "/jobs/"+r.id+"/savepoints/"+trig.RequestID, nil, &res); err != nil {
			return "", err
		}
		if res.Status.ID == "COMPLETED" {
			if res.Operation.Location == "" {
				return "", fmt.Errorf("flink job %s: savepoint failed: %s", r.id, failureText(res.Operation.FailureCause))
			}
			return res.Operation.Location, r.WaitState("FINISHED", timeout)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("flink job %s: stop with savepoint not completed within %v", r.id, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// CPUTime is the CPU time (user + system, every thread) the SPA's JVM has
// used so far, from /proc (Linux); 0 where that cannot be read.
func (r *SPAReader) CPUTime() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", r.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) closed by ')':
	// state is field 3, utime 14 and stime 15, in clock ticks (100 per s).
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * 10 * time.Millisecond
}
