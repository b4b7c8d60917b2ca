package conformance

import (
	"bufio"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/embedded"
	"github.com/ckpt-dev/ckpt/cluster/restserver"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/peers"
)

func TestMain(m *testing.M) { peers.RunTests(m) }

// ConformanceSpec is the conformance job for ckpt's engine: the same shape
// as the Flink peer's job (keyed count at parallelism 2, two vertices,
// retained non-incremental checkpoints every 200 ms).
const ConformanceSpec = `name: conformance
parallelism: 2
config:
  execution.checkpointing.interval: 200 ms
  execution.checkpointing.incremental: false
  execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION
pipeline:
  - op: generator
    uid: gen-source
    keys: 16
    rate: 200
  - op: keyBy
  - op: count
    uid: count-per-key
  - op: discard
    uid: sink
`

// TestConformanceServe runs the suite against ckpt serve's REST server
// over the embedded engine, in process.
func TestConformanceServe(t *testing.T) {
	dir := t.TempDir()
	cfg := config.New()
	if err := cfg.Set(config.CheckpointDir, "file://"+filepath.Join(dir, "checkpoints"), "test"); err != nil {
		t.Fatal(err)
	}
	c := embedded.New(embedded.Options{Config: cfg})
	srv := httptest.NewServer(restserver.New(c, restserver.Options{}))
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.Close(ctx)
	}()
	Run(t, Target{Name: "ckpt serve", URL: srv.URL, Dir: filepath.Join(dir, "savepoints"),
		Program: func(t *testing.T) (string, []byte, cluster.RunRequest) {
			return "conformance.yaml", []byte(ConformanceSpec), cluster.RunRequest{}
		}})
}

// TestConformanceServeBinary runs the suite against the real binary:
// `ckpt serve --port 0` as a subprocess, stopped with SIGTERM afterwards.
func TestConformanceServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "ckpt")
	if out, err := exec.Command("go", "build", "-o", bin, "../..").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--port", "0", "-Dexecution.checkpointing.dir=file://"+filepath.Join(dir, "checkpoints"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	url := ""
	re := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	for url == "" && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			url = m[1]
		}
	}
	if url == "" {
		t.Fatal("ckpt serve did not say where it listens")
	}
	go io.Copy(io.Discard, stderr)
	Run(t, Target{Name: "ckpt serve (binary)", URL: url, Dir: filepath.Join(dir, "savepoints"),
		Program: func(t *testing.T) (string, []byte, cluster.RunRequest) {
			return "conformance.yaml", []byte(ConformanceSpec), cluster.RunRequest{}
		}})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("ckpt serve after SIGTERM: %v", err)
	}
}

// TestConformanceFlink runs the same suite against real Flink 2.3.0 and
// 1.20.5 (the peer's MiniCluster REST API, jobs submitted as a jar).
// CKPT_CONFORMANCE_RECORD=1 records the golden shapes from them instead.
func TestConformanceFlink(t *testing.T) {
	var rec *Recorder
	if os.Getenv("CKPT_CONFORMANCE_RECORD") == "1" {
		rec = &Recorder{}
	}
	for _, v := range peers.FlinkVersions {
		t.Run(v, func(t *testing.T) {
			p := peers.StartFlink(t, peers.FlinkOptions{Version: v})
			Run(t, Target{Name: "Flink " + v, URL: p.RESTURL(), Dir: t.TempDir(), Record: rec,
				Program: func(t *testing.T) (string, []byte, cluster.RunRequest) {
					jar, err := os.ReadFile(p.JobJar())
					if err != nil {
						t.Fatal(err)
					}
					args, err := p.ProgramArgs(peers.FlinkJob{Parallelism: 2, CheckpointInterval: 200 * time.Millisecond,
						Rate: 200, Retention: peers.RetainOnCancellation})
					if err != nil {
						t.Fatal(err)
					}
					return "ckpt-flink-peer.jar", jar, cluster.RunRequest{EntryClass: peers.FlinkJobEntryClass, ProgramArgs: args}
				}})
		})
	}
	if rec != nil && !t.Failed() {
		if err := rec.Write(ShapesDir()); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded golden shapes into %s", ShapesDir())
	}
}
