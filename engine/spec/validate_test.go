package spec

import (
	"strings"
	"testing"
)

// Every bad spec is refused with an error that names the file, the line
// (and column) where YAML gives one, and the problem.
func TestRefusesBadSpecs(t *testing.T) {
	const head = "name: j\n"
	gen := "pipeline:\n  - op: generator\n"
	tests := []struct{ name, src, want string }{
		// Bounds: parallelism, max parallelism (Flink's rules), subtasks.
		{"parallelism 10,000", head + "parallelism: 10000\n" + gen,
			`job.yaml:2:14: parallelism: 10000 is above the embedded engine's limit of 1024 per operator`},
		{"step parallelism above the limit", head + gen + "    parallelism: 2000\n",
			`job.yaml:4:18: step 1 (generator): parallelism: 2000 is above the embedded engine's limit of 1024 per operator`},
		{"max parallelism above 32768", head + "maxParallelism: 40000\n" + gen,
			`job.yaml:2:17: maxParallelism: 40000 is above Flink's limit of 32768 key groups`},
		{"max parallelism below parallelism", head + "parallelism: 8\nmaxParallelism: 4\n" + gen,
			`job.yaml:3:1: parallelism 8 exceeds maxParallelism 4 (Flink requires maxParallelism ≥ parallelism)`},
		{"step max parallelism below its parallelism", head + gen + "    parallelism: 8\n    maxParallelism: 4\n",
			`job.yaml:3:5: step 1 (generator): parallelism 8 exceeds maxParallelism 4`},
		{"step parallelism above the job's max parallelism", head + "maxParallelism: 128\n" + gen + "  - op: discard\n    parallelism: 300\n",
			`job.yaml:5:5: step 2 (discard): parallelism 300 exceeds max parallelism 128`},
		{"too many subtasks", head + "parallelism: 1000\n" + gen + strings.Repeat("  - op: map\n    fn: upper\n", 4),
			`job.yaml:11:5: step 5 (map): the job's operators would run more than 4096 subtasks`},
		{"zero parallelism", head + "parallelism: 0\n" + gen, `job.yaml:2:14: parallelism: "0" is not a positive integer`},
		// Negative rates and limits, zero keys, empty windows.
		{"negative rate", head + gen + "    rate: -5\n", `job.yaml:4:11: step 1 (generator): rate: -5 is negative`},
		{"rate NaN", head + gen + "    rate: NaN\n", `job.yaml:4:11: step 1 (generator): rate: "NaN" is not a finite number`},
		{"rate infinite", head + gen + "    rate: Inf\n", `step 1 (generator): rate: "Inf" is not a finite number`},
		{"negative limit", head + gen + "    limit: -1\n", `job.yaml:4:12: step 1 (generator): limit: -1 is negative`},
		{"zero keys", head + gen + "    keys: 0\n", `job.yaml:4:11: step 1 (generator): keys: 0 is below the minimum of 1`},
		{"negative keys", head + gen + "    keys: -10\n", `job.yaml:4:11: step 1 (generator): keys: -10 is below the minimum of 1`},
		{"negative fail after", head + gen + "  - op: fail\n    after: -1\n", `job.yaml:5:12: step 2 (fail): after: -1 is negative`},
		{"zero window", head + gen + "  - op: keyBy\n  - op: window-count\n    size: 0 ms\n",
			`job.yaml:6:11: step 3 (window-count): size: 0 ms is below the minimum of 1 ms`},
		// Duplicate YAML keys, anywhere.
		{"duplicate top-level key", head + "parallelism: 2\nparallelism: 4\n" + gen,
			`job.yaml:3:1: field "parallelism" given twice (first on line 2)`},
		{"duplicate name", head + "name: k\n" + gen, `job.yaml:2:1: field "name" given twice (first on line 1)`},
		{"duplicate step field", head + gen + "    rate: 5\n    rate: 6\n", `job.yaml:5:5: step 1: field "rate" given twice (first on line 4)`},
		{"duplicate config key", head + "config:\n  execution.checkpointing.interval: 1 s\n  execution.checkpointing.interval: 2 s\n" + gen,
			`job.yaml:4: execution.checkpointing.interval: set twice (first on line 3)`},
		// Graph errors.
		{"duplicate uid", head + gen + "    uid: a\n  - op: discard\n    uid: a\n",
			`job.yaml:6:10: step 2 (discard): uid "a" is already the uid of step 1 (line 3)`},
		{"interval under 10 ms", head + "config:\n  execution.checkpointing.interval: 5 ms\n" + gen,
			`job.yaml:3: execution.checkpointing.interval: 5 ms is below the minimum of 10 ms`},
		{"parallelism.default above the limit", head + "config:\n  parallelism.default: 5000\n" + gen,
			`job.yaml:3: parallelism.default: 5000 is above the maximum 1024`},
		{"too large", head + "# " + strings.Repeat("x", MaxFileBytes) + "\n" + gen, `job.yaml: job spec larger than 1.00 MiB`},
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

// Build checks the graph again with what a run layers on the spec (-p,
// -D, --config): the error still names the file and the step.
func TestBuildNamesFileAndStep(t *testing.T) {
	s, err := Parse("job.yaml", []byte("name: j\nmaxParallelism: 128\npipeline:\n  - op: generator\n  - op: discard\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Configure(newOver(t, "parallelism.default=200"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Build(cfg); err == nil || !strings.Contains(err.Error(), "job.yaml:4:5: step 1 (generator): parallelism 200 exceeds max parallelism 128") {
		t.Fatalf("Build = %v", err)
	}
	cfg, _ = s.Configure(newOver(t, "execution.checkpointing.interval=1 s"))
	if _, _, err := s.Build(cfg); err == nil || !strings.Contains(err.Error(), "job.yaml: -D execution.checkpointing.interval: execution.checkpointing.interval is set but execution.checkpointing.dir") {
		t.Fatalf("Build = %v", err)
	}
	cfg, _ = s.Configure(newOver(t, "parallelism.default=4"))
	g, o, err := s.Build(cfg)
	if err != nil || o.Parallelism != 4 || g.Vertices[1].Parallelism != 4 || g.Vertices[1].MaxParallelism != 128 {
		t.Fatalf("Build = %v, %+v", err, o)
	}
}
