package resume_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
)

// riskySavepoint is a real Flink 1.20 savepoint whose state is inline in
// _metadata: "first" and "second" hold Java-serialized operator state,
// "window" is keyed by Tuple1<Integer> with a REDUCING "count".
const riskySavepoint = "/risky/savepoint-c0ffee-0123456789ab"

func riskyFS(t *testing.T) storage.FS {
	t.Helper()
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(tuitest.Fixtures(t), "apache-flink", "operatorstate_complexKeyed-flink1.20", "_metadata"))
	if err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(dir, "savepoint-c0ffee-0123456789ab")
	if err := os.MkdirAll(sp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sp, "_metadata"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return tuitest.PrefixFS{FS: storage.NewLocal(), Prefix: "/risky", Root: dir}
}

// riskySpecs stands in for the CLI's spec loader: "same" keeps the
// savepoint's three operators; "count-on-window" puts a ckpt count (String
// key, VALUE "count", as cli/jobspec_target.go declares it) on the window
// operator's uid.
func riskySpecs(path string) (inspector.Target, error) {
	t := inspector.Target{Source: "job spec " + path, Complete: true}
	for _, uid := range []string{"first", "second", "window"} {
		t.Operators = append(t.Operators, inspector.TargetOperator{UID: uid, Parallelism: 4, MaxParallelism: 128})
	}
	if strings.Contains(path, "count-on-window") {
		t.Operators[2].Declared = &inspector.DeclaredSchema{Key: &state.Type{Kind: state.KindString}, States: []inspector.DeclaredState{
			{Name: "count", Kind: "VALUE", Namespace: &state.Type{Kind: state.KindVoidNamespace}, Value: &state.Type{Kind: state.KindLong}}}}
	}
	return t, nil
}

const (
	sameSpec          = "testdata/specs/orders-enrichment.yaml"
	countOnWindowSpec = "testdata/specs/count-on-window.yaml"
)

// The resume screen lists the upgrade risks of inspect --against under
// each restored operator before the user confirms, and refuses to submit
// a serializer change Flink would refuse (as ckpt submit exits 4).
func TestResumeUpgradeRisks(t *testing.T) {
	t.Run("risks listed, submit allowed", func(t *testing.T) {
		fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
		a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: riskyFS(t), Cluster: fc, Target: "local", Specs: riskySpecs},
			"resume", riskySavepoint, sameSpec)
		sel := a.Top().(*resume.Resume).Selection()
		if sel.PlanErr != nil || sel.Plan == nil || sel.Plan.Upgrade == nil {
			t.Fatalf("no upgrade risks assessed: %+v %v", sel.Plan, sel.PlanErr)
		}
		if n := sel.Plan.Upgrade.Count(inspector.RiskJava); n != 2 || len(sel.Plan.Failures) != 0 {
			t.Fatalf("%d Java serialization risks, %d failures: %+v", n, len(sel.Plan.Failures), sel.Plan.Upgrade.Risks)
		}
		f := tuitest.FrameText(a)
		for _, w := range []string{"upgrade risks (snapshot written by Flink 1.16+): 2 JAVA", `└ JAVA`, `state "_default_" (operator SPLIT_DISTRIBUTE)`} {
			if !strings.Contains(f, w) {
				t.Errorf("frame lacks %q:\n%s", w, f)
			}
		}
		tuitest.Press(t, a, "enter")
		if f := strings.Join(strings.Fields(tuitest.FrameText(a)), " "); !strings.Contains(f, "its state with 2 upgrade risks (listed above)") {
			t.Errorf("the confirmation does not mention the risks:\n%s", tuitest.FrameText(a))
		}
		tuitest.Press(t, a, "y")
		if len(fc.Runs) != 1 {
			t.Fatalf("runs %+v, want the resume submitted", fc.Runs)
		}
	})
	t.Run("refused serializers, not submitted", func(t *testing.T) {
		fc := &tuitest.FakeCluster{Version: "ckpt-dev"}
		a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: riskyFS(t), Cluster: fc, Target: "local", Specs: riskySpecs},
			"resume", riskySavepoint, countOnWindowSpec)
		p := a.Top().(*resume.Resume).Selection().Plan
		if p == nil || p.ExitCode != inspector.ExitResumeFails || len(p.Failures) != 2 {
			t.Fatalf("plan %+v, want the key and the kind refused", p)
		}
		if r := p.Refuse(true); r == nil || !strings.Contains(r.Reason, "the new job's key is String") {
			t.Errorf("refusal %+v", r)
		}
		tuitest.Press(t, a, "enter", "y")
		if len(fc.Runs) != 0 {
			t.Fatalf("submitted a resume Flink refuses: %+v", fc.Runs)
		}
		if f := tuitest.FrameText(a); !strings.Contains(f, "FAILS") || !strings.Contains(f, "└ SERIALIZER") || !strings.Contains(f, "└ KIND ") {
			t.Errorf("frame lacks the refused serializers:\n%s", f)
		}
	})
}

func TestResumeUpgradeRisksGolden(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		keys       []string
	}{
		{name: "resume-risks", spec: sameSpec, keys: []string{"down"}},
		{name: "resume-risks-confirm", spec: sameSpec, keys: []string{"enter"}},
		{name: "resume-risks-refused", spec: countOnWindowSpec, keys: []string{"down"}},
	} {
		for _, sz := range tuitest.Sizes {
			name := fmt.Sprintf("%s-%dx%d", tc.name, sz.W, sz.H)
			t.Run(name, func(t *testing.T) {
				a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: riskyFS(t), Cluster: &tuitest.FakeCluster{Version: "ckpt-dev"},
					Target: "local", Specs: riskySpecs}, "resume", riskySavepoint, tc.spec)
				tuitest.Press(t, a, tc.keys...)
				tuitest.Golden(t, a, name)
			})
		}
	}
}
