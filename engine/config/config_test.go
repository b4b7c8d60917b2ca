package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"1 s", time.Second, false},
		{"500ms", 500 * time.Millisecond, false},
		{"1 min", time.Minute, false},
		{"10 min", 10 * time.Minute, false},
		{"2h", 2 * time.Hour, false},
		{"250", 250 * time.Millisecond, false},
		{"3 seconds", 3 * time.Second, false},
		{"1 d", 24 * time.Hour, false},
		{"1m30s", 90 * time.Second, false},
		{"", 0, true},
		{"s", 0, true},
		{"5 fortnights", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// Both the 1.x and the 2.x names reach the same setting, and the later
// setting wins whatever spelling each used.
func TestAliases(t *testing.T) {
	tests := []struct {
		set  [][2]string
		key  string
		want string
	}{
		{[][2]string{{"state.checkpoints.dir", "/a"}}, CheckpointDir, "/a"},
		{[][2]string{{"execution.checkpointing.dir", "/b"}}, "state.checkpoints.dir", "/b"},
		{[][2]string{{"state.checkpoints.num-retained", "3"}}, NumRetained, "3"},
		{[][2]string{{"state.checkpoints.num-retained", "3"}, {NumRetained, "5"}}, NumRetained, "5"},
		{[][2]string{{"state.savepoints.dir", "hdfs:///sp"}}, SavepointDir, "hdfs:///sp"},
		{[][2]string{{"state.backend.incremental", "false"}}, Incremental, "false"},
		{[][2]string{{"execution.savepoint.path", "/x/chk-3"}}, RestorePath, "/x/chk-3"},
		{[][2]string{{"execution.savepoint-restore-mode", "CLAIM"}}, ClaimMode, "CLAIM"},
		{nil, NumRetained, "1"},
		{nil, Timeout, "10 min"},
	}
	for _, tt := range tests {
		c := New()
		for _, kv := range tt.set {
			if err := c.Set(kv[0], kv[1], "test"); err != nil {
				t.Fatal(err)
			}
		}
		if got := c.Get(tt.key); got != tt.want {
			t.Errorf("after %v: Get(%s) = %q, want %q", tt.set, tt.key, got, tt.want)
		}
	}
}

func TestSetRejectsBadValues(t *testing.T) {
	tests := []struct{ arg, wantErr string }{
		{"execution.checkpointing.interval=fast", "execution.checkpointing.interval"},
		{"state.checkpoints.num-retained=0", "below the minimum"},
		{"state.checkpoints.num-retained=x", "state.checkpoints.num-retained (execution.checkpointing.num-retained)"},
		{"execution.checkpointing.externalized-checkpoint-retention=KEEP", "RETAIN_ON_CANCELLATION"},
		{"novalue", "expected key=value"},
	}
	for _, tt := range tests {
		err := New().SetDynamic(tt.arg)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("SetDynamic(%q) = %v, want error containing %q", tt.arg, err, tt.wantErr)
		}
	}
}

func TestUnknownKeysReported(t *testing.T) {
	c := New()
	if err := c.SetDynamic("execution.checkpointing.intervall=1s"); err != nil {
		t.Fatal(err)
	}
	if u := c.Unknown(); len(u) != 1 || u[0] != "execution.checkpointing.intervall" {
		t.Fatalf("Unknown() = %v", u)
	}
}

func TestResolve(t *testing.T) {
	c := New()
	for _, a := range []string{
		"-Dexecution.checkpointing.interval=1s",
		"execution.checkpointing.dir=file:///data/ckpt",
		"state.checkpoints.num-retained=3",
		"execution.checkpointing.externalized-checkpoint-retention=retain_on_cancellation",
		"execution.checkpointing.timeout=30 s",
		"restart-strategy.type=none",
	} {
		if err := c.SetDynamic(strings.TrimPrefix(a, "-D")); err != nil {
			t.Fatal(err)
		}
	}
	o, err := c.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	cp := o.Checkpointing
	if cp.Interval != time.Second || cp.Dir != "file:///data/ckpt" || cp.NumRetained != 3 ||
		cp.Retention != RetainOnCancellation || cp.Timeout != 30*time.Second || !cp.ExactlyOnce || !cp.Incremental {
		t.Fatalf("resolved %+v", cp)
	}
	if o.Restart.Enabled {
		t.Fatal("restart-strategy.type=none should disable restarts")
	}
}

func TestResolveNeedsDirForInterval(t *testing.T) {
	c := New()
	c.SetDynamic("execution.checkpointing.interval=1 s")
	if _, err := c.Resolve(); err == nil || !strings.Contains(err.Error(), CheckpointDir) {
		t.Fatalf("Resolve() = %v, want an error naming %s", err, CheckpointDir)
	}
}

func TestLoadYAMLFlatAndNested(t *testing.T) {
	src := `
state.checkpoints.dir: /tmp/flat
execution:
  checkpointing:
    interval: 2 s
    num-retained: 4
`
	c := New()
	if err := c.LoadYAML("ckpt.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
	if c.Get(CheckpointDir) != "/tmp/flat" || c.Get(Interval) != "2 s" || c.Get(NumRetained) != "4" {
		t.Fatalf("got %v", c.Map())
	}
	bad := "execution:\n  checkpointing:\n    timeout: soon\n"
	err := New().LoadYAML("ckpt.yaml", []byte(bad))
	if err == nil || !strings.Contains(err.Error(), "ckpt.yaml:3") {
		t.Fatalf("want an error with file and line, got %v", err)
	}
}
