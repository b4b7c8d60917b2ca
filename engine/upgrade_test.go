package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine/builtin"
	"github.com/ckpt-dev/ckpt/engine/graph"
	"github.com/ckpt-dev/ckpt/engine/operator"
	"github.com/ckpt-dev/ckpt/engine/state"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// keyedTap passes records through and counts them per key in its own
// state: a stateful operator added in an upgrade, whose state starts empty.
type keyedTap struct {
	operator.Base
	s *state.ValueState[int64]
}

func (k *keyedTap) Open(ctx *operator.Context) error {
	var err error
	k.s, err = state.Value(ctx.Keyed, "seen", state.Int64{})
	return err
}

func (k *keyedTap) Process(r operator.Record, out operator.Collector) error {
	n, _, err := k.s.Get(r.Key)
	if err == nil {
		err = k.s.Put(r.Key, n+1)
	}
	out.Collect(r)
	return err
}

const upgradeRecords, upgradeKeys = 12000, 53

// upgradeJob builds variants of the exactly-once job.
func upgradeJob(out, variant string) *graph.Graph {
	g := graph.New("upgrade")
	s := g.Source("generator", func() operator.Source {
		return &builtin.Generator{Keys: upgradeKeys, Limit: upgradeRecords, Rate: 15000}
	}).UID("source").Parallelism(2)
	countUID := "count"
	if variant == "uid-changed" {
		countUID = "count-v2"
	}
	if variant != "count-removed" {
		s = s.KeyBy().Process("count", func() operator.Operator { return &builtin.Count{} }).UID(countUID).Parallelism(2)
	}
	switch variant {
	case "stateless-added":
		s = s.Map("identity", func(r operator.Record) operator.Record { return r }).UID("identity").Parallelism(2)
	case "stateful-added":
		s = s.KeyBy().Process("tap", func() operator.Operator { return &keyedTap{} }).UID("tap").Parallelism(2)
	}
	s.Sink("sink", func() operator.Operator { return &builtin.FileSink{Dir: out} }).UID("sink").Parallelism(2)
	return g
}

// Upgrade scenarios over the exactly-once job: stop with a savepoint,
// change the program, resume. Compatible changes reproduce the reference
// output exactly; state that no operator takes fails the start naming its
// uid, unless non-restored state is allowed.
func TestUpgradeScenarios(t *testing.T) {
	tests := []struct {
		variant     string
		allowNR     bool
		wantErr     string
		exactOutput bool
	}{
		{"same", false, "", true},
		{"stateless-added", false, "", true},
		{"stateful-added", false, "", true},
		{"count-removed", false, `uid "count"`, false},
		{"count-removed", true, "", false},
		{"uid-changed", false, `uid "count"`, false},
		{"uid-changed", true, "", false},
	}
	for _, tt := range tests {
		name := tt.variant
		if tt.allowNR {
			name += "/allowNonRestoredState"
		}
		t.Run(name, func(t *testing.T) {
			tmp := t.TempDir()
			out := filepath.Join(tmp, "out")
			v1, err := Submit(context.Background(), upgradeJob(out, "same"), cfg(t,
				"execution.checkpointing.interval=50ms", "execution.checkpointing.dir="+filepath.Join(tmp, "ckpt")), Options{})
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "RUNNING", func() bool { return v1.Status() == Running })
			time.Sleep(250 * time.Millisecond)
			sp, err := v1.StopWithSavepoint(context.Background(), filepath.Join(tmp, "sp"), snapshot.FormatCanonical, false)
			if err != nil {
				t.Fatal(err)
			}
			kv := []string{"execution.checkpointing.interval=50ms", "execution.checkpointing.dir=" + filepath.Join(tmp, "ckpt"),
				"execution.state-recovery.path=" + sp}
			if tt.allowNR {
				kv = append(kv, "execution.state-recovery.ignore-unclaimed-state=true")
			}
			v2, err := Submit(context.Background(), upgradeJob(out, tt.variant), cfg(t, kv...), Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Submit = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st, err := v2.Wait(); st != Finished {
				t.Fatalf("%s %v", st, err)
			}
			if tt.allowNR && len(v2.Skipped()) != 1 {
				t.Errorf("skipped %v, want the count operator", v2.Skipped())
			}
			if tt.exactOutput {
				if got, want := committed(t, out), reference(upgradeRecords, upgradeKeys); strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Fatal(diff(got, want))
				}
			}
		})
	}
}
