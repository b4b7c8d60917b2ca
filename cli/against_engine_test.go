package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/engine"
	"github.com/ckpt-dev/ckpt/engine/checkpoint"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// Issue 5's upgrade day, end to end, as an operator lives it: a job spec
// runs and leaves a savepoint or a retained chk-N; the spec changes; the
// dry run (`ckpt inspect --against SPEC`, `ckpt submit`'s check and the
// TUI's resume screen all build the new job's target with specTargetWith
// and ask inspector.PlanResume) predicts what the resume restores, drops,
// starts empty or refuses; then the engine resumes the new spec exactly as
// `ckpt run -s PATH [-n]` does, with and without -n, and the test holds
// the prediction against what the engine did — its error, Job.Skipped,
// which snapshot operators its job graph took — and against what the
// issue says must happen. The committed output of the exactly-once file
// sink then proves the state moved as predicted: restored state continues
// counting, new state starts empty, dropped state is gone.
//
// One scenario table, run twice: snapshots on local disk
// (TestAgainstAgreesWithEngine) and on the real HDFS
// (TestAgainstAgreesWithEngineOnHDFS).

// outcome is what a resume does.
type outcome string

const (
	restores outcome = "restores"
	fails    outcome = "fails"
)

// upgradeScenario is one program change between the snapshot and the resume.
type upgradeScenario struct {
	name string
	// variant of the job spec the snapshot is resumed into (upgradeSpec).
	variant string
	// parallelisms the job resumes at, one resume after the other (each
	// from a snapshot of the same kind taken of the previous one); empty =
	// once, at the snapshot's parallelism 2.
	parallelisms []int
	// what the issue (and Flink) says happens without and with -n.
	without, with outcome
	// dropped and added name the uids the plan must list as DROPPED and NEW.
	dropped, added []string
	// output is how the committed output of a key continues after the
	// resume (nil when the resume is refused whatever the flags).
	output continuation
}

// continuation builds what a key's committed values must be when the
// snapshot held a records of it and the job saw n in total.
type continuation func(a, n int64) []int64

// continued: restored count state goes on counting (a+1 … n) — the exact
// reference output 1 … n, nothing lost or repeated.
func continued(a, n int64) []int64 { return seq(1, n) }

// summedFresh: the count goes on (a+1 … n) and a new keyed sum after it
// starts empty, so the sink sees running sums of a+1, a+2, …
func summedFresh(a, n int64) []int64 {
	out := seq(1, a)
	var s int64
	for c := a + 1; c <= n; c++ {
		s += c
		out = append(out, s)
	}
	return out
}

// countedAgain: the count's state was dropped; a count under a new uid
// starts from 1 again.
func countedAgain(a, n int64) []int64 { return append(seq(1, a), seq(1, n-a)...) }

// uncounted: the count is gone; the sink gets the source's (key, 1).
func uncounted(a, n int64) []int64 {
	out := seq(1, a)
	for c := a + 1; c <= n; c++ {
		out = append(out, 1)
	}
	return out
}

func seq(from, to int64) []int64 {
	var out []int64
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

var upgradeScenarios = []upgradeScenario{
	{name: "resume the same program", variant: "same", without: restores, with: restores, output: continued},
	{name: "parallelism 2 to 4 to 1", variant: "same", parallelisms: []int{4, 1}, without: restores, with: restores, output: continued},
	{name: "add a stateless operator", variant: "stateless-added", without: restores, with: restores,
		added: []string{"filter"}, output: continued},
	{name: "add a stateful operator, it starts empty", variant: "stateful-added", without: restores, with: restores,
		added: []string{"sum"}, output: summedFresh},
	{name: "remove a stateful operator", variant: "count-removed", without: fails, with: restores,
		dropped: []string{"count"}, output: uncounted},
	{name: "change a uid, its state is unmatched", variant: "uid-changed", without: fails, with: restores,
		dropped: []string{"count"}, added: []string{"count-v2"}, output: countedAgain},
	{name: "change max parallelism, refused", variant: "maxp-changed", without: fails, with: fails},
	// Flink adopts the snapshot's max parallelism when the new job does
	// not configure one (the plan says so); so must the engine.
	{name: "max parallelism no longer configured, the snapshot's is adopted", variant: "maxp-unset",
		without: restores, with: restores, output: continued},
	// Max parallelism is per job vertex: the sink is chained after count,
	// so its own value is ignored and count's applies (Flink's rule).
	{name: "a max parallelism on the sink chained after count is ignored", variant: "sink-maxp",
		without: restores, with: restores, output: continued},
}

const (
	upgradeRecords = 12000
	upgradeKeys    = 53
	// A job that is to be snapshotted part-way runs slowly enough that even
	// a loaded machine snapshots it long before its input ends (4.8 s); one
	// that runs to the end does so quickly. The rate is no part of the state.
	slowRate, fastRate = 2500, 30000
)

// upgradeSpec writes the exactly-once job (generator → keyBy → count →
// exactly-once file sink into out) in the given variant, its source
// emitting rate records/s; count's max parallelism is configured (64) so
// that changing or dropping it is a scenario.
func upgradeSpec(t *testing.T, dir, variant, out string, rate int) string {
	t.Helper()
	countUID, countMaxP := "count", "\n    maxParallelism: 64"
	switch variant {
	case "uid-changed":
		countUID = "count-v2"
	case "maxp-changed":
		countMaxP = "\n    maxParallelism: 256"
	case "maxp-unset":
		countMaxP = ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "name: upgrade-%s\nparallelism: 2\npipeline:\n", variant)
	fmt.Fprintf(&b, "  - op: generator\n    uid: source\n    keys: %d\n    rate: %d\n    limit: %d\n", upgradeKeys, rate, upgradeRecords)
	if variant != "count-removed" {
		fmt.Fprintf(&b, "  - op: keyBy\n  - op: count\n    uid: %s%s\n", countUID, countMaxP)
	}
	switch variant {
	case "stateless-added":
		b.WriteString("  - op: filter\n    uid: filter\n    keyPrefix: key-\n")
	case "stateful-added":
		b.WriteString("  - op: keyBy\n  - op: sum\n    uid: sum\n")
	}
	fmt.Fprintf(&b, "  - op: file-sink\n    uid: sink\n    path: %s\n", out)
	if variant == "sink-maxp" {
		b.WriteString("    maxParallelism: 256\n")
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.yaml", variant, rate))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// snapshotKind is how the snapshot resumed from was taken.
type snapshotKind struct {
	name   string
	format snapshot.SavepointFormat // "" = a retained checkpoint
}

var snapshotKinds = []snapshotKind{
	{"canonical savepoint", snapshot.FormatCanonical},
	{"native savepoint", snapshot.FormatNative},
	{"retained checkpoint", ""},
}

// taken is a snapshot of a running job and what its sink had committed
// when the job ended.
type taken struct {
	path string
	out  string           // the job's file sink directory
	done map[string]int64 // lines committed per key when it ended
}

func TestAgainstAgreesWithEngine(t *testing.T) {
	runUpgradeTable(t, filepath.Join(t.TempDir(), "snapshots"))
}

func TestAgainstAgreesWithEngineOnHDFS(t *testing.T) {
	runUpgradeTable(t, peers.HDFS(t).BaseURI(t))
}

// runUpgradeTable runs every scenario from every snapshot kind, with the
// snapshots (checkpoint and savepoint directories) under base.
func runUpgradeTable(t *testing.T, base string) {
	if testing.Short() {
		t.Skip("runs the engine for every upgrade scenario; not in -short mode")
	}
	tmp := t.TempDir()
	for _, kind := range snapshotKinds {
		t.Run(kind.name, func(t *testing.T) {
			kdir := filepath.Join(tmp, strings.ReplaceAll(kind.name, " ", "-"))
			kbase := storage.Join(base, strings.ReplaceAll(kind.name, " ", "-"))
			// One snapshot of the original program serves every scenario:
			// resuming (NO_CLAIM) never changes it, and each resume writes
			// into its own copy of the sink's directory.
			v1 := takeSnapshot(t, kind, upgradeSpec(t, kdir, "same", filepath.Join(kdir, "out-v1"), slowRate),
				filepath.Join(kdir, "out-v1"), storage.Join(kbase, "v1"), 2)
			for i, sc := range upgradeScenarios {
				t.Run(sc.name, func(t *testing.T) {
					runScenario(t, sc, kind, v1, filepath.Join(kdir, fmt.Sprint(i)), storage.Join(kbase, fmt.Sprint(i)))
				})
			}
		})
	}
}

// takeSnapshot runs spec at parallelism p until it has processed a part of
// its input, then stops it with a savepoint of kind, or cancels it keeping
// its checkpoints and returns the latest retained chk-N.
func takeSnapshot(t *testing.T, kind snapshotKind, specPath, out, base string, p int) taken {
	t.Helper()
	kv := []string{
		"execution.checkpointing.interval=50ms",
		"execution.checkpointing.dir=" + storage.Join(base, "checkpoints"),
		"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
		fmt.Sprintf("parallelism.default=%d", p),
	}
	job, err := submitSpec(specPath, kv...)
	if err != nil {
		t.Fatalf("starting %s: %v", specPath, err)
	}
	defer func() { job.Cancel(); job.Wait() }()
	// Stop part-way: after some records and two completed checkpoints.
	emittedAtStart := emitted(job)
	deadline := time.Now().Add(time.Minute)
	for emitted(job)-emittedAtStart < 1500 || len(job.Retained()) == 0 || job.Retained()[len(job.Retained())-1].ID < 2 {
		if st := job.Status(); st.Terminal() || time.Now().After(deadline) {
			t.Fatalf("job %s before two checkpoints and 1500 records (emitted %d)", st, emitted(job))
		}
		time.Sleep(10 * time.Millisecond)
	}
	snap := ""
	if kind.format != "" {
		snap, err = job.StopWithSavepoint(context.Background(), storage.Join(base, "savepoints"), kind.format, false)
		if err != nil {
			t.Fatal(err)
		}
		if st, err := job.Wait(); st != engine.Finished {
			t.Fatalf("after stop with savepoint: %s %v", st, err)
		}
	} else {
		job.Cancel()
		job.Wait()
		found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), job.CheckpointDir())
		if err != nil || !ok {
			t.Fatalf("no retained checkpoint in %s: %v", job.CheckpointDir(), err)
		}
		snap = found.Dir
	}
	if !strings.HasPrefix(snap, base) {
		t.Fatalf("snapshot %s is not under %s", snap, base)
	}
	done := map[string]int64{}
	var total int64
	for k, v := range committedPerKey(t, out) {
		done[k] = int64(len(v))
		total += int64(len(v))
	}
	if total > upgradeRecords*3/4 {
		t.Fatalf("the job had committed %d of its %d records when its snapshot was taken: too late to show anything", total, upgradeRecords)
	}
	return taken{path: snap, out: out, done: done}
}

func emitted(job *engine.Job) int64 { return job.Metrics()[0].RecordsOut }

// submitSpec starts a job spec on the engine the way `ckpt run` does
// (runJobWith): load, layer the -D settings over the spec's, build the
// graph, submit.
func submitSpec(specPath string, kv ...string) (*engine.Job, error) {
	s, err := spec.Load(specPath)
	if err != nil {
		return nil, err
	}
	over, err := dynamic(kv...)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Configure(over)
	if err != nil {
		return nil, err
	}
	g, err := s.Graph()
	if err != nil {
		return nil, err
	}
	return engine.Submit(context.Background(), g, cfg, engine.Options{})
}

func dynamic(kv ...string) (*config.Config, error) {
	c := config.New()
	for _, a := range kv {
		if err := c.SetDynamic(a); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// runScenario resumes v1's snapshot into the scenario's program (and on,
// through every parallelism), checking plan against engine at each step,
// and finally the committed output.
func runScenario(t *testing.T, sc upgradeScenario, kind snapshotKind, v1 taken, dir, base string) {
	steps := sc.parallelisms
	if len(steps) == 0 {
		steps = []int{2}
	}
	from, sinkDir := v1.path, v1.out
	for i, p := range steps {
		last := i == len(steps)-1
		kv := []string{
			"execution.checkpointing.interval=50ms",
			"execution.checkpointing.dir=" + storage.Join(base, fmt.Sprintf("step%d", i), "checkpoints"),
			"execution.checkpointing.externalized-checkpoint-retention=RETAIN_ON_CANCELLATION",
			fmt.Sprintf("parallelism.default=%d", p),
			"execution.state-recovery.path=" + from,
		}
		// Without -n, then with it. Each try gets its own copy of the
		// sink's directory (a sink's start commits and cleans up what the
		// snapshot says), so the two never touch each other's files; the
		// first try that restores goes on, the other is cancelled once its
		// start has been compared.
		var runner *engine.Job
		var runnerOut string
		var tryPlan *inspector.ResumePlan
		for n, allowNR := range []bool{false, true} {
			out := filepath.Join(dir, fmt.Sprintf("step%d-try%d", i, n), "out")
			copyDir(t, sinkDir, out)
			rate := slowRate // snapshotted for the next step
			if last {
				rate = fastRate
			}
			specPath := upgradeSpec(t, filepath.Dir(out), sc.variant, out, rate)
			if n == 0 {
				plan := planFor(t, from, specPath, kv)
				if got := plan.WithoutAllowNonRestored; got != inspector.Outcome(sc.without) {
					t.Errorf("step %d (p=%d): the plan says the resume without -n %s, the issue says %s", i, p, got, sc.without)
				}
				if got := plan.WithAllowNonRestored; got != inspector.Outcome(sc.with) {
					t.Errorf("step %d (p=%d): the plan says the resume with -n %s, the issue says %s", i, p, got, sc.with)
				}
				checkPlanLists(t, plan, sc, i == 0)
				tryPlan = plan
			}
			args := kv
			if allowNR {
				args = append(append([]string(nil), kv...), "execution.state-recovery.ignore-unclaimed-state=true")
			}
			job, err := submitSpec(specPath, args...)
			agree(t, tryPlan, allowNR, job, err)
			if job == nil {
				continue
			}
			if runner == nil {
				runner, runnerOut = job, out
				continue
			}
			job.Cancel()
			job.Wait()
		}
		if runner == nil {
			if sc.output != nil {
				t.Fatalf("step %d: no resume ran", i)
			}
			return
		}
		sinkDir = runnerOut
		if last {
			if st, err := runner.Wait(); st != engine.Finished {
				t.Fatalf("resumed job ended %s: %v", st, err)
			}
			break
		}
		// A snapshot of the rescaled job, of the same kind, for the next step.
		from = takeSnapshotOf(t, kind, runner, storage.Join(base, fmt.Sprintf("step%d", i)))
	}
	checkOutput(t, sc, v1, committedPerKey(t, sinkDir))
}

// takeSnapshotOf takes a snapshot of kind of a resumed job once it has
// processed some records and completed a checkpoint of its own, and ends it.
func takeSnapshotOf(t *testing.T, kind snapshotKind, job *engine.Job, base string) string {
	t.Helper()
	defer func() { job.Cancel(); job.Wait() }()
	start := emitted(job)
	deadline := time.Now().Add(time.Minute)
	for {
		r := job.Retained()
		if emitted(job)-start >= 1000 && len(r) > 0 && !r[len(r)-1].Restored {
			break
		}
		if st := job.Status(); st.Terminal() || time.Now().After(deadline) {
			t.Fatalf("resumed job %s before a checkpoint of its own (emitted %d)", st, emitted(job)-start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if kind.format != "" {
		sp, err := job.StopWithSavepoint(context.Background(), storage.Join(base, "savepoints"), kind.format, false)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	job.Cancel() // RETAIN_ON_CANCELLATION keeps its chk-N
	job.Wait()
	found, ok, err := checkpoint.FindLatest(context.Background(), storage.Default(), job.CheckpointDir())
	if err != nil || !ok {
		t.Fatalf("no retained checkpoint of the resumed job in %s: %v", job.CheckpointDir(), err)
	}
	return found.Dir
}

// planFor is the dry run: the snapshot read from storage, the new job's
// target built from its spec with the submission's settings (as
// `ckpt inspect --against` and `ckpt submit` do).
func planFor(t *testing.T, snap, specPath string, kv []string) *inspector.ResumePlan {
	t.Helper()
	m, err := snapshot.Read(context.Background(), storage.Default(), snap)
	if err != nil {
		t.Fatal(err)
	}
	over, err := dynamic(kv...)
	if err != nil {
		t.Fatal(err)
	}
	target, err := specTargetWith(specPath, over)
	if err != nil {
		t.Fatal(err)
	}
	return inspector.PlanResume(m, target, nil)
}

// checkPlanLists: the plan names exactly the uids the scenario drops and
// adds (the first step; later steps resume the new program into itself).
func checkPlanLists(t *testing.T, plan *inspector.ResumePlan, sc upgradeScenario, first bool) {
	t.Helper()
	uids := func(ops []inspector.PlanOperator) string {
		var s []string
		for _, o := range ops {
			s = append(s, o.UID)
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	wantDropped, wantAdded := sc.dropped, sc.added
	if !first {
		wantDropped, wantAdded = nil, nil
	}
	sort.Strings(wantDropped)
	sort.Strings(wantAdded)
	if got := uids(plan.Dropped); got != strings.Join(wantDropped, ",") {
		t.Errorf("plan drops %q, want %q", got, strings.Join(wantDropped, ","))
	}
	if got := uids(plan.New); got != strings.Join(wantAdded, ",") {
		t.Errorf("plan starts %q empty, want %q", got, strings.Join(wantAdded, ","))
	}
	for _, d := range plan.Dropped {
		if d.StateSize <= 0 {
			t.Errorf("plan drops %s with no size", d.UID)
		}
	}
}

// agree holds the plan's prediction for one resume against what the
// engine did: started or refused; when refused, the error names every
// operator the plan drops; when started, the state it skipped is the
// plan's DROPPED (same IDs, uids and sizes), the snapshot operators its
// job graph took are the plan's RESTORED, and its operators without state
// in the snapshot are the plan's NEW.
func agree(t *testing.T, plan *inspector.ResumePlan, allowNR bool, job *engine.Job, err error) {
	t.Helper()
	want, flag := plan.WithoutAllowNonRestored, "without -n"
	if allowNR {
		want, flag = plan.WithAllowNonRestored, "with -n"
	}
	switch {
	case want == inspector.OutcomeFails && err == nil:
		t.Errorf("%s: the plan says the resume fails, the engine started it", flag)
		return
	case want == inspector.OutcomeRestores && err != nil:
		t.Errorf("%s: the plan says the resume restores, the engine refused: %v", flag, err)
		return
	case err != nil:
		for _, d := range plan.Dropped {
			if !allowNR && (!strings.Contains(err.Error(), d.ID) || !strings.Contains(err.Error(), strconv.Quote(d.UID))) {
				t.Errorf("%s: the engine's error does not name dropped operator %s (uid %q): %v", flag, d.ID, d.UID, err)
			}
		}
		for _, f := range plan.Failures {
			if !strings.Contains(f.Reason, "max parallelism") || !strings.Contains(err.Error(), "max parallelism") {
				t.Errorf("%s: plan failure %q, engine error %v: both should be about max parallelism", flag, f.Reason, err)
			}
		}
		return
	}
	type opInfo struct {
		uid  string
		size int64
	}
	skipped := map[string]opInfo{}
	for _, u := range job.Skipped() {
		skipped[u.ID.String()] = opInfo{u.UID, u.StateSize}
	}
	planDropped := map[string]opInfo{}
	for _, d := range plan.Dropped {
		planDropped[d.ID] = opInfo{d.UID, d.StateSize}
	}
	if fmt.Sprint(skipped) != fmt.Sprint(planDropped) {
		t.Errorf("%s: the engine skipped %v, the plan drops %v", flag, skipped, planDropped)
	}
	m, g := job.Restored(), job.Graph()
	var took, fresh []string
	for _, op := range m.Operators {
		if g.ByID(op.ID) != nil {
			took = append(took, op.ID.String())
		}
	}
	for _, v := range g.Vertices {
		if m.Operator(v.ID) == nil {
			fresh = append(fresh, v.ID.String())
		}
	}
	ids := func(ops []inspector.PlanOperator) []string {
		var s []string
		for _, o := range ops {
			s = append(s, o.ID)
		}
		return s
	}
	if a, b := sorted(took), sorted(ids(plan.Restored)); a != b {
		t.Errorf("%s: the engine's job takes snapshot operators %s, the plan restores %s", flag, a, b)
	}
	if a, b := sorted(fresh), sorted(ids(plan.New)); a != b {
		t.Errorf("%s: the engine's job has %s without state in the snapshot, the plan says new %s", flag, a, b)
	}
}

func sorted(s []string) string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// checkOutput: for every key, the committed values are the scenario's
// continuation of a snapshot that held a of the key's n records, a at
// least what the first job had committed when it ended (a savepoint's
// stop commits exactly its state; a retained checkpoint's last pending
// files are committed on restore). Across keys, the snapshot held some of
// the input and the resumed job processed some.
func checkOutput(t *testing.T, sc upgradeScenario, v1 taken, got map[string][]int64) {
	t.Helper()
	var held, after, bad int64
	for k := int64(0); k < upgradeKeys; k++ {
		key := fmt.Sprintf("key-%d", k)
		n := int64(upgradeRecords / upgradeKeys)
		if k < upgradeRecords%upgradeKeys {
			n++
		}
		vals := got[key]
		sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
		found := int64(-1)
		for a := v1.done[key]; a <= n && found < 0; a++ {
			want := sc.output(a, n)
			sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
			if fmt.Sprint(want) == fmt.Sprint(vals) {
				found = a
			}
		}
		if found < 0 {
			if bad++; bad <= 3 {
				t.Errorf("%s: committed %v, which no snapshot of ≥ %d of its %d records explains", key, abbreviate(vals), v1.done[key], n)
			}
			continue
		}
		held += found
		after += n - found
	}
	if bad == 0 && (held == 0 || after == 0) {
		t.Errorf("the snapshot held %d records and the resumed job processed %d: the scenario proves nothing", held, after)
	}
}

func abbreviate(v []int64) string {
	if len(v) > 12 {
		return fmt.Sprintf("%v … %v (%d values)", v[:6], v[len(v)-6:], len(v))
	}
	return fmt.Sprint(v)
}

// committedPerKey reads a file sink's committed part files: key → values.
func committedPerKey(t *testing.T, dir string) map[string][]int64 {
	t.Helper()
	out := map[string][]int64{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), "part-") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ",")
			n, err := strconv.ParseInt(v, 10, 64)
			if !ok || err != nil {
				t.Fatalf("%s: bad line %q", e.Name(), sc.Text())
			}
			out[k] = append(out[k], n)
		}
		f.Close()
	}
	return out
}

// copyDir copies a sink directory, in-progress files included.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		src, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		dst, err := os.Create(filepath.Join(to, e.Name()))
		if err == nil {
			_, err = io.Copy(dst, src)
			dst.Close()
		}
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}
