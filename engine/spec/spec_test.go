package spec

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
)

func repoRoot() string {
	_, f, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(f), "..", "..")
}

// Every example job under jobs/ parses and builds a graph.
func TestExampleJobs(t *testing.T) {
	// Paths in specs are relative to where ckpt runs: the repository root.
	t.Chdir(repoRoot())
	files, _ := filepath.Glob(filepath.Join("jobs", "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("want at least three example jobs, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			g, err := s.Graph()
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Configure(nil)
			if err != nil {
				t.Fatal(err)
			}
			o, err := c.Resolve()
			if err != nil {
				t.Fatal(err)
			}
			if err := g.Finalize(o.Parallelism, o.MaxParallelism); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"typo in step field", `
name: j
pipeline:
  - op: generator
    paralelism: 2
  - op: discard
`, `job.yaml:5:5: step 1 (generator): unknown field "paralelism" — did you mean "parallelism"?`},
		{"typo in top-level field", `
name: j
pipelin:
  - op: generator
`, `job.yaml:3:1: unknown field "pipelin" — did you mean "pipeline"?`},
		{"unknown op", `
name: j
pipeline:
  - op: generater
`, `job.yaml:4:9: step 1: unknown op "generater" — did you mean "generator"?`},
		{"bad value type", `
name: j
pipeline:
  - op: generator
    rate: fast
`, `job.yaml:5:11: step 1 (generator): rate: "fast" is not a valid float`},
		{"bad duration", `
name: j
pipeline:
  - op: generator
  - op: keyBy
  - op: window-count
    size: soon
`, `job.yaml:7:11: step 3 (window-count): size: "soon" is not a valid duration`},
		{"keyed without keyBy", `
name: j
pipeline:
  - op: generator
  - op: count
`, `job.yaml:5:5: step 2 (count): a keyed operator needs a keyBy step right before it`},
		{"missing required", `
name: j
pipeline:
  - op: generator
  - op: file-sink
`, `job.yaml:5:5: step 2 (file-sink): missing field "path"`},
		{"sink not last", `
name: j
pipeline:
  - op: generator
  - op: discard
  - op: map
    fn: upper
`, `step 2 (discard): a sink must be the last step`},
		{"source not first", `
name: j
pipeline:
  - op: map
    fn: upper
`, `a pipeline starts with a source`},
		{"no name", `
pipeline:
  - op: generator
`, `missing field "name"`},
		{"bad config value", `
name: j
config:
  execution.checkpointing.interval: often
pipeline:
  - op: generator
`, `job.yaml:4: execution.checkpointing.interval`},
		{"keyBy with uid", `
name: j
pipeline:
  - op: generator
  - op: keyBy
    uid: k
  - op: count
`, `step 2 (keyBy): unknown field "uid"`},
		{"not yaml", "name: [", "job.yaml"},
		{"missing input file", `
name: j
pipeline:
  - op: file
    path: /nonexistent/words.txt
  - op: discard
`, `job.yaml:4:5: step 1 (file): path /nonexistent/words.txt: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("job.yaml", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestConfigLayering(t *testing.T) {
	s, err := Parse("j.yaml", []byte(`
name: j
parallelism: 3
config:
  state.checkpoints.num-retained: 2
  execution.checkpointing.interval: 1 s
  execution.checkpointing.dir: /tmp/x
pipeline:
  - op: generator
    uid: src
  - op: discard
`))
	if err != nil {
		t.Fatal(err)
	}
	over := newOver(t, "execution.checkpointing.num-retained=5")
	c, err := s.Configure(over)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := c.Resolve()
	if o.Checkpointing.NumRetained != 5 || o.Parallelism != 3 || o.Checkpointing.Dir != "/tmp/x" {
		t.Fatalf("resolved %+v parallelism %d", o.Checkpointing, o.Parallelism)
	}
}

func newOver(t *testing.T, kv ...string) *config.Config {
	c := config.New()
	for _, a := range kv {
		if err := c.SetDynamic(a); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// A file the user cannot read is refused like a missing one: a spec sent
// to ckpt serve must not tell the server's files apart.
func TestFileSourceUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("x\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "job.yaml")
	os.WriteFile(spec, []byte("name: j\npipeline:\n  - op: file\n    path: "+secret+"\n  - op: discard\n"), 0o644)
	s, err := Load(spec)
	if err == nil {
		_, err = s.Graph()
	}
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("unreadable file source: %v", err)
	}
}
