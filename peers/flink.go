package peers

// The real Apache Flink peer: an in-process MiniCluster (JobManager + one
// TaskManager) with its REST API on a loopback port, in its own JVM, driven by
// peers/flink/src/main/java/dev/ckpt/peer/Peer.java. Snapshots are taken,
// stopped and cancelled through Flink's REST API, like an operator would; job
// submission, restores and Flink's own _metadata loader go through a JSON line
// protocol on the JVM's stdin/stdout ("@@ckpt {...}"), because the plain REST
// API cannot submit a job without a jar and reports restore failures only after
// the fact.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Flink lines the peer is built for (peers/flink/pom.xml: default build and -Pflink-1.20).
const (
	FlinkVersion2   = "2.3.0"
	FlinkVersion120 = "1.20.5"
)

// FlinkVersions lists every Flink line the peer is built for, newest first.
var FlinkVersions = []string{FlinkVersion2, FlinkVersion120}

// Savepoint formats (REST formatType).
const (
	SavepointCanonical = "CANONICAL"
	SavepointNative    = "NATIVE"
)

// Retention of externalized checkpoints (execution.checkpointing.externalized-checkpoint-retention).
const (
	RetainOnCancellation = "RETAIN_ON_CANCELLATION"
	DeleteOnCancellation = "DELETE_ON_CANCELLATION"
	NoExternalized       = "NO_EXTERNALIZED_CHECKPOINTS"
)

// UnlimitedRate as FlinkJob.Rate lets the generator run as fast as it can.
const UnlimitedRate = -1

// FlinkOp is one operator of the test job. Every record is a long; every
// operator passes its input on, so operators can be added, removed or reordered
// between runs without changing what the others see.
type FlinkOp struct {
	// Kind: "source" (rate-limited DataGeneratorSource, must come first), "count"
	// (keyBy value mod Keys, ValueState count per key), "sum" (keyBy, ValueState sum),
	// "payload" (keyBy, ValueState of ValueBytes pseudo-random bytes per key,
	// rewritten per record: large state quickly), "map" (stateless), "opstate" (non-keyed ListState),
	// "slowsnapshot" (stateless; each snapshot sleeps SleepMs: slow or timed-out checkpoints), "sink" (discarding) or
	// "print" (stdout sink); a sink, if any, comes last.
	Kind string `json:"kind"`
	// UID is the operator's uid; "" sets none, so Flink derives the operator ID from
	// the topology (what restores then cannot map once the graph changes).
	UID            string `json:"uid,omitempty"`
	Name           string `json:"name,omitempty"`
	Parallelism    int    `json:"parallelism,omitempty"`    // 0 = the job's
	MaxParallelism int    `json:"maxParallelism,omitempty"` // 0 = the job's
	ValueBytes     int    `json:"valueBytes,omitempty"`     // payload: bytes per key, default 1024
	SleepMs        int    `json:"sleepMs,omitempty"`        // slowsnapshot: milliseconds per snapshot, default 100
}

// DefaultFlinkOperators is the default job shape:
// source "gen-source" → keyBy → count "count-per-key" → sink "sink".
func DefaultFlinkOperators() []FlinkOp {
	return []FlinkOp{
		{Kind: "source", UID: "gen-source", Name: "gen-source"},
		{Kind: "count", UID: "count-per-key", Name: "count-per-key"},
		{Kind: "sink", UID: "sink", Name: "sink"},
	}
}

// FlinkJob describes the stateful keyed job the peer runs. Zero values take the
// defaults named on each field.
type FlinkJob struct {
	// Version picks the Flink line of the cluster that Flink() starts
	// (FlinkVersion2 by default, or FlinkVersion120). Submit and Resume ignore it.
	Version        string
	Name           string    // job name, default "peer-job"
	Operators      []FlinkOp // default DefaultFlinkOperators()
	Parallelism    int       // default 1
	MaxParallelism int       // 0 = Flink's default
	Keys           int64     // distinct keys (value mod Keys), default 16; up to millions
	Rate           float64   // records/s over all source subtasks, default 50; UnlimitedRate = no limit
	// KeyDist is how keys are drawn from the values: "" (value mod Keys,
	// round-robin), "uniform" (a hash of the value mod Keys) or "zipf" (Zipf's
	// law, exponent 1); see ModKey in PeerJob.java.
	KeyDist string

	Backend            string        // "hashmap" (default) or "rocksdb"
	Incremental        bool          // incremental checkpoints (RocksDB)
	CheckpointInterval time.Duration // default 300 ms; negative = checkpointing off
	// CheckpointDir and SavepointDir are local paths or URIs (file://, hdfs://);
	// default: checkpoints/ and savepoints/ in the peer's work directory.
	CheckpointDir string
	SavepointDir  string
	Retention     string // default RetainOnCancellation
	// NumRetained completed checkpoints kept (default: Flink's, 1). Flink reads it
	// from the cluster's configuration, not the job's: Flink() passes it to the
	// cluster it starts; jobs submitted later share FlinkOptions.NumRetained.
	NumRetained int

	// Config is passed to Flink verbatim and wins over everything above
	// (e.g. "restart-strategy.type"; the peer sets "none" so failures surface at once).
	Config map[string]string
}

// FlinkRestore says where a job resumes from (flink run -s PATH [-n] [-claimMode M]).
type FlinkRestore struct {
	Path                  string // savepoint dir, chk-N dir or _metadata file
	AllowNonRestoredState bool
	ClaimMode             string // "" = Flink's default (NO_CLAIM); CLAIM, NO_CLAIM, LEGACY
}

// FlinkOptions configure the cluster (not the job).
type FlinkOptions struct {
	Version string            // FlinkVersion2 (default) or FlinkVersion120
	Slots   int               // task slots, default 8 (enough for a few small jobs at once)
	HeapMB  int               // JVM heap, default 1024
	Config  map[string]string // cluster-level Flink settings (-D), e.g. "rest.port"
	// NumRetained is execution.checkpointing.num-retained for every job (0 = Flink's 1).
	NumRetained int
	// StartTimeout bounds JVM start to REST readiness, default 120 s.
	StartTimeout time.Duration
}

// FlinkPeer is one running Flink MiniCluster. Its methods that act on "the job"
// act on the job Flink() started (Job()).
type FlinkPeer struct {
	t       testing.TB
	version string
	dir     string // work dir: logs, default checkpoint/savepoint dirs, Flink tmp
	restURL string
	pid     int
	startup time.Duration

	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan json.RawMessage
	exited  chan struct{}
	log     *os.File

	reqMu  sync.Mutex // one control request at a time
	broken atomic.Bool
	job    *FlinkRun
	http   *http.Client
}

// FlinkRun is one job submitted to a FlinkPeer.
type FlinkRun struct {
	peer *FlinkPeer
	id   string
	job  FlinkJob
}

var flinkPeerSeq atomic.Int64

// Flink starts a Flink cluster of job.Version and runs job on it; the test fails
// if the job does not reach RUNNING. The JVM is stopped at t.Cleanup. Without
// Java/Maven the test skips loudly (fails under CI=true or CKPT_REQUIRE_PEERS=1).
func Flink(t testing.TB, job FlinkJob) *FlinkPeer {
	t.Helper()
	p := StartFlink(t, FlinkOptions{Version: job.Version, NumRetained: job.NumRetained})
	run, err := p.Submit(job)
	if err != nil {
		t.Fatalf("flink peer: submitting the job: %v (logs: %s)", err, p.dir)
	}
	p.job = run
	return p
}

// StartFlink starts a Flink cluster with no job.
func StartFlink(t testing.TB, opts FlinkOptions) *FlinkPeer {
	t.Helper()
	if opts.Version == "" {
		opts.Version = FlinkVersion2
	}
	if !slices.Contains(FlinkVersions, opts.Version) {
		t.Fatalf("flink peer: no build for Flink %q (have %v)", opts.Version, FlinkVersions)
	}
	if opts.Slots == 0 {
		opts.Slots = 8
	}
	if opts.HeapMB == 0 {
		opts.HeapMB = 1024
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 120 * time.Second
	}
	classpath := flinkClasspath(t, opts.Version)
	flinkPruneOnce.Do(func() { pruneFlinkWork(filepath.Join(WorkDir(), "flink"), 24*time.Hour) })
	dir := filepath.Join(WorkDir(), "flink", fmt.Sprintf("%s-%s-%d-%d", flinkSafeName(t.Name()), opts.Version,
		os.Getpid(), flinkPeerSeq.Add(1)))
	for _, d := range []string{"tmp", "upload"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatalf("flink peer: %v", err)
		}
	}
	logf, err := os.Create(filepath.Join(dir, "flink.log"))
	if err != nil {
		t.Fatalf("flink peer: %v", err)
	}
	args := []string{"--slots", fmt.Sprint(opts.Slots),
		"-Dio.tmp.dirs=" + filepath.Join(dir, "tmp"),
		"-Dweb.upload.dir=" + filepath.Join(dir, "upload"),
		// The REST handlers cache job details and checkpoint stats for this long
		// (default 3 s); a short cache makes waits on state changes quick.
		"-Dweb.refresh-interval=100",
	}
	if opts.NumRetained > 0 {
		args = append(args, fmt.Sprintf("-Dexecution.checkpointing.num-retained=%d", opts.NumRetained))
	}
	for k, v := range opts.Config {
		args = append(args, "-D"+k+"="+v)
	}
	cmd := exec.Command("java", flinkJavaArgs(classpath, opts.HeapMB, "serve", args...)...)
	cmd.Dir = dir
	cmd.Env = flinkEnv(opts.Version)
	cmd.Stderr = logf
	// An os.Pipe rather than StdoutPipe: Wait must not close the read end before
	// the reader has drained the last lines.
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		t.Fatalf("flink peer: %v", err)
	}
	cmd.Stdout = stdoutW
	// The JVM exits when its stdin closes, so a test binary that dies never leaves it behind.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("flink peer: %v", err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		stdout.Close()
		stdoutW.Close()
		Unavailable(t, "flink peer: starting java: %v", err)
	}
	stdoutW.Close() // the JVM holds its own copy
	p := &FlinkPeer{t: t, version: opts.Version, dir: dir, cmd: cmd, stdin: stdin, log: logf,
		replies: make(chan json.RawMessage, 4), exited: make(chan struct{}),
		pid: cmd.Process.Pid, http: &http.Client{Timeout: 30 * time.Second}}
	ready := make(chan json.RawMessage, 1)
	go func() { p.readStdout(stdout, ready); stdout.Close() }()
	go func() { _ = cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.stop)

	select {
	case msg := <-ready:
		var r struct {
			RestURL      string `json:"restUrl"`
			FlinkVersion string `json:"flinkVersion"`
		}
		if err := json.Unmarshal(msg, &r); err != nil || r.RestURL == "" {
			t.Fatalf("flink peer: bad ready line %s (logs: %s)", msg, dir)
		}
		p.restURL = r.RestURL
		p.startup = time.Since(start)
		if r.FlinkVersion != opts.Version {
			t.Fatalf("flink peer: asked for Flink %s, the JVM runs %s", opts.Version, r.FlinkVersion)
		}
	case <-p.exited:
		t.Fatalf("flink peer: JVM exited before REST was ready (%v); last log lines:\n%s", cmd.ProcessState, p.logTail(40))
	case <-time.After(opts.StartTimeout):
		t.Fatalf("flink peer: REST not ready within %v; last log lines:\n%s", opts.StartTimeout, p.logTail(40))
	}
	t.Logf("flink peer %s: REST %s, pid %d, ready in %v, logs %s", opts.Version, p.restURL, p.pid,
		p.startup.Round(time.Millisecond), dir)
	return p
}

var (
	flinkPrepareOnce sync.Once
	flinkPrepareErr  error
)

// flinkClasspath returns the peer's classpath for version. The first call in a
// test binary runs peers/flink/prepare.sh, which builds what is missing or stale
// (a first build downloads Flink into ~/.m2; later ones are instant).
func flinkClasspath(t testing.TB, version string) string {
	t.Helper()
	if missing := Tools(); missing != "" {
		Unavailable(t, "flink peer: %s", missing)
	}
	flinkPrepareOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", filepath.Join(Dir(), "flink", "prepare.sh"))
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Run(); err != nil {
			flinkPrepareErr = fmt.Errorf("peers/flink/prepare.sh: %v\n%s", err, flinkLastLines(buf.String(), 40))
		}
	})
	if flinkPrepareErr != nil {
		if strings.Contains(flinkPrepareErr.Error(), "COMPILATION ERROR") {
			t.Fatalf("flink peer: the harness does not compile: %v", flinkPrepareErr)
		}
		// Java and Maven are there; Maven Central may not be.
		Unavailable(t, "flink peer: %v", flinkPrepareErr)
	}
	out := filepath.Join(Dir(), "flink", "target", "flink-"+version)
	cp, err := os.ReadFile(filepath.Join(out, "classpath.txt"))
	if err != nil {
		Unavailable(t, "flink peer: no classpath for Flink %s: %v", version, err)
	}
	return filepath.Join(out, "classes") + string(os.PathListSeparator) + strings.TrimSpace(string(cp))
}

// flinkJavaArgs is the java command line for one mode of the harness
// (dev.ckpt.peer.Peer: serve, resume, throughput, load-metadata).
func flinkJavaArgs(classpath string, heapMB int, mode string, args ...string) []string {
	return append([]string{"@" + filepath.Join(Dir(), "flink", "jvm17.args"), fmt.Sprintf("-Xmx%dm", heapMB),
		"-cp", classpath, "dev.ckpt.peer.Peer", mode}, args...)
}

// flinkEnv is the JVM's environment: this process's, with FLINK_PLUGINS_DIR at
// the plugins prepare.sh put beside the build (s3-fs-hadoop: s3:// and s3a://
// checkpoint and savepoint directories), as a Flink distribution's plugins/.
func flinkEnv(version string) []string {
	return append(os.Environ(), "FLINK_PLUGINS_DIR="+filepath.Join(Dir(), "flink", "target", "flink-"+version, "plugins"))
}

const replyPrefix = "@@ckpt "

// readStdout sends protocol replies to p.replies (the first one, the ready line,
// to ready) and copies everything else (print sinks) to the log.
func (p *FlinkPeer) readStdout(r io.Reader, ready chan<- json.RawMessage) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, replyPrefix) {
			fmt.Fprintln(p.log, "stdout:", line)
			continue
		}
		msg := json.RawMessage(append([]byte(nil), line[len(replyPrefix):]...))
		if first {
			first = false
			ready <- msg
			continue
		}
		p.replies <- msg
	}
	close(p.replies)
}

// stop closes stdin (the JVM shuts the cluster down and exits), then kills by PID
// if it has not gone within 15 s. Logs stay; on failure their path is printed.
func (p *FlinkPeer) stop() {
	_ = p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	_ = p.log.Close()
	if p.t.Failed() {
		p.t.Logf("flink peer %s logs: %s\n%s", p.version, p.dir, p.logTail(30))
		return
	}
	// A passing test keeps only flink.log; state (RocksDB working dirs, default
	// checkpoint and savepoint dirs) goes unless CKPT_KEEP_PEERS=1.
	if os.Getenv("CKPT_KEEP_PEERS") != "1" {
		for _, d := range []string{"tmp", "upload", "checkpoints", "savepoints"} {
			_ = os.RemoveAll(filepath.Join(p.dir, d))
		}
	}
}

// Kill stops the JVM at once (SIGKILL), like a crashed JobManager.
func (p *FlinkPeer) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

func (p *FlinkPeer) logTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "flink.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// RESTURL is the cluster's REST endpoint, e.g. http://127.0.0.1:40123.
func (p *FlinkPeer) RESTURL() string { return p.restURL }

// Version is the Flink version the cluster runs.
func (p *FlinkPeer) Version() string { return p.version }

// WorkDir is the peer's directory: flink.log, default checkpoints/ and savepoints/.
func (p *FlinkPeer) WorkDir() string { return p.dir }

// PID is the JVM's process id.
func (p *FlinkPeer) PID() int { return p.pid }

// StartupTime is how long the JVM took from exec to REST readiness.
func (p *FlinkPeer) StartupTime() time.Duration { return p.startup }

// Job is the job Flink() started (nil after StartFlink).
func (p *FlinkPeer) Job() *FlinkRun { return p.job }

// request sends one control request and waits (bounded) for its reply.
func (p *FlinkPeer) request(req map[string]any, timeout time.Duration) (json.RawMessage, error) {
	p.reqMu.Lock()
	defer p.reqMu.Unlock()
	if p.broken.Load() {
		return nil, errors.New("flink peer: an earlier request timed out; the peer is in an unknown state")
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("flink peer: writing request: %w", err)
	}
	select {
	case msg, ok := <-p.replies:
		if !ok {
			return nil, fmt.Errorf("flink peer: JVM exited; last log lines:\n%s", p.logTail(30))
		}
		return msg, nil
	case <-time.After(timeout):
		p.broken.Store(true)
		return nil, fmt.Errorf("flink peer: no reply to %q within %v", req["cmd"], timeout)
	}
}

// FlinkCause is one exception of a Flink error chain.
type FlinkCause struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// FlinkError is what Flink threw: the chain outermost first; Class and Message
// are the root cause's. Kind says where it surfaced: SUBMIT_FAILED (the client
// call), JOB_FAILED (the job failed, e.g. while restoring), TIMEOUT, LOAD_FAILED
// (the metadata loader), BAD_REQUEST.
type FlinkError struct {
	Kind    string       `json:"kind"`
	Class   string       `json:"class"`
	Message string       `json:"message"`
	Chain   []FlinkCause `json:"chain"`
}

func (e *FlinkError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flink %s", e.Kind)
	for _, c := range e.Chain {
		fmt.Fprintf(&b, "\n  %s: %s", c.Class, c.Message)
	}
	if len(e.Chain) == 0 {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// Find returns the first cause of the chain whose class ends with class (e.g.
// "IllegalStateException"), or nil.
func (e *FlinkError) Find(class string) *FlinkCause {
	for i := range e.Chain {
		if strings.HasSuffix(e.Chain[i].Class, class) {
			return &e.Chain[i]
		}
	}
	return nil
}

// Contains reports whether any message of the chain contains s.
func (e *FlinkError) Contains(s string) bool {
	for _, c := range e.Chain {
		if strings.Contains(c.Message, s) {
			return true
		}
	}
	return strings.Contains(e.Message, s)
}

// FlinkOutcome is what Flink did with a submitted (resumed) job: running with
// every task up (state restored), or failed with Flink's error.
type FlinkOutcome struct {
	OK    bool        `json:"ok"`
	JobID string      `json:"jobId"`
	State string      `json:"state"`
	Error *FlinkError `json:"error"`
	// Run is the running job when OK.
	Run *FlinkRun `json:"-"`
}

// Submit runs job on the cluster and waits until all its tasks run.
func (p *FlinkPeer) Submit(job FlinkJob) (*FlinkRun, error) {
	out := p.submit(job, nil)
	if !out.OK {
		if out.Error != nil {
			return nil, out.Error
		}
		return nil, fmt.Errorf("flink peer: job %s ended %s", out.JobID, out.State)
	}
	return out.Run, nil
}

// Resume submits job restored from path (flink run -s path [-n]) and reports
// Flink's outcome. A failed restore is an outcome, not an error of the harness.
func (p *FlinkPeer) Resume(path string, allowNonRestored bool, job FlinkJob) FlinkOutcome {
	return p.ResumeWith(job, FlinkRestore{Path: path, AllowNonRestoredState: allowNonRestored})
}

// ResumeWith is Resume with every restore setting (claim mode).
func (p *FlinkPeer) ResumeWith(job FlinkJob, restore FlinkRestore) FlinkOutcome {
	return p.submit(job, &restore)
}

func (p *FlinkPeer) submit(job FlinkJob, restore *FlinkRestore) FlinkOutcome {
	spec, err := p.jobSpec(job, restore)
	if err != nil {
		return FlinkOutcome{Error: &FlinkError{Kind: "BAD_REQUEST", Message: err.Error()}}
	}
	const wait = 120 * time.Second
	msg, err := p.request(map[string]any{"cmd": "submit", "job": spec, "waitMs": wait.Milliseconds()}, wait+30*time.Second)
	if err != nil {
		return FlinkOutcome{Error: &FlinkError{Kind: "HARNESS", Message: err.Error()}}
	}
	var out FlinkOutcome
	if err := json.Unmarshal(msg, &out); err != nil {
		return FlinkOutcome{Error: &FlinkError{Kind: "HARNESS", Message: fmt.Sprintf("bad reply %s: %v", msg, err)}}
	}
	if out.OK {
		out.Run = &FlinkRun{peer: p, id: out.JobID, job: p.withDefaults(job)}
	}
	return out
}

func (p *FlinkPeer) withDefaults(job FlinkJob) FlinkJob {
	if job.Name == "" {
		job.Name = "peer-job"
	}
	if len(job.Operators) == 0 {
		job.Operators = DefaultFlinkOperators()
	}
	if job.Parallelism == 0 {
		job.Parallelism = 1
	}
	if job.Keys == 0 {
		job.Keys = 16
	}
	if job.Rate == 0 {
		job.Rate = 50
	}
	if job.Backend == "" {
		job.Backend = "hashmap"
	}
	if job.CheckpointInterval == 0 {
		job.CheckpointInterval = 300 * time.Millisecond
	}
	if job.CheckpointDir == "" {
		job.CheckpointDir = filepath.Join(p.dir, "checkpoints")
	}
	if job.SavepointDir == "" {
		job.SavepointDir = filepath.Join(p.dir, "savepoints")
	}
	if job.Retention == "" {
		job.Retention = RetainOnCancellation
	}
	return job
}

// jobSpec is the JSON the Java side builds the job from. All Flink knowledge
// (config keys, valid for 1.20 and 2.x alike) stays here, on the Go side.
func (p *FlinkPeer) jobSpec(job FlinkJob, restore *FlinkRestore) (map[string]any, error) {
	job = p.withDefaults(job)
	switch job.Backend {
	case "hashmap", "rocksdb":
	default:
		return nil, fmt.Errorf("FlinkJob.Backend %q: want hashmap or rocksdb", job.Backend)
	}
	if job.Operators[0].Kind != "source" {
		return nil, fmt.Errorf("FlinkJob.Operators[0].Kind = %q: the first operator must be the source", job.Operators[0].Kind)
	}
	conf := map[string]string{
		"state.backend.type":                                        job.Backend,
		"execution.checkpointing.incremental":                       fmt.Sprint(job.Incremental),
		"execution.checkpointing.storage":                           "filesystem",
		"execution.checkpointing.dir":                               URI(job.CheckpointDir),
		"execution.checkpointing.savepoint-dir":                     URI(job.SavepointDir),
		"execution.checkpointing.externalized-checkpoint-retention": job.Retention,
		"restart-strategy.type":                                     "none",
	}
	if job.CheckpointInterval > 0 {
		conf["execution.checkpointing.interval"] = fmt.Sprintf("%d ms", job.CheckpointInterval.Milliseconds())
	}
	for k, v := range job.Config {
		conf[k] = v
	}
	rate := job.Rate
	if rate < 0 {
		rate = 0 // the Java side reads <= 0 as unlimited
	}
	spec := map[string]any{
		"name": job.Name, "operators": job.Operators, "parallelism": job.Parallelism,
		"maxParallelism": job.MaxParallelism, "keys": job.Keys, "rate": rate, "config": conf,
	}
	if job.KeyDist != "" {
		spec["keyDist"] = job.KeyDist
	}
	if restore != nil {
		if restore.Path == "" {
			return nil, errors.New("FlinkRestore.Path is empty")
		}
		spec["restore"] = map[string]any{"path": URI(restore.Path),
			"allowNonRestoredState": restore.AllowNonRestoredState, "claimMode": restore.ClaimMode}
	}
	return spec, nil
}

var uriScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// URI turns a local path into a file:// URI and leaves URIs (file:/x, hdfs://…) alone.
func URI(path string) string {
	if path == "" || uriScheme.MatchString(path) {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return "file://" + abs
}

// LocalPath turns what Flink reports (file:/x, file:///x) into a local path;
// other URIs are returned unchanged.
func LocalPath(uri string) string {
	switch {
	case strings.HasPrefix(uri, "file://"):
		return strings.TrimPrefix(uri, "file://")
	case strings.HasPrefix(uri, "file:"):
		return strings.TrimPrefix(uri, "file:")
	}
	return uri
}

// ---- the job ----

// Delegates to the job Flink() started; they fail the test when there is none.

func (p *FlinkPeer) mustJob() *FlinkRun {
	if p.job == nil {
		p.t.Fatalf("flink peer: no job (started with StartFlink; use Submit/Resume and their FlinkRun)")
	}
	return p.job
}

// JobID of the job Flink() started.
func (p *FlinkPeer) JobID() string { return p.mustJob().ID() }

// WaitCheckpoints: see FlinkRun.WaitCheckpoints.
func (p *FlinkPeer) WaitCheckpoints(n int) (string, error) { return p.mustJob().WaitCheckpoints(n) }

// TriggerSavepoint: see FlinkRun.TriggerSavepoint.
func (p *FlinkPeer) TriggerSavepoint(dir, format string) (string, error) {
	return p.mustJob().TriggerSavepoint(dir, format)
}

// StopWithSavepoint: see FlinkRun.StopWithSavepoint.
func (p *FlinkPeer) StopWithSavepoint(dir string, drain bool) (string, error) {
	return p.mustJob().StopWithSavepoint(dir, drain)
}

// Cancel: see FlinkRun.Cancel.
func (p *FlinkPeer) Cancel() error { return p.mustJob().Cancel() }

// CheckpointsDir: see FlinkRun.CheckpointsDir.
func (p *FlinkPeer) CheckpointsDir() string { return p.mustJob().CheckpointsDir() }

// ID is the job's 32-hex JobID.
func (r *FlinkRun) ID() string { return r.id }

// Job is the job description with defaults filled in.
func (r *FlinkRun) Job() FlinkJob { return r.job }

// CheckpointsDir is where the job's checkpoints go: <checkpoint dir>/<job id>
// (a local path for local dirs, else a URI). chk-N/ holds _metadata once N completed.
func (r *FlinkRun) CheckpointsDir() string {
	d := LocalPath(URI(r.job.CheckpointDir))
	if strings.Contains(d, "://") {
		return strings.TrimRight(d, "/") + "/" + r.id
	}
	return filepath.Join(d, r.id)
}

// FlinkCheckpoints is the part of GET /jobs/:id/checkpoints the tests use.
type FlinkCheckpoints struct {
	Counts struct {
		Restored   int `json:"restored"`
		Total      int `json:"total"`
		InProgress int `json:"in_progress"`
		Completed  int `json:"completed"`
		Failed     int `json:"failed"`
	} `json:"counts"`
	Latest struct {
		Completed *FlinkCheckpointStat `json:"completed"`
		Savepoint *FlinkCheckpointStat `json:"savepoint"`
		Failed    *FlinkCheckpointStat `json:"failed"`
		Restored  *struct {
			ID           int64  `json:"id"`
			IsSavepoint  bool   `json:"is_savepoint"`
			ExternalPath string `json:"external_path"`
		} `json:"restored"`
	} `json:"latest"`
}

// FlinkCheckpointStat is one checkpoint of the statistics.
type FlinkCheckpointStat struct {
	ID             int64  `json:"id"`
	Status         string `json:"status"`
	IsSavepoint    bool   `json:"is_savepoint"`
	CheckpointType string `json:"checkpoint_type"`
	StateSize      int64  `json:"state_size"`
	ExternalPath   string `json:"external_path"`
	FailureMessage string `json:"failure_message"`
}

// Checkpoints reads the job's checkpoint statistics.
func (r *FlinkRun) Checkpoints() (*FlinkCheckpoints, error) {
	var c FlinkCheckpoints
	if err := r.peer.rest(http.MethodGet, "/jobs/"+r.id+"/checkpoints", nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// State is the job's state (RUNNING, FINISHED, CANCELED, FAILED, ...).
func (r *FlinkRun) State() (string, error) {
	var j struct {
		State string `json:"state"`
	}
	if err := r.peer.rest(http.MethodGet, "/jobs/"+r.id, nil, &j); err != nil {
		return "", err
	}
	return j.State, nil
}

// WaitState waits (bounded) until the job is in state.
func (r *FlinkRun) WaitState(state string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		s, err := r.State()
		if err == nil {
			last = s
			if s == state {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("flink job %s: not %s within %v (last state %q)", r.id, state, timeout, last)
}

// WaitCheckpoints waits until at least n checkpoints completed (REST counts) and
// returns the latest completed one's external path (the chk-N directory, as Flink
// reports it: a file: or hdfs: URI). Bounded: 60 s plus 3 intervals per checkpoint.
func (r *FlinkRun) WaitCheckpoints(n int) (string, error) {
	timeout := 60*time.Second + time.Duration(3*n)*max(r.job.CheckpointInterval, 0)
	deadline := time.Now().Add(timeout)
	var last *FlinkCheckpoints
	for time.Now().Before(deadline) {
		c, err := r.Checkpoints()
		if err == nil {
			last = c
			if c.Counts.Completed >= n && c.Latest.Completed != nil {
				return c.Latest.Completed.ExternalPath, nil
			}
		}
		if s, err := r.State(); err == nil && s != "RUNNING" && s != "CREATED" && s != "INITIALIZING" {
			return "", fmt.Errorf("flink job %s is %s while waiting for %d checkpoints", r.id, s, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if last != nil && last.Latest.Failed != nil {
		return "", fmt.Errorf("flink job %s: %d of %d checkpoints completed within %v; last failure: %s",
			r.id, last.Counts.Completed, n, timeout, last.Latest.Failed.FailureMessage)
	}
	return "", fmt.Errorf("flink job %s: fewer than %d checkpoints completed within %v", r.id, n, timeout)
}

// TriggerCheckpoint triggers one checkpoint now (POST /jobs/:id/checkpoints, 1.17+)
// and returns its id once it completed. full forces a non-incremental one.
func (r *FlinkRun) TriggerCheckpoint(full bool) (int64, error) {
	kind := "CONFIGURED"
	if full {
		kind = "FULL"
	}
	var trig struct {
		RequestID string `json:"request-id"`
	}
	if err := r.peer.rest(http.MethodPost, "/jobs/"+r.id+"/checkpoints", map[string]any{"checkpointType": kind}, &trig); err != nil {
		return 0, err
	}
	var res struct {
		Status    struct{ ID string } `json:"status"`
		Operation struct {
			CheckpointID int64           `json:"checkpointId"`
			FailureCause json.RawMessage `json:"failureCause"`
		} `json:"operation"`
	}
	if err := r.peer.poll("/jobs/"+r.id+"/checkpoints/"+trig.RequestID, &res, func() bool { return res.Status.ID == "COMPLETED" }); err != nil {
		return 0, err
	}
	if len(res.Operation.FailureCause) > 0 && string(res.Operation.FailureCause) != "null" {
		return 0, fmt.Errorf("flink job %s: checkpoint failed: %s", r.id, failureText(res.Operation.FailureCause))
	}
	return res.Operation.CheckpointID, nil
}

// TriggerSavepoint takes a savepoint into dir ("" = the job's SavepointDir) in
// format (SavepointCanonical or SavepointNative; "" = canonical) and returns its
// path as Flink reports it (holds _metadata).
func (r *FlinkRun) TriggerSavepoint(dir, format string) (string, error) {
	if dir == "" {
		dir = r.job.SavepointDir
	}
	if format == "" {
		format = SavepointCanonical
	}
	return r.savepointOp("/jobs/"+r.id+"/savepoints",
		map[string]any{"target-directory": URI(dir), "cancel-job": false, "formatType": format})
}

// StopWithSavepoint stops the job with a savepoint into dir ("" = SavepointDir),
// waits until the job FINISHED, and returns the savepoint path. drain emits
// MAX_WATERMARK first (only for jobs retired for good).
func (r *FlinkRun) StopWithSavepoint(dir string, drain bool) (string, error) {
	return r.StopWithSavepointFormat(dir, drain, SavepointCanonical)
}

// StopWithSavepointFormat is StopWithSavepoint with a savepoint format.
func (r *FlinkRun) StopWithSavepointFormat(dir string, drain bool, format string) (string, error) {
	if dir == "" {
		dir = r.job.SavepointDir
	}
	path, err := r.savepointOp("/jobs/"+r.id+"/stop",
		map[string]any{"targetDirectory": URI(dir), "drain": drain, "formatType": format})
	if err != nil {
		return "", err
	}
	return path, r.WaitState("FINISHED", 60*time.Second)
}

func (r *FlinkRun) savepointOp(path string, body map[string]any) (string, error) {
	var trig struct {
		RequestID string `json:"request-id"`
	}
	if err := r.peer.rest(http.MethodPost, path, body, &trig); err != nil {
		return "", err
	}
	var res struct {
		Status    struct{ ID string } `json:"status"`
		Operation struct {
			Location     string          `json:"location"`
			FailureCause json.RawMessage `json:"failure-cause"`
		} `json:"operation"`
	}
	if err := r.peer.poll("/jobs/"+r.id+"/savepoints/"+trig.RequestID, &res, func() bool { return res.Status.ID == "COMPLETED" }); err != nil {
		return "", err
	}
	if res.Operation.Location == "" {
		return "", fmt.Errorf("flink job %s: savepoint failed: %s", r.id, failureText(res.Operation.FailureCause))
	}
	return res.Operation.Location, nil
}

// Cancel cancels the job (PATCH /jobs/:id?mode=cancel) and waits until CANCELED.
func (r *FlinkRun) Cancel() error {
	if err := r.peer.rest(http.MethodPatch, "/jobs/"+r.id+"?mode=cancel", nil, nil); err != nil {
		return err
	}
	return r.WaitState("CANCELED", 60*time.Second)
}

// failureText is the first lines of a REST failure-cause's stack trace.
func failureText(raw json.RawMessage) string {
	var fc struct {
		Class      string `json:"class"`
		StackTrace string `json:"stack-trace"`
	}
	if json.Unmarshal(raw, &fc) == nil && fc.StackTrace != "" {
		lines := strings.Split(fc.StackTrace, "\n")
		var keep []string
		for _, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), "at ") {
				continue
			}
			keep = append(keep, strings.TrimSpace(l))
			if len(keep) == 6 {
				break
			}
		}
		return strings.Join(keep, " | ")
	}
	return string(raw)
}

// ---- REST ----

// rest does one JSON call against the cluster's REST API; non-2xx answers become
// errors carrying Flink's "errors" list.
func (p *FlinkPeer) rest(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.restURL+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("flink REST %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("flink REST %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Errors []string `json:"errors"`
		}
		_ = json.Unmarshal(b, &e)
		msg := strings.Join(e.Errors, "; ")
		if msg == "" {
			msg = string(b)
		}
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return fmt.Errorf("flink REST %s %s: HTTP %d: %s", method, path, resp.StatusCode, msg)
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("flink REST %s %s: decoding %q: %w", method, path, b, err)
		}
	}
	return nil
}

// poll GETs path into out until done() or 120 s passed.
func (p *FlinkPeer) poll(path string, out any, done func() bool) error {
	deadline := time.Now().Add(120 * time.Second)
	for time.Now().Before(deadline) {
		if err := p.rest(http.MethodGet, path, nil, out); err != nil {
			return err
		}
		if done() {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("flink REST %s: not completed within 120 s", path)
}

// ---- jar submission (POST /jars/upload, /jars/:id/run) ----

// FlinkJobEntryClass is the entry class of JobJar: it builds the job from ProgramArgs.
const FlinkJobEntryClass = "dev.ckpt.peer.PeerJob"

// JobJar is the harness's job jar for this Flink version, for clients that submit
// like a user would: POST /jars/upload (part "jarfile"), then POST /jars/:id/run
// with entryClass FlinkJobEntryClass, programArgsList ProgramArgs(job) and, to
// resume, savepointPath/allowNonRestoredState/claimMode (restoreMode on 1.20).
func (p *FlinkPeer) JobJar() string {
	return filepath.Join(Dir(), "flink", "target", "flink-"+p.version, "ckpt-flink-peer.jar")
}

// ProgramArgs are the program arguments that make JobJar's entry class run job.
func (p *FlinkPeer) ProgramArgs(job FlinkJob) ([]string, error) {
	spec, err := p.jobSpec(job, nil)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return []string{"--job", string(b)}, nil
}

// Run returns a handle for a job submitted by other means (e.g. /jars/:id/run).
func (p *FlinkPeer) Run(jobID string, job FlinkJob) *FlinkRun {
	return &FlinkRun{peer: p, id: jobID, job: p.withDefaults(job)}
}

// ---- metadata loader and throughput ----

// FlinkMetadata is what Flink's own loader (Checkpoints.loadCheckpointMetadata)
// read from a _metadata file.
type FlinkMetadata struct {
	Path            string               `json:"path"`
	ExternalPointer string               `json:"externalPointer"`
	MetadataBytes   int64                `json:"metadataBytes"`
	CheckpointID    int64                `json:"checkpointId"`
	CheckpointType  string               `json:"checkpointType"` // "Checkpoint", "Savepoint", ...
	Savepoint       bool                 `json:"savepoint"`
	MasterStates    int                  `json:"masterStates"`
	Operators       []FlinkOperatorState `json:"operators"`
	// Wall time of each load (resolve the path, open, decode), in ns.
	LoadNanos   []int64 `json:"loadNanos"`
	BestNanos   int64   `json:"bestNanos"`
	MedianNanos int64   `json:"medianNanos"`
}

// FlinkOperatorState is one operator of a loaded _metadata.
type FlinkOperatorState struct {
	ID               string `json:"id"`   // operator ID, 32 hex
	Name             string `json:"name"` // recorded from Flink 2.0 on (format v5+), else ""
	UID              string `json:"uid"`  // recorded from Flink 2.0 on, else ""
	Parallelism      int    `json:"parallelism"`
	MaxParallelism   int    `json:"maxParallelism"`
	SubtaskStates    int    `json:"subtaskStates"`
	StateSize        int64  `json:"stateSize"`
	CheckpointedSize int64  `json:"checkpointedSize"`
	CoordinatorState bool   `json:"coordinatorState"`
	FullyFinished    bool   `json:"fullyFinished"`
}

// Operator returns the operator with the given uid (Flink 2.x metadata only), or nil.
func (m *FlinkMetadata) Operator(uid string) *FlinkOperatorState {
	for i := range m.Operators {
		if m.Operators[i].UID == uid {
			return &m.Operators[i]
		}
	}
	return nil
}

func decodeMetadataReply(msg []byte) (*FlinkMetadata, error) {
	var r struct {
		OK    bool        `json:"ok"`
		Error *FlinkError `json:"error"`
		FlinkMetadata
	}
	if err := json.Unmarshal(msg, &r); err != nil {
		return nil, fmt.Errorf("flink peer: bad load-metadata reply %q: %w", msg, err)
	}
	if !r.OK {
		if r.Error == nil {
			return nil, fmt.Errorf("flink peer: load-metadata failed: %s", msg)
		}
		return nil, r.Error
	}
	return &r.FlinkMetadata, nil
}

// LoadMetadata reads path (a snapshot directory or its _metadata; local or URI)
// with Flink's own loader inside the running cluster's JVM, repeat times (timed).
func (p *FlinkPeer) LoadMetadata(path string, repeat int) (*FlinkMetadata, error) {
	msg, err := p.request(map[string]any{"cmd": "load-metadata", "path": URI(path), "repeat": max(repeat, 1)}, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	return decodeMetadataReply(msg)
}

// FlinkLoadMetadata reads path with Flink's own loader in a fresh JVM of version
// (no cluster), repeat times. A file Flink cannot read gives a *FlinkError.
func FlinkLoadMetadata(t testing.TB, version, path string, repeat int) (*FlinkMetadata, error) {
	t.Helper()
	if version == "" {
		version = FlinkVersion2
	}
	if !slices.Contains(FlinkVersions, version) {
		t.Fatalf("flink peer: no build for Flink %q (have %v)", version, FlinkVersions)
	}
	classpath := flinkClasspath(t, version)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "java", flinkJavaArgs(classpath, 2048, "load-metadata",
		URI(path), "--repeat", fmt.Sprint(max(repeat, 1)))...)
	cmd.Env = flinkEnv(version)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, replyPrefix) {
			return decodeMetadataReply([]byte(line[len(replyPrefix):]))
		}
	}
	return nil, fmt.Errorf("flink load-metadata %s: %v, no result; stderr:\n%s", path, runErr, flinkLastLines(stderr.String(), 20))
}

// FlinkThroughput is a throughput measurement of a job on the peer.
type FlinkThroughput struct {
	JobID            string  `json:"jobId"`
	Records          int64   `json:"records"`
	Seconds          float64 `json:"seconds"`
	RecordsPerSecond float64 `json:"recordsPerSecond"`
}

// Throughput runs job, lets it warm up, counts the records that reach the last
// operator before the sink during measure, then cancels the job. Use Rate:
// UnlimitedRate for a benchmark.
func (p *FlinkPeer) Throughput(job FlinkJob, warmup, measure time.Duration) (*FlinkThroughput, error) {
	spec, err := p.jobSpec(job, nil)
	if err != nil {
		return nil, err
	}
	msg, err := p.request(map[string]any{"cmd": "throughput", "job": spec,
		"warmupMs": warmup.Milliseconds(), "measureMs": measure.Milliseconds()}, warmup+measure+3*time.Minute)
	if err != nil {
		return nil, err
	}
	var r struct {
		OK    bool        `json:"ok"`
		Error *FlinkError `json:"error"`
		FlinkThroughput
	}
	if err := json.Unmarshal(msg, &r); err != nil {
		return nil, fmt.Errorf("flink peer: bad throughput reply %q: %w", msg, err)
	}
	if !r.OK {
		return nil, r.Error
	}
	return &r.FlinkThroughput, nil
}

// ---- helpers ----

var flinkPruneOnce sync.Once

// pruneFlinkWork removes peer work dirs older than age, so logs of old runs do
// not pile up under peers/work/flink.
func pruneFlinkWork(root string, age time.Duration) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && e.IsDir() && time.Since(fi.ModTime()) > age {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

var flinkUnsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func flinkSafeName(name string) string {
	s := flinkUnsafeChars.ReplaceAllString(name, "_")
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func flinkLastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
