package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/event"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/runner"
)

// runnerBenchSpecs are the job specs of jobs/ the runner benchmark runs,
// with the number of records their generator stops after (a round of both
// sides then takes 10-20 s on this project's machine at a load of ~2);
// CKPT_BENCH_RUNNER_LIMIT overrides it for every spec.
var runnerBenchSpecs = []struct {
	name  string
	limit int
}{
	{"throughput", 3_000_000},
	{"exactly-once-counts", 4_000_000},
}

// sideRun is one bounded run of a spec on one side: the records its
// source emitted and the wall time from RUNNING to FINISHED, as that side
// stamps its own job status.
type sideRun struct {
	records int64
	wall    time.Duration
	// deploy is, on Flink, the part of wall before the last task was
	// RUNNING (scheduling and deploying the tasks, in Flink's subtask
	// timestamps); the engine's RUNNING comes after its tasks opened.
	deploy time.Duration
}

func (r sideRun) recPerSec() float64 { return float64(r.records) / r.wall.Seconds() }

// BenchmarkRunnerVsEngine (issue 16): the same job spec run to the end on
// ckpt's embedded engine and through ckpt's runner for Flink (runner.Run,
// the path of `ckpt submit SPEC -m FLINK`) on a real Flink 2.3 MiniCluster,
// same machine, same operators, uids, parallelism and configuration (the
// spec's checkpoint interval included; Flink's state backend is its default,
// heap). Each spec is made bounded — its generator stops after a fixed
// number of records, without a rate — and writes under the benchmark's
// temporary directory. records/s is the same on both sides: the records the
// source emitted (the limit; checked against each side's own counter,
// records out of the source) over the wall time from the job's RUNNING to
// its FINISHED, as the side itself stamps them (the engine's status events;
// Flink's job timestamps, whose RUNNING comes before its tasks are deployed,
// so Flink's figure includes deployment and ckpt's does not include opening
// its operators; Flink's rate from its last task's RUNNING on, from the
// subtask timestamps, is given beside it). Sides alternate (which goes first alternates too) for
// CKPT_BENCH_ROUNDS rounds (default 3); medians are compared; the load
// average is reported. One Flink cluster serves every round.
func BenchmarkRunnerVsEngine(b *testing.B) {
	load0 := loadAvg()
	var jar *runner.Jar
	var client *flinkrest.Client
	var restURL string
	flinkWhy := flinkMissing()
	if flinkWhy == "" {
		jar = runnerJar(b)
		p := peers.StartFlink(b, peers.FlinkOptions{})
		restURL = p.RESTURL()
		var err error
		if client, err = flinkrest.New(restURL, flinkrest.Options{}); err != nil {
			b.Fatal(err)
		}
	} else {
		b.Logf("SKIPPING the Flink side (only ckpt's engine is measured): %s", flinkWhy)
	}
	limitOver, _ := strconv.Atoi(os.Getenv("CKPT_BENCH_RUNNER_LIMIT"))
	for _, sp := range runnerBenchSpecs {
		limit := sp.limit
		if limitOver > 0 {
			limit = limitOver
		}
		var ours, theirs, theirsDeployed []float64
		for r := 0; r < rounds(); r++ {
			sides := []string{"engine", "flink"}
			if r%2 == 1 {
				slices.Reverse(sides)
			}
			for _, side := range sides {
				if side == "flink" && client == nil {
					continue
				}
				path := benchSpec(b, sp.name, limit)
				var res sideRun
				if side == "engine" {
					res = runOnEngine(b, path)
				} else {
					res = runOnRunner(b, client, restURL, jar, path)
				}
				if res.records != int64(limit) {
					b.Fatalf("%s on %s: the source emitted %d records, want %d", sp.name, side, res.records, limit)
				}
				deployed := ""
				if side == "flink" {
					deployed = fmt.Sprintf(" (%s of it deploying the tasks; %.0f rec/s after)", res.deploy.Round(time.Millisecond),
						float64(res.records)/(res.wall-res.deploy).Seconds())
				}
				b.Logf("%s round %d, %s: %d records in %s: %.0f rec/s%s (load %.1f)",
					sp.name, r+1, side, res.records, res.wall.Round(time.Millisecond), res.recPerSec(), deployed, loadAvg())
				if side == "engine" {
					ours = append(ours, res.recPerSec())
				} else {
					theirs = append(theirs, res.recPerSec())
					theirsDeployed = append(theirsDeployed, float64(res.records)/(res.wall-res.deploy).Seconds())
				}
			}
		}
		b.ReportMetric(median(ours), sp.name+"-ckpt-rec/s")
		if len(theirs) == 0 {
			b.Logf("%s: medians over %d rounds: ckpt's engine %.0f rec/s", sp.name, rounds(), median(ours))
			continue
		}
		ratio := median(ours) / median(theirs)
		b.ReportMetric(median(theirs), sp.name+"-runner-on-flink-rec/s")
		b.ReportMetric(ratio, sp.name+"-ckpt/flink")
		b.Logf("%s (%d records): medians over %d rounds: ckpt's engine %.0f rec/s, the runner on Flink %s %.0f rec/s (%.0f once its tasks ran); engine/runner = %.2f (%.2f)",
			sp.name, limit, rounds(), median(ours), peers.FlinkVersion2, median(theirs), median(theirsDeployed), ratio,
			median(ours)/median(theirsDeployed))
	}
	b.ReportMetric(loadAvg(), "load-avg-end")
	b.Logf("load average %.1f → %.1f", load0, loadAvg())
}

// runnerJar builds ckpt's runner for Flink (runner/build.sh does nothing
// when its sources are unchanged) and loads it.
func runnerJar(b *testing.B) *runner.Jar {
	b.Helper()
	root := filepath.Dir(peers.Dir())
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "bash", filepath.Join(root, "runner", "build.sh")).CombinedOutput(); err != nil {
		b.Fatalf("runner/build.sh: %v\n%s", err, out)
	}
	b.Setenv(runner.JarEnv, filepath.Join(root, "runner", "target", runner.JarName))
	j, err := runner.LoadJar()
	if err != nil {
		b.Fatal(err)
	}
	return j
}

// benchSpec writes jobs/NAME.yaml made bounded and local to this run: the
// generator stops after limit records (no rate), checkpoints go to a fresh
// temporary directory and a file sink writes to another. Operators, uids,
// parallelism and the rest of the configuration stay the spec's.
func benchSpec(b *testing.B, name string, limit int) string {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("..", "jobs", name+".yaml"))
	if err != nil {
		b.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	root := doc.Content[0]
	tmp := b.TempDir()
	set := func(m *yaml.Node, k, v string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: v}
				return
			}
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	get := func(m *yaml.Node, k string) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				return m.Content[i+1]
			}
		}
		return nil
	}
	if cfg := get(root, "config"); cfg != nil {
		set(cfg, "execution.checkpointing.dir", peers.URI(filepath.Join(tmp, "chk")))
	}
	sources := 0
	for _, st := range get(root, "pipeline").Content {
		switch op := get(st, "op").Value; op {
		case "generator":
			sources++
			set(st, "rate", "0")
			set(st, "limit", strconv.Itoa(limit))
		case "file-sink":
			set(st, "path", filepath.Join(tmp, "out"))
		case "file":
			b.Fatalf("jobs/%s.yaml: a file source: the benchmark sizes runs by a generator's limit", name)
		}
	}
	if sources != 1 {
		b.Fatalf("jobs/%s.yaml: %d generators, want one", name, sources)
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(tmp, name+".yaml")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// runOnEngine runs the spec at path to its end on ckpt's embedded engine,
// as ckpt run does.
func runOnEngine(b *testing.B, path string) sideRun {
	b.Helper()
	s, err := spec.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	settle()
	job, err := engine.SubmitSpec(context.Background(), s, nil, nil, engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	events, _ := job.Subscribe()
	var running, finished time.Time
	for e := range events {
		if e.Kind != event.JobStatusChanged {
			continue
		}
		switch engine.Status(e.Status) {
		case engine.Running:
			running = e.Time
		case engine.Finished:
			finished = e.Time
		}
	}
	if st, err := job.Wait(); st != engine.Finished {
		b.Fatalf("%s on ckpt's engine ended %s: %v", path, st, err)
	}
	if running.IsZero() || finished.IsZero() {
		b.Fatalf("%s on ckpt's engine: missed its RUNNING (%v) or FINISHED (%v) event", path, running, finished)
	}
	return sideRun{records: job.Metrics()[0].RecordsOut, wall: finished.Sub(running)}
}

// runOnRunner runs the spec at path to its end through ckpt's runner on
// the Flink cluster behind c (runner.Run, as ckpt submit -m does).
func runOnRunner(b *testing.B, c *flinkrest.Client, restURL string, jar *runner.Jar, path string) sideRun {
	b.Helper()
	s, err := spec.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	prog, err := runner.ProgramFor(s, nil, nil, filepath.Dir(path))
	if err != nil {
		b.Fatal(err)
	}
	settle()
	ctx := context.Background()
	id, _, _, err := runner.Run(ctx, c, jar, prog, cluster.RunRequest{})
	if err != nil {
		b.Fatalf("running %s through the runner: %v", path, err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		j, err := c.Job(ctx, id)
		switch {
		case err == nil && j.Status == cluster.JobFinished:
			if len(j.Vertices) == 0 || !j.Timestamps[cluster.JobRunning].Before(j.Timestamps[cluster.JobFinished]) {
				b.Fatalf("Flink job %s: no vertices or timestamps %v", id, j.Timestamps)
			}
			// The first vertex is the generator's (keyBy ends its chain):
			// what it wrote is what it emitted.
			running := j.Timestamps[cluster.JobRunning]
			return sideRun{records: j.Vertices[0].Metrics.WriteRecords,
				wall:   j.Timestamps[cluster.JobFinished].Sub(running),
				deploy: tasksRunning(b, restURL, j).Sub(running)}
		case err == nil && j.Status.Terminal():
			msg := ""
			if x, err := c.Exceptions(ctx, id); err == nil && len(x.Entries) > 0 {
				msg = x.Entries[0].Message()
			}
			b.Fatalf("Flink job %s (%s) ended %s: %s", id, path, j.Status, msg)
		case time.Now().After(deadline):
			b.Fatalf("Flink job %s (%s) not FINISHED within 5 min (%v)", id, path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tasksRunning is when the last task of Flink job j turned RUNNING (the
// subtask timestamps of GET /jobs/:jobid/vertices/:vertexid/subtasktimes).
func tasksRunning(b *testing.B, restURL string, j *cluster.Job) time.Time {
	b.Helper()
	var last int64
	for _, v := range j.Vertices {
		resp, err := http.Get(restURL + "/jobs/" + j.ID + "/vertices/" + v.ID + "/subtasktimes")
		if err != nil {
			b.Fatal(err)
		}
		var st struct {
			Subtasks []struct {
				Timestamps map[string]int64 `json:"timestamps"`
			} `json:"subtasks"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil || len(st.Subtasks) == 0 {
			b.Fatalf("subtask times of vertex %s: %v (%d subtasks)", v.Name, err, len(st.Subtasks))
		}
		for _, s := range st.Subtasks {
			last = max(last, s.Timestamps["RUNNING"])
		}
	}
	return time.UnixMilli(last)
}
