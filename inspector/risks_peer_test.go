package inspector

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
)

// AssessUpgrade over a real Flink 2.x canonical savepoint of the peer's
// StateJob: its Kryo state (written by Kryo 5), its three TTL states, no
// Java serialization; and a declared schema as a ckpt job spec would give
// it — String keys on StateJob's by-string operator match (nothing
// refused), on its by-long operator (Long keys) Flink refuses.
func TestAssessUpgradeRealFlink(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "input.tsv")
	var b strings.Builder
	for i := range 40 {
		b.WriteString(strings.Join([]string{
			[]string{"1", "2", "3", "-4"}[i%4], []string{"k1", "k2"}[i%2], "17", "s", "0.5", "true", "-"}, "\t") + "\n")
	}
	if err := os.WriteFile(input, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	p := peers.StartFlink(t, peers.FlinkOptions{Version: peers.FlinkVersion2})
	run, err := p.SubmitStateJob(peers.FlinkJob{Name: "risks", Backend: "hashmap", Parallelism: 2, CheckpointInterval: time.Hour},
		peers.StateJobSpec{Input: input, Done: filepath.Join(dir, "done"), OpList: []string{"a"}, OpUnion: []string{"b"}})
	if err != nil {
		t.Fatal(err)
	}
	defer run.Cancel()
	var sp string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if sp, err = run.TriggerSavepoint("", peers.SavepointCanonical); err == nil || time.Now().After(deadline) ||
			!strings.Contains(err.Error(), "Not all required tasks are currently running") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, fsys := context.Background(), storage.NewLocal()
	m, err := snapshot.Read(ctx, fsys, peers.LocalPath(sp))
	if err != nil {
		t.Fatal(err)
	}
	var uids []string
	for _, op := range m.Operators {
		uids = append(uids, op.UID)
	}
	target, err := TargetFromUIDs("StateJob", uids)
	if err != nil {
		t.Fatal(err)
	}
	str, long := &state.Type{Kind: state.KindString}, &state.Type{Kind: state.KindLong}
	void := &state.Type{Kind: state.KindVoidNamespace}
	for i, o := range target.Operators {
		switch o.UID {
		case "by-string":
			target.Operators[i].Declared = &DeclaredSchema{Key: str, States: []DeclaredState{{Name: "count", Kind: "VALUE", Namespace: void, Value: long}}}
		case "by-long":
			target.Operators[i].Declared = &DeclaredSchema{Key: str, States: []DeclaredState{{Name: "v-long", Kind: "VALUE", Namespace: void, Value: long}}}
		}
	}
	plan := PlanResume(m, target, nil)
	u := AssessUpgrade(ctx, fsys, m, plan, target)
	var got []string
	for _, r := range u.Risks {
		got = append(got, r.UID+"/"+r.State+"/"+string(r.Risk))
		if r.Risk == RiskKryo && !strings.Contains(r.Detail, "Kryo 5") {
			t.Errorf("a Flink 2.x snapshot's Kryo risk: %s", r.Detail)
		}
	}
	want := "by-long//incompatible_serializer by-long/v-ttl/ttl by-long/l-string-ttl/ttl by-long/m-ttl/ttl kryo/v-kryo/kryo"
	if strings.Join(got, " ") != want {
		t.Errorf("risks\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if len(u.Unread) > 0 || u.WrittenBy != snapshot.WrittenBy(m.Version) || u.KryoGuidance == "" {
		t.Errorf("unread %v, written by %q, guidance %q", u.Unread, u.WrittenBy, u.KryoGuidance)
	}
	if plan.ExitCode != ExitResumeFails || len(plan.Failures) != 1 || plan.Failures[0].UID != "by-long" {
		t.Errorf("plan: exit %d, failures %+v", plan.ExitCode, plan.Failures)
	}
}
