package inspector

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

func TestMain(m *testing.M) { peers.RunTests(m) }

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("SKIPPING: real Flink not started in -short mode")
	}
}

// uidSuffix makes the test's uids its own, so the IDs in the snapshots
// cannot come from anything but the job this test ran.
func uidSuffix() string {
	var b [3]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// realSnapshot is one snapshot real Flink wrote in the test.
type realSnapshot struct {
	what   string // checkpoint, canonical savepoint, native savepoint
	path   string // local directory holding _metadata
	kind   snapshot.Kind
	format snapshot.SavepointFormat
}

// TestRealFlinkSnapshots: Flink 2.x and 1.20, heap and RocksDB
// (incremental), write a checkpoint, a canonical and a native savepoint of a
// job whose uids the test chose. Each decodes, re-encodes to the same bytes,
// is the format version that Flink line writes, agrees with Flink's own
// loader on every operator and size, names its operators by the chosen uids
// (stored in V5+, hashed from the uid list otherwise), and references only
// files that exist.
func TestRealFlinkSnapshots(t *testing.T) {
	skipShort(t)
	cases := []struct {
		version     string
		backend     string
		incremental bool
		wantVersion int
	}{
		{peers.FlinkVersion2, "hashmap", false, snapshot.Version6},
		{peers.FlinkVersion2, "rocksdb", true, snapshot.Version6},
		{peers.FlinkVersion120, "hashmap", false, snapshot.Version4},
		{peers.FlinkVersion120, "rocksdb", true, snapshot.Version4},
	}
	ctx := context.Background()
	fsys := storage.NewLocal()
	for _, tc := range cases {
		t.Run(tc.version+"-"+tc.backend, func(t *testing.T) {
			sfx := uidSuffix()
			ops := []peers.FlinkOp{
				{Kind: "source", UID: "src-" + sfx, Name: "gen"},
				{Kind: "count", UID: "count-" + sfx, Name: "count"},
				{Kind: "opstate", UID: "list-" + sfx, Name: "list"},
				{Kind: "sink", UID: "sink-" + sfx, Name: "sink"},
			}
			// Inline threshold 0: every piece of state goes to a file, so
			// relative and absolute file handles and the existence check
			// are exercised (tiny state would otherwise sit inline).
			p := peers.Flink(t, peers.FlinkJob{Version: tc.version, Backend: tc.backend, Incremental: tc.incremental,
				Operators: ops, Parallelism: 2, NumRetained: 20, Config: map[string]string{
					"state.storage.fs.memory-threshold": "0", "execution.checkpointing.data-inline-threshold": "0"}})
			chk, err := p.WaitCheckpoints(2)
			if err != nil {
				t.Fatal(err)
			}
			canonical, err := p.TriggerSavepoint("", peers.SavepointCanonical)
			if err != nil {
				t.Fatal(err)
			}
			native, err := p.TriggerSavepoint("", peers.SavepointNative)
			if err != nil {
				t.Fatal(err)
			}
			snaps := []realSnapshot{
				{"checkpoint", peers.LocalPath(chk), snapshot.KindCheckpoint, snapshot.FormatNone},
				{"canonical savepoint", peers.LocalPath(canonical), snapshot.KindSavepoint, snapshot.FormatCanonical},
				{"native savepoint", peers.LocalPath(native), snapshot.KindSavepoint, snapshot.FormatNative},
			}
			// Read the checkpoint before the job ends (Flink deletes a finished job's checkpoints).
			var uidList []string
			for _, o := range ops {
				uidList = append(uidList, o.UID)
			}
			mapping, err := NewUIDMapping(uidList)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range snaps {
				raw, err := os.ReadFile(filepath.Join(s.path, snapshot.MetadataFileName))
				if err != nil {
					t.Fatal(err)
				}
				m, err := snapshot.Read(ctx, fsys, s.path)
				if err != nil {
					t.Fatalf("%s: %v", s.what, err)
				}
				if m.Version != tc.wantVersion {
					t.Errorf("%s: format v%d, want v%d for Flink %s", s.what, m.Version, tc.wantVersion, tc.version)
				}
				enc, err := snapshot.Marshal(m)
				if err != nil || !bytes.Equal(enc, raw) {
					t.Errorf("%s: re-encoding differs from Flink's bytes (err %v)", s.what, err)
				}
				props, ok, err := m.Properties()
				if !ok || err != nil || props.Kind != s.kind || props.Format != s.format {
					t.Errorf("%s: properties %+v ok=%v err=%v", s.what, props, ok, err)
				}
				r, err := Examine(ctx, fsys, m, Options{UIDs: mapping, CheckFiles: true})
				if err != nil {
					t.Fatal(err)
				}
				if r.Totals.Missing != 0 || r.Totals.Files == 0 {
					t.Errorf("%s: %d files, %d missing: %v", s.what, r.Totals.Files, r.Totals.Missing, r.Warnings)
				}
				// Real Flink's operator IDs are ckpt's hashes of the uids the test chose.
				for _, op := range m.Operators {
					if op.UID != "" && snapshot.OperatorIDFromUID(op.UID) != op.ID {
						t.Errorf("%s: Flink gave uid %q the ID %s, ckpt hashes it to %s", s.what, op.UID, op.ID, snapshot.OperatorIDFromUID(op.UID))
					}
				}
				named := map[string]string{}
				for _, o := range r.Operators {
					named[o.UID] = o.UIDSource
				}
				for _, u := range uidList {
					src, ok := named[u]
					want := "mapping"
					if m.Version >= snapshot.Version5 {
						want = "metadata" // Flink 2.x stores the uid
					}
					if !ok || src != want {
						t.Errorf("%s: uid %s: source %q, want %q (operators %v)", s.what, u, src, want, named)
					}
				}
				fm, err := p.LoadMetadata(s.path, 1)
				if err != nil {
					t.Fatalf("%s: Flink's loader: %v", s.what, err)
				}
				if len(fm.Operators) != len(m.Operators) {
					t.Fatalf("%s: Flink %d operators, ckpt %d", s.what, len(fm.Operators), len(m.Operators))
				}
				for _, fo := range fm.Operators {
					id, _ := snapshot.ParseOperatorID(fo.ID)
					op := m.Operator(id)
					if op == nil || fo.StateSize != op.StateSize() || fo.CheckpointedSize != op.CheckpointedSize() ||
						fo.UID != op.UID || fo.Parallelism != int(op.Parallelism) || fo.MaxParallelism != int(op.MaxParallelism) {
						t.Errorf("%s: operator %s: Flink %+v, ckpt %+v", s.what, fo.ID, fo, op)
					}
				}
			}
		})
	}
}

// targetOf is the resume target of a peer job, as a job spec would give it,
// chained as Flink chains the peer job (PeerJob.java): a keyed operator
// (after keyBy) or one whose parallelism differs from its predecessor's
// starts a new job vertex; every other operator is chained to the one
// before it and runs with the chain head's max parallelism (its own, else
// the job's, else derived), whatever it set itself.
func targetOf(job peers.FlinkJob) Target {
	t := Target{Source: "test job", Complete: true}
	keyed := func(o peers.FlinkOp) bool { return o.Kind == "count" || o.Kind == "sum" || o.Kind == "payload" }
	headMP, prevP := 0, 0
	for i, o := range job.Operators {
		p := o.Parallelism
		if p == 0 {
			p = job.Parallelism
		}
		if i == 0 || keyed(o) || p != prevP {
			headMP = o.MaxParallelism
			if headMP == 0 {
				headMP = job.MaxParallelism
			}
		}
		prevP = p
		t.Operators = append(t.Operators, TargetOperator{UID: o.UID, Name: o.Name, Parallelism: p,
			MaxParallelism: headMP, MaxParallelismConfigured: headMP != 0, NotKeyed: !keyed(o)})
	}
	return t
}

// TestAgainstPredictsFlink: a savepoint of a real job, then resumes into
// changed jobs. For each, the dry run's prediction without and with
// allow-non-restored-state is compared with what real Flink does when the
// same test resumes it both ways. Then the same for jobs whose chained
// operators (a stateful one, the sink) set their own max parallelism,
// which Flink ignores (max parallelism is per job vertex: the chain
// head's), from savepoints and retained checkpoints of hashmap and
// incremental RocksDB jobs.
func TestAgainstPredictsFlink(t *testing.T) {
	skipShort(t)
	for _, version := range peers.FlinkVersions {
		t.Run(version, func(t *testing.T) {
			sfx := uidSuffix()
			src := peers.FlinkOp{Kind: "source", UID: "src-" + sfx}
			count := peers.FlinkOp{Kind: "count", UID: "count-" + sfx}
			mapOp := peers.FlinkOp{Kind: "map", UID: "map-" + sfx}
			list := peers.FlinkOp{Kind: "opstate", UID: "list-" + sfx}
			sink := peers.FlinkOp{Kind: "sink", UID: "sink-" + sfx}
			base := peers.FlinkJob{Version: version, Backend: "rocksdb", Parallelism: 2,
				Operators: []peers.FlinkOp{src, mapOp, count, list, sink}}
			p := peers.Flink(t, base)
			if _, err := p.WaitCheckpoints(1); err != nil {
				t.Fatal(err)
			}
			sp, err := p.StopWithSavepoint("", false)
			if err != nil {
				t.Fatal(err)
			}
			m, err := snapshot.Read(context.Background(), storage.NewLocal(), peers.LocalPath(sp))
			if err != nil {
				t.Fatal(err)
			}
			sum := peers.FlinkOp{Kind: "sum", UID: "sum-" + sfx}
			withJob := func(edit func(j *peers.FlinkJob)) peers.FlinkJob {
				j := base
				j.Operators = append([]peers.FlinkOp{}, base.Operators...)
				edit(&j)
				return j
			}
			scenarios := []resumeScenario{
				{"same job", base, ExitResumeOK},
				{"rescaled to 3", withJob(func(j *peers.FlinkJob) { j.Parallelism = 3 }), ExitResumeOK},
				{"stateless map removed", withJob(func(j *peers.FlinkJob) {
					j.Operators = []peers.FlinkOp{src, count, list, sink}
				}), ExitResumeOK},
				{"keyed count replaced by sum", withJob(func(j *peers.FlinkJob) {
					j.Operators = []peers.FlinkOp{src, mapOp, sum, list, sink}
				}), ExitResumeDropState},
				{"operator-state op removed", withJob(func(j *peers.FlinkJob) {
					j.Operators = []peers.FlinkOp{src, mapOp, count, sink}
				}), ExitResumeDropState},
				{"keyed count's uid on a non-keyed map", withJob(func(j *peers.FlinkJob) {
					j.Operators = []peers.FlinkOp{src, mapOp, {Kind: "map", UID: count.UID}, list, sink}
				}), ExitResumeDropState}, // resumes; the keyed state is ignored
				{"max parallelism configured to 256", withJob(func(j *peers.FlinkJob) { j.MaxParallelism = 256 }), ExitResumeFails},
				{"max parallelism configured as before", withJob(func(j *peers.FlinkJob) { j.MaxParallelism = 128 }), ExitResumeOK},
			}
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) { sc.check(t, p, m, sp) })
			}
			t.Run("chained max parallelism", func(t *testing.T) { chainedMaxParallelism(t, p, version) })
		})
	}
}

// resumeScenario is one job a snapshot is resumed into and the exit code
// the test expects of the dry run.
type resumeScenario struct {
	name string
	job  peers.FlinkJob
	exit int
}

// check holds the plan for resuming m (at path) into sc.job against what
// real Flink does, without and with allow-non-restored-state.
func (sc resumeScenario) check(t *testing.T, p *peers.FlinkPeer, m *snapshot.Metadata, path string) {
	t.Helper()
	plan := PlanResume(m, targetOf(sc.job), nil)
	if plan.ExitCode != sc.exit {
		t.Errorf("predicted exit %d, test expects %d (plan %+v)", plan.ExitCode, sc.exit, plan)
	}
	for _, allow := range []bool{false, true} {
		predicted := plan.WithoutAllowNonRestored
		if allow {
			predicted = plan.WithAllowNonRestored
		}
		out := p.Resume(path, allow, sc.job)
		actual := OutcomeFails
		if out.OK {
			actual = OutcomeRestores
			if out.Run != nil {
				if err := out.Run.Cancel(); err != nil {
					t.Logf("cancel: %v", err)
				}
			}
		}
		if actual != predicted {
			msg := ""
			if out.Error != nil {
				msg = out.Error.Error()
			}
			t.Errorf("allow-non-restored-state=%v: ckpt predicted %s, Flink %s (%s)", allow, predicted, actual, firstLine(msg))
		}
	}
}

// chainedMaxParallelism: jobs whose operators chained after the keyed
// count (a stateful operator-state map, or the sink) set their own max
// parallelism. Flink writes the chain head's max parallelism for every
// operator of the chain and ignores the chained operator's own when it
// restores: the unchanged job resumes, so does one where only the chained
// operator's value changed; a changed head max parallelism fails.
func chainedMaxParallelism(t *testing.T, p *peers.FlinkPeer, version string) {
	ctx := context.Background()
	fsys := storage.NewLocal()
	backends := []struct {
		name        string
		incremental bool
	}{{"hashmap", false}, {"rocksdb", true}}
	for _, be := range backends {
		sfx := uidSuffix()
		src := peers.FlinkOp{Kind: "source", UID: "src-" + sfx}
		count := peers.FlinkOp{Kind: "count", UID: "count-" + sfx}
		list := peers.FlinkOp{Kind: "opstate", UID: "list-" + sfx}
		sink := peers.FlinkOp{Kind: "sink", UID: "sink-" + sfx}
		own := func(o peers.FlinkOp, mp int) peers.FlinkOp { o.MaxParallelism = mp; return o }
		variants := []struct {
			name    string
			chained string // uid of the chained operator with its own max parallelism
			ops     func(own int) []peers.FlinkOp
		}{
			{"chained stateful operator", list.UID, func(mp int) []peers.FlinkOp { return []peers.FlinkOp{src, count, own(list, mp), sink} }},
			{"chained sink", sink.UID, func(mp int) []peers.FlinkOp { return []peers.FlinkOp{src, count, own(sink, mp)} }},
		}
		for _, v := range variants {
			t.Run(be.name+"/"+v.name, func(t *testing.T) {
				job := peers.FlinkJob{Version: version, Backend: be.name, Incremental: be.incremental, Parallelism: 2, Operators: v.ops(64)}
				run, err := p.Submit(job)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := run.WaitCheckpoints(1); err != nil {
					t.Fatal(err)
				}
				sp, err := run.TriggerSavepoint("", "")
				if err != nil {
					t.Fatal(err)
				}
				// Cancelled, the job keeps its latest checkpoint (RETAIN_ON_CANCELLATION).
				if err := run.Cancel(); err != nil {
					t.Fatal(err)
				}
				chk, err := snapshot.LatestCompleteCheckpoint(ctx, fsys, run.CheckpointsDir())
				if err != nil {
					t.Fatal(err)
				}
				headChanged := job
				headChanged.Operators = append([]peers.FlinkOp{}, job.Operators...)
				headChanged.Operators[1] = own(count, 256)
				scenarios := []resumeScenario{
					{"unchanged", job, ExitResumeOK},
					{"chained operator's own max parallelism changed", peers.FlinkJob{Version: version, Backend: be.name,
						Incremental: be.incremental, Parallelism: 2, Operators: v.ops(32)}, ExitResumeOK},
					{"head max parallelism changed", headChanged, ExitResumeFails},
				}
				for _, snap := range []struct{ what, path string }{{"savepoint", peers.LocalPath(sp)}, {"retained checkpoint", peers.LocalPath(chk.URI)}} {
					t.Run(snap.what, func(t *testing.T) {
						m, err := snapshot.Read(ctx, fsys, snap.path)
						if err != nil {
							t.Fatal(err)
						}
						// What Flink writes: the chained operator's max
						// parallelism is its chain head's, not its own.
						head, chained := m.Operator(snapshot.OperatorIDFromUID(count.UID)), m.Operator(snapshot.OperatorIDFromUID(v.chained))
						if head == nil || chained == nil {
							t.Fatalf("operators %s and %s not both in the %s", count.UID, v.chained, snap.what)
						}
						if chained.MaxParallelism != head.MaxParallelism || chained.MaxParallelism == 64 {
							t.Errorf("Flink wrote max parallelism %d for the chained operator (own 64), %d for its chain head",
								chained.MaxParallelism, head.MaxParallelism)
						}
						for _, sc := range scenarios {
							t.Run(sc.name, func(t *testing.T) { sc.check(t, p, m, snap.path) })
						}
					})
				}
			})
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// copyTree copies a local directory tree to an HDFS URI through ckpt's
// storage layer.
func copyTree(t *testing.T, ctx context.Context, dst storage.FS, localDir, uri string) {
	t.Helper()
	err := filepath.Walk(localDir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(localDir, p)
		target := uri
		if rel != "." {
			target = storage.Join(uri, filepath.ToSlash(rel))
		}
		if fi.IsDir() {
			return dst.MkdirAll(ctx, target)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return storage.WriteFile(ctx, dst, target, b, storage.CreateOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHDFSSameAsLocal: a real Flink 2.x savepoint and a checkpoint job
// directory, copied to the real HDFS, inspect, plan, list and find orphans
// exactly as they do on local disk.
func TestHDFSSameAsLocal(t *testing.T) {
	skipShort(t)
	h := peers.HDFS(t)
	ctx := context.Background()
	local := storage.NewLocal()
	router := storage.NewRouter(storage.Options{})
	defer router.Close()
	base := h.BaseURI(t)

	// A real savepoint with its state files.
	sfx := uidSuffix()
	job := peers.FlinkJob{Version: peers.FlinkVersion2, Backend: "rocksdb", Parallelism: 2, Operators: []peers.FlinkOp{
		{Kind: "source", UID: "src-" + sfx}, {Kind: "count", UID: "count-" + sfx}, {Kind: "sink", UID: "sink-" + sfx}}}
	p := peers.Flink(t, job)
	if _, err := p.WaitCheckpoints(1); err != nil {
		t.Fatal(err)
	}
	sp, err := p.TriggerSavepoint("", peers.SavepointNative)
	if err != nil {
		t.Fatal(err)
	}
	spLocal := peers.LocalPath(sp)
	spHDFS := storage.Join(base, "savepoints", filepath.Base(spLocal))
	copyTree(t, ctx, router, spLocal, spHDFS)

	lr, err := Inspect(ctx, local, spLocal, Options{CheckFiles: true, ListFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	hr, err := Inspect(ctx, router, spHDFS, Options{CheckFiles: true, ListFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	if hr.Totals.Missing != 0 || lr.Totals.Missing != 0 || hr.Totals.Files == 0 {
		t.Fatalf("files: local %d/%d missing, hdfs %d/%d missing", lr.Totals.Missing, lr.Totals.Files, hr.Totals.Missing, hr.Totals.Files)
	}
	norm := func(r *Report, root string) string {
		r.Path, r.Metadata, r.Dir = "", "", ""
		for i := range r.Files {
			r.Files[i].URI = strings.TrimPrefix(r.Files[i].URI, root)
			r.Files[i].StorageSize = nil
		}
		b, _ := json.Marshal(r)
		return string(b)
	}
	if a, b := norm(lr, spLocal), norm(hr, spHDFS); a != b {
		t.Errorf("the HDFS report differs from the local one:\nlocal %s\nhdfs  %s", a, b)
	}
	mh, err := snapshot.Read(ctx, router, spHDFS)
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanResume(mh, targetOf(job), nil)
	if plan.ExitCode != ExitResumeOK || len(plan.Restored) != 3 {
		t.Errorf("plan on HDFS: %+v", plan)
	}
	// Real Flink resumes from the HDFS copy as predicted: the same job
	// restores; a job without the keyed operator fails without -n and
	// restores with it.
	changed := job
	changed.Operators = []peers.FlinkOp{job.Operators[0], {Kind: "sum", UID: "sum-" + sfx}, job.Operators[2]}
	cplan := PlanResume(mh, targetOf(changed), nil)
	for _, c := range []struct {
		job   peers.FlinkJob
		allow bool
		want  Outcome
	}{{job, false, plan.WithoutAllowNonRestored}, {changed, false, cplan.WithoutAllowNonRestored}, {changed, true, cplan.WithAllowNonRestored}} {
		out := p.Resume(spHDFS, c.allow, c.job)
		got := OutcomeFails
		if out.OK {
			got = OutcomeRestores
			out.Run.Cancel()
		}
		if got != c.want {
			t.Errorf("Flink resuming from %s (-n=%v): %s, ckpt predicted %s (%v)", spHDFS, c.allow, got, c.want, out.Error)
		}
	}
	if cplan.ExitCode != ExitResumeDropState {
		t.Errorf("changed job on HDFS: exit %d", cplan.ExitCode)
	}

	// A checkpoint job directory with a leak, on HDFS.
	jobDir := storage.Join(base, "checkpoints", "a1b2c3d4e5f60718293a4b5c6d7e8f90")
	shared := storage.Join(jobDir, "shared")
	router.MkdirAll(ctx, shared)
	write := func(uri string, n int) {
		if err := storage.WriteFile(ctx, router, uri, make([]byte, n), storage.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	write(storage.Join(shared, "kept.sst"), 100)
	write(storage.Join(shared, "leaked.sst"), 40)
	m := &snapshot.Metadata{Version: snapshot.VersionWrite, CheckpointID: 3}
	m.SetProperties(snapshot.CheckpointProperties())
	op := snapshot.NewOperatorState("count-"+sfx, "count", 1, 128)
	op.Subtasks = []*snapshot.SubtaskState{{ManagedKeyedState: snapshot.NewIncrementalHandle(3, "b", snapshot.KeyGroupRange{Start: 0, Count: 128}, 1,
		snapshot.NewRelativeFileHandle("meta", 5), []snapshot.NamedHandle{{LocalName: "000001.sst", Handle: snapshot.NewFileHandle(storage.Join(shared, "kept.sst"), 100)}}, nil, "h")}}
	m.Operators = []*snapshot.OperatorState{op}
	if err := snapshot.Write(ctx, router, storage.Join(jobDir, "chk-3", "_metadata"), m); err != nil {
		t.Fatal(err)
	}
	write(storage.Join(jobDir, "chk-3", "meta"), 5)
	router.MkdirAll(ctx, storage.Join(jobDir, "chk-4")) // in progress
	latest, err := snapshot.LatestCompleteCheckpoint(ctx, router, jobDir)
	if err != nil || latest.ID != 3 {
		t.Fatalf("latest on HDFS: %+v %v", latest, err)
	}
	or, err := FindOrphans(ctx, router, jobDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if or.OrphanFiles != 1 || !strings.HasSuffix(or.Orphans[0].URI, "/leaked.sst") || or.ReferencedFiles != 1 {
		t.Errorf("orphans on HDFS: %+v", or)
	}
	rc, err := Inspect(ctx, router, storage.Join(jobDir, "chk-3"), Options{CheckFiles: true})
	if err != nil || rc.Totals.Missing != 0 || rc.Totals.Shared != 1 || rc.Totals.Exclusive != 1 {
		t.Errorf("checkpoint on HDFS: %+v %v", rc.Totals, err)
	}
}
