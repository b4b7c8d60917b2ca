package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/runner"
)

var (
	runnerBuildOnce sync.Once
	runnerBuildErr  error
	runnerBuildOut  []byte
)

// needRunnerJar builds ckpt's runner for Flink (runner/build.sh: nothing to
// do when its sources have not changed) and points ckpt submit at it. Like
// the real peers it needs Java and Maven: without them the test skips
// loudly (fails under CI=true or CKPT_REQUIRE_PEERS=1).
func needRunnerJar(t *testing.T) {
	t.Helper()
	if missing := peers.Tools(); missing != "" {
		peers.Unavailable(t, "ckpt runner for Flink: %s", missing)
	}
	root := filepath.Dir(peers.Dir())
	runnerBuildOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		runnerBuildOut, runnerBuildErr = exec.CommandContext(ctx, "bash", filepath.Join(root, "runner", "build.sh")).CombinedOutput()
	})
	if runnerBuildErr != nil {
		t.Fatalf("runner/build.sh: %v\n%s", runnerBuildErr, runnerBuildOut)
	}
	t.Setenv(runner.JarEnv, filepath.Join(root, "runner", "target", runner.JarName))
}

// runnerVariant rewrites a job spec of jobs/ so that it ends and writes
// where the test looks: generators stop after limit records (no rate),
// file paths are absolute, a file sink writes to out, stdout lines carry
// prefix, and checkpoints (every 200 ms) go to chk. The operators, uids and
// parallelism stay the spec's.
func runnerVariant(t *testing.T, specPath string, limit int, out, prefix, chk string) string {
	t.Helper()
	data, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	set := func(m *yaml.Node, k, v string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				m.Content[i+1] = &yaml.Node{Kind: yaml.ScalarNode, Value: v}
				return
			}
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	del := func(m *yaml.Node, k string) {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				m.Content = slices.Delete(m.Content, i, i+2)
				return
			}
		}
	}
	get := func(m *yaml.Node, k string) *yaml.Node {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				return m.Content[i+1]
			}
		}
		return nil
	}
	cfg := get(root, "config")
	if cfg == nil {
		cfg = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "config"}, cfg)
	}
	set(cfg, "execution.checkpointing.interval", "200 ms")
	set(cfg, "execution.checkpointing.dir", peers.URI(chk))
	for _, st := range get(root, "pipeline").Content {
		switch get(st, "op").Value {
		case "generator":
			del(st, "rate")
			if limit > 0 {
				set(st, "limit", strconv.Itoa(limit))
			} else {
				del(st, "limit")
				set(st, "rate", "2000")
			}
		case "file":
			abs, err := filepath.Abs(filepath.Join("..", get(st, "path").Value))
			if err != nil {
				t.Fatal(err)
			}
			set(st, "path", abs)
		case "file-sink":
			set(st, "path", out)
		case "stdout":
			set(st, "prefix", prefix)
		}
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(specPath))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// committedLines is every line of the committed files (part-*) of a file
// sink's directory, sorted; in-progress files left behind are an error.
func committedLines(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range ents {
		switch {
		case strings.HasPrefix(e.Name(), "part-"):
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			lines = append(lines, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
		case strings.HasSuffix(e.Name(), ".inprogress"):
			t.Errorf("%s: in-progress file %s left after the job finished", dir, e.Name())
		}
	}
	sort.Strings(lines)
	return lines
}

// prefixedLines is the lines of file that start with prefix (cut off), sorted.
func prefixedLines(t *testing.T, file, prefix string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), prefix); ok {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// runEngine runs a bounded spec on ckpt's engine (ckpt run) and returns
// what its stdout sinks printed.
func runEngine(t *testing.T, spec string) string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stdout
	os.Stdout = f
	code, out, errOut := runCkpt(t, "run", spec)
	os.Stdout = saved
	f.Close()
	if code != ExitOK || !strings.Contains(out+errOut, "FINISHED") {
		t.Fatalf("ckpt run %s: exit %d\nstdout:\n%s\nstderr:\n%s", spec, code, out, errOut)
	}
	return f.Name()
}

func waitJob(t *testing.T, c *flinkrest.Client, id string, want cluster.JobStatus, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		j, err := c.Job(context.Background(), id)
		if err == nil && j.Status == want {
			return
		}
		if err == nil && j.Status.Terminal() {
			msg := ""
			if x, err := c.Exceptions(context.Background(), id); err == nil && len(x.Entries) > 0 {
				msg = x.Entries[0].Message()
			}
			t.Fatalf("job %s is %s, want %s: %s", id, j.Status, want, msg)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not %s within %v (%v, %v)", id, want, d, j, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRunnerOnFlink is the proof of ckpt's runner for Flink on a REAL
// Flink 2.x (one cluster for every subtest): every job spec in jobs/ runs
// on Flink through the runner and produces exactly the output it produces
// on ckpt's engine; the runner jar is uploaded once and reused; a
// savepoint of a runner job passes `ckpt inspect --against SPEC` (the
// operator IDs are the engine's) and resumes through ckpt submit -s; a
// spec using an operator the runner lacks is refused before any upload.
// Cost: about 80 s (one Flink start, four bounded jobs, two savepoints).
func TestRunnerOnFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: skipped with -short")
	}
	needRunnerJar(t)
	t.Setenv(JobManagerEnv, "")
	p := peers.StartFlink(t, peers.FlinkOptions{})
	url := p.RESTURL()
	c, err := flinkrest.New(url, flinkrest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := filepath.Glob(filepath.Join("..", "jobs", "*.yaml"))
	if err != nil || len(specs) == 0 {
		t.Fatalf("no job specs in jobs/: %v", err)
	}
	uploads := 0
	for _, spec := range specs {
		name := strings.TrimSuffix(filepath.Base(spec), ".yaml")
		t.Run("jobs/"+name, func(t *testing.T) {
			tmp := t.TempDir()
			prefix := "runner-test " + name + " "
			engineSpec := runnerVariant(t, spec, 20000, filepath.Join(tmp, "engine-out"), prefix, filepath.Join(tmp, "engine-chk"))
			flinkSpec := runnerVariant(t, spec, 20000, filepath.Join(tmp, "flink-out"), prefix, filepath.Join(tmp, "flink-chk"))
			engineStdout := runEngine(t, engineSpec)

			code, out, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", flinkSpec)
			if code != ExitOK {
				t.Fatalf("ckpt submit: exit %d\n%s\n%s", code, out, errOut)
			}
			if strings.Contains(out, ": uploaded ckpt-flink-runner-") {
				uploads++
			}
			id := submittedID(t, out)
			waitJob(t, c, id, cluster.JobFinished, 90*time.Second)

			if _, err := os.Stat(filepath.Join(tmp, "engine-out")); err == nil {
				want := committedLines(t, filepath.Join(tmp, "engine-out"))
				got := committedLines(t, filepath.Join(tmp, "flink-out"))
				t.Logf("file sink: %d committed lines", len(want))
				if len(want) == 0 || !slices.Equal(got, want) {
					t.Errorf("file sink: Flink committed %d lines, the engine %d; they differ (first: %q vs %q)", len(got), len(want), first(got), first(want))
				}
			}
			specText, _ := os.ReadFile(spec)
			want := prefixedLines(t, engineStdout, prefix)
			if strings.Contains(string(specText), "op: stdout") {
				if len(want) == 0 {
					t.Fatalf("the engine printed nothing with prefix %q", prefix)
				}
				// The peer copies the cluster's stdout into its log as it comes.
				var got []string
				for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
					got = prefixedLines(t, filepath.Join(p.WorkDir(), "flink.log"), "stdout: "+prefix)
					if len(got) >= len(want) || time.Now().After(deadline) {
						break
					}
				}
				t.Logf("stdout: %d equal lines", len(want))
				if !slices.Equal(got, want) {
					t.Errorf("stdout: Flink printed %d lines, the engine %d; they differ (first: %q vs %q)", len(got), len(want), first(got), first(want))
				}
			}
		})
	}
	if uploads != 1 {
		t.Errorf("the runner jar was uploaded %d times for %d specs, want once (then reused by its checksum)", uploads, len(specs))
	}

	// Savepoints of runner jobs: every operator ID in them is one the engine
	// gives the spec (uids, and generated IDs of operators without one:
	// windowed-counts' filter and stdout), so inspect --against restores
	// all of them and drops, skips or adds none; the resume through ckpt
	// submit -s passes the same dry run.
	for _, tc := range []struct {
		spec   string
		resume bool
	}{{"exactly-once-counts", true}, {"windowed-counts", false}} {
		t.Run("savepoint passes inspect --against/"+tc.spec, func(t *testing.T) {
			tmp := t.TempDir()
			spec := runnerVariant(t, filepath.Join("..", "jobs", tc.spec+".yaml"), 0, filepath.Join(tmp, "out"), "runner-test savepoint ", filepath.Join(tmp, "chk"))
			code, out, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", spec)
			if code != ExitOK || !strings.Contains(out, "reusing ckpt-flink-runner-") {
				t.Fatalf("ckpt submit: exit %d\n%s\n%s", code, out, errOut)
			}
			id := submittedID(t, out)
			waitCheckpoints(t, url, id, 1)
			// The spec's config: reaches Flink: its checkpoints are in the
			// spec's directory.
			if chk, _ := filepath.Glob(filepath.Join(tmp, "chk", id, "chk-*")); len(chk) == 0 {
				t.Errorf("no checkpoint of job %s in the spec's execution.checkpointing.dir %s", id, filepath.Join(tmp, "chk"))
			}
			code, out, errOut = runCkpt(t, "stop", "-m", url, "-p", filepath.Join(tmp, "sp"), id)
			m := regexp.MustCompile(`Savepoint completed\. Path: (\S+)`).FindStringSubmatch(out)
			if code != ExitOK || m == nil {
				t.Fatalf("ckpt stop: exit %d\n%s\n%s", code, out, errOut)
			}
			sp := m[1]
			code, out, errOut = runCkpt(t, "inspect", "--json", "--against", spec, sp)
			if code != ExitOK {
				t.Fatalf("inspect --against: exit %d\n%s\n%s", code, out, errOut)
			}
			var doc struct {
				Resume *inspector.ResumePlan `json:"resume"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Resume == nil {
				t.Fatalf("inspect --json --against: %v\n%s", err, out)
			}
			target, err := specTarget(spec)
			if err != nil {
				t.Fatal(err)
			}
			plan := doc.Resume
			if len(plan.Restored) != len(target.Operators) || len(plan.Dropped)+len(plan.SkippedEmpty)+len(plan.New)+len(plan.Failures) > 0 {
				t.Fatalf("operator IDs differ from the engine's: restored %d of %d, dropped %v, skipped %v, new %v, failures %v",
					len(plan.Restored), len(target.Operators), plan.Dropped, plan.SkippedEmpty, plan.New, plan.Failures)
			}
			if !tc.resume {
				return
			}
			// Files in the sink's directory that are not the sink's own
			// survive the restore's clean-up of in-progress files.
			sinkDir := filepath.Join(tmp, "out")
			precious := []string{"precious.txt", ".part-x-1.inprogress", "part-precious.inprogress.bak"}
			for _, f := range precious {
				if err := os.WriteFile(filepath.Join(sinkDir, f), []byte("precious\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errOut = runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", "-s", sp, spec)
			if code != ExitOK {
				t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
			}
			resumed := submittedID(t, out)
			st := waitCheckpoints(t, url, resumed, 1)
			if st.LatestRestored == nil || !st.LatestRestored.Savepoint {
				t.Errorf("resumed job restored %+v, want the savepoint", st.LatestRestored)
			}
			if code, out, errOut = runCkpt(t, "cancel", "-m", url, resumed); code != ExitOK {
				t.Errorf("cancel: %s %s", out, errOut)
			}
			for _, f := range precious {
				if b, err := os.ReadFile(filepath.Join(tmp, "out", f)); err != nil || string(b) != "precious\n" {
					t.Errorf("%s in the sink's directory was touched: %q %v", f, b, err)
				}
			}
			// Across stop-with-savepoint and resume every committed
			// (key, count) is there once.
			seen := map[string]bool{}
			ents, _ := os.ReadDir(filepath.Join(tmp, "out"))
			for _, e := range ents {
				if !strings.HasPrefix(e.Name(), "part-") || strings.Contains(e.Name(), "precious") {
					continue
				}
				b, err := os.ReadFile(filepath.Join(tmp, "out", e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
					if seen[l] {
						t.Fatalf("line %q committed twice", l)
					}
					seen[l] = true
				}
			}
			if len(seen) == 0 {
				t.Errorf("nothing committed")
			}
		})
	}

	t.Run("unsupported operator refused before upload", func(t *testing.T) {
		// A runner without dedupe (as an older runner jar would be).
		saved := runner.Supported
		runner.Supported = slices.DeleteFunc(slices.Clone(saved), func(s string) bool { return s == "dedupe" })
		defer func() { runner.Supported = saved }()
		before, err := c.Artifacts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		spec := writeSpec(t, "name: d\npipeline:\n  - op: generator\n    limit: 10\n  - op: keyBy\n  - op: dedupe\n    uid: d\n  - op: discard\n")
		code, out, errOut := runCkpt(t, "submit", "-m", url, "--rest-timeout", "2m", spec)
		if code != ExitError || !strings.Contains(errOut, `job.yaml:6:5: step 3 (dedupe): ckpt's runner for Flink has no counterpart for "dedupe"`) {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		after, err := c.Artifacts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) || strings.Contains(out, "Runner for Flink") {
			t.Errorf("jars before %d, after %d: something was uploaded\n%s", len(before), len(after), out)
		}
	})
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
