package upgrade

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// planner is the fake cluster planning every jar as plan (Flink's
// /jars/:jarid/plan), recording what it was asked.
type planner struct {
	*fake
	plan *inspector.JobPlan
	jar  string
	req  cluster.RunRequest
}

func (p *planner) PlanJar(_ context.Context, jar string, req cluster.RunRequest) (*inspector.JobPlan, error) {
	p.jar, p.req = jar, req
	return p.plan, nil
}

// TestJarDryRunPlansTheJar: on a cluster that plans jars, a jar upgrade is
// dry-run against the plan with the restore rules — a plan without the
// operator that holds state is refused before anything is stopped, one
// with it passes — and the plan is asked with the program's settings.
func TestJarDryRunPlansTheJar(t *testing.T) {
	ctx := context.Background()
	sp := filepath.Join(t.TempDir(), "savepoint-1")
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 1}
	if err := m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionSuspend)); err != nil {
		t.Fatal(err)
	}
	count := snapshot.NewOperatorState("count", "count", 1, 128)
	count.Subtasks = []*snapshot.SubtaskState{{ManagedOperatorState: snapshot.NewOperatorStreamHandle(
		&snapshot.ByteStreamHandle{Name: "l", Data: make([]byte, 30)}, snapshot.NamedOperatorState{Name: "l", Offsets: []int64{0}})}}
	m.Operators = append(m.Operators, count)
	if err := snapshot.Write(ctx, storage.NewLocal(), filepath.Join(sp, snapshot.MetadataFileName), m); err != nil {
		t.Fatal(err)
	}
	prog := &Program{Kind: JarProgram, Name: "orders-2.jar", JarPath: "/jars/orders-2.jar", EntryClass: "Main", Args: []string{"--x"}, Parallelism: 1}
	vertex := func(uid string) inspector.PlanVertex {
		return inspector.PlanVertex{ID: snapshot.OperatorIDFromUID(uid), Operators: []string{uid}, Description: uid, Parallelism: 1}
	}
	for _, tc := range []struct {
		name    string
		uids    []string
		verdict Verdict
	}{
		{"state kept (max parallelism not in the plan)", []string{"source", "count"}, Warn},
		{"count's uid lost", []string{"source", "count-renamed"}, Refuse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &planner{fake: newFake(), plan: &inspector.JobPlan{JobName: "orders"}}
			for _, u := range tc.uids {
				p.plan.Vertices = append(p.plan.Vertices, vertex(u))
			}
			d := DryRuns(p, storage.NewLocal(), false, nil, nil)(ctx, sp, prog)
			if d.Verdict != tc.verdict || (d.Verdict == Warn && !strings.Contains(d.Summary, "1 operator(s)' state restored")) {
				t.Fatalf("verdict %v (%s), want %v", d.Verdict, d.Summary, tc.verdict)
			}
			if tc.verdict == Refuse && !strings.Contains(d.Summary, "count") && d.ExitCode == 0 {
				t.Fatalf("a refusal that names nothing: %+v", d)
			}
			if p.jar != prog.JarPath || p.req.EntryClass != "Main" || len(p.req.ProgramArgs) != 1 || p.req.Parallelism != 1 {
				t.Fatalf("planned %q with %+v", p.jar, p.req)
			}
		})
	}
	// A cluster that cannot plan jars: the warning, never a pass.
	if d := DryRuns(newFake(), storage.NewLocal(), false, nil, nil)(ctx, sp, prog); d.Verdict != Warn {
		t.Fatalf("without a planner: %+v", d)
	}
}

// TestPreflightRereadsASubsumedCheckpoint: the latest checkpoint is gone
// when the preflight reads it (subsumed by a newer one meanwhile): the
// preflight dry-runs the newer one, and its refusal stops the upgrade
// before anything is stopped.
func TestPreflightRereadsASubsumedCheckpoint(t *testing.T) {
	f := newFake()
	u := newUpgrade(f, filepath.Join(t.TempDir(), "j.jsonl"), "v2")
	var read []string
	u.DryRun = func(ctx context.Context, snap string, p *Program) DryRun {
		read = append(read, snap)
		if strings.HasSuffix(snap, "/chk-5") {
			f.mu.Lock()
			j, _ := f.job(oldJob)
			j.latest = strings.TrimSuffix(snap, "chk-5") + "chk-6"
			f.mu.Unlock()
			return DryRun{Verdict: Warn, Unreadable: true, Summary: "cannot read " + snap}
		}
		return DryRun{Verdict: Refuse, Summary: "state without an operator", ExitCode: 3}
	}
	rep, err, _ := run(u)
	if rep == nil || rep.Outcome != Refused || len(read) != 2 || !strings.HasSuffix(read[1], "/chk-6") {
		t.Fatalf("report %+v, err %v; read %v", rep, err, read)
	}
}

// TestPreflightWaitsOutASubsumedLatest: the statistics still name a
// checkpoint that a newer one subsumed (discarded) before they name the
// newer one: the preflight asks again instead of skipping the dry run, so
// its refusal stops the upgrade before anything is stopped. Beyond a few
// polls it gives up and says so (the savepoint's dry run decides).
func TestPreflightWaitsOutASubsumedLatest(t *testing.T) {
	for _, tc := range []struct {
		reads   int
		outcome Outcome
	}{
		{2, Refused},
		{100, RolledBack},
	} {
		f := newFake()
		f.jobs[oldJob].discarded = tc.reads
		u := newUpgrade(f, filepath.Join(t.TempDir(), "j.jsonl"), "v2")
		var read []string
		u.DryRun = func(ctx context.Context, snap string, p *Program) DryRun {
			read = append(read, snap)
			return DryRun{Verdict: Refuse, Summary: "state without an operator", ExitCode: 3}
		}
		rep, err, _ := run(u)
		if rep == nil {
			t.Fatalf("%d discarded reads: no report, err %v", tc.reads, err)
		}
		if tc.outcome == Refused && (rep.Outcome != Refused || len(read) != 1 || rep.Preflight == nil) {
			t.Errorf("%d discarded reads: report %+v, err %v; read %v", tc.reads, rep, err, read)
		}
		if tc.outcome != Refused && (rep.Outcome == Refused || rep.Preflight != nil) {
			t.Errorf("%d discarded reads: the preflight should have given up: report %+v, err %v", tc.reads, rep, err)
		}
	}
}
