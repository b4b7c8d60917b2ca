package config

import (
	"strings"
	"testing"
)

// Every bad configuration file is refused with an error naming the file,
// the line where YAML gives one, and the problem.
func TestLoadYAMLRefuses(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"duplicate key", "execution.checkpointing.interval: 1 s\nexecution.checkpointing.interval: 2 s\n",
			"ckpt.yaml:2: execution.checkpointing.interval: set twice (first on line 1)"},
		{"flat and nested", "execution.checkpointing.interval: 1 s\nexecution:\n  checkpointing:\n    interval: 2 s\n",
			"ckpt.yaml:4: execution.checkpointing.interval: set twice (first on line 1)"},
		{"1.x and 2.x name", "state.checkpoints.dir: /a\nexecution.checkpointing.dir: /b\n",
			"ckpt.yaml:2: execution.checkpointing.dir: set twice (first on line 1)"},
		{"interval under Flink's 10 ms", "execution.checkpointing.interval: 5 ms\n",
			"ckpt.yaml:1: execution.checkpointing.interval: 5 ms is below the minimum of 10 ms"},
		{"timeout zero", "execution.checkpointing.timeout: 0 ms\n", "ckpt.yaml:1: execution.checkpointing.timeout: must be positive"},
		{"parallelism above the engine's limit", "parallelism.default: 10000\n",
			"ckpt.yaml:1: parallelism.default: 10000 is above the maximum 1024 (the embedded engine's limit per operator)"},
		{"max parallelism above Flink's", "pipeline.max-parallelism: 40000\n",
			"ckpt.yaml:1: pipeline.max-parallelism: 40000 is above the maximum 32768"},
		{"max parallelism zero", "pipeline.max-parallelism: 0\n", "ckpt.yaml:1: pipeline.max-parallelism: 0 is not a max parallelism"},
		{"negative retained", "state.checkpoints.num-retained: -3\n", "ckpt.yaml:1: state.checkpoints.num-retained (execution.checkpointing.num-retained): -3 is below the minimum 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := New().LoadYAML("ckpt.yaml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadYAML = %v\nwant %q", err, tc.want)
			}
		})
	}
}

// Parallelism above max parallelism, set in different places, names both.
func TestResolveParallelismAboveMax(t *testing.T) {
	c := New()
	if err := c.LoadYAML("ckpt.yaml", []byte("pipeline.max-parallelism: 128\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(Parallelism, "200", "-p"); err != nil {
		t.Fatal(err)
	}
	_, err := c.Resolve()
	if err == nil || !strings.Contains(err.Error(), "-p: parallelism.default 200 exceeds pipeline.max-parallelism 128 (ckpt.yaml:1)") {
		t.Fatalf("Resolve = %v", err)
	}
}
