package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/peers"
	"github.com/ckpt-dev/ckpt/snapshot"
)

// TestAgainstJarPredictsFlink: the dry run of a jar (ckpt inspect
// --against JAR -m FLINK, and ckpt submit JAR -s SNAPSHOT --dry-run) on
// real Flink 2.3 and 1.20, compared with what Flink does when the same
// jar is submitted with the same savepoint. The savepoint is of PeerJob:
// source → map | keyBy → count → operator-state "list" → sink, the list
// chained after the count (its ID is not in Flink's plan: the chaining-
// disabled plan gives it, by its uid). Variants: (a) the same program
// restores (exit 0); without uids named, a 1.20 savepoint (which records
// none) leaves the chained list UNKNOWN (exit 6), never a refusal, and
// Flink restores; (b) the count lost its uid: exit 3 naming it, Flink
// refuses without -n and drops it with -n; (c) max parallelism configured
// to 256: not in Flink's plan, so NOT CHECKED (never a plain "restores"),
// and Flink refuses. Costs about 100-120 s per Flink version on a busy
// 2-core machine (a cluster start of 30 s, a savepoint, a dozen plans,
// four or five submissions).
func TestAgainstJarPredictsFlink(t *testing.T) {
	if testing.Short() {
		t.Skip("real Flink peer: not in -short")
	}
	for _, version := range peers.FlinkVersions {
		t.Run(version, func(t *testing.T) {
			t.Setenv("CKPT_CONFIG", filepath.Join(t.TempDir(), "none.yaml"))
			sfx := fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff)
			src := peers.FlinkOp{Kind: "source", UID: "src-" + sfx, Name: "src"}
			mapOp := peers.FlinkOp{Kind: "map", UID: "map-" + sfx, Name: "map"}
			count := peers.FlinkOp{Kind: "count", UID: "count-" + sfx, Name: "count"}
			list := peers.FlinkOp{Kind: "opstate", UID: "list-" + sfx, Name: "list"}
			sink := peers.FlinkOp{Kind: "sink", UID: "sink-" + sfx, Name: "sink"}
			base := peers.FlinkJob{Version: version, Parallelism: 2, Operators: []peers.FlinkOp{src, mapOp, count, list, sink}}
			p := peers.Flink(t, base)
			url := p.RESTURL()
			if _, err := p.WaitCheckpoints(1); err != nil {
				t.Fatal(err)
			}
			sp, err := p.StopWithSavepoint("", false)
			if err != nil {
				t.Fatal(err)
			}
			sp = peers.LocalPath(sp)
			uids := strings.Join([]string{src.UID, mapOp.UID, count.UID, list.UID, sink.UID}, ",")
			if version != peers.FlinkVersion120 {
				uids = "" // Flink 2.x records them in the savepoint
			}
			noUID := count
			noUID.UID = ""
			scenarios := []struct {
				name    string
				job     peers.FlinkJob
				uids    string
				exit    int
				dropped string        // uid the plan must name as dropped
				flink   map[bool]bool // -n → Flink restores; only where -n makes a difference
			}{
				{"(a) same program", base, uids, inspector.ExitResumeOK, "", map[bool]bool{false: true}},
				{"(b) the count lost its uid", withOps(base, src, mapOp, noUID, list, sink), uids, inspector.ExitResumeDropState, count.UID,
					map[bool]bool{false: false, true: true}},
				{"(c) max parallelism configured to 256", withMaxP(base, 256), uids, inspector.ExitResumeOK, "", map[bool]bool{false: false}},
			}
			if version == peers.FlinkVersion120 {
				scenarios = append(scenarios, struct {
					name    string
					job     peers.FlinkJob
					uids    string
					exit    int
					dropped string
					flink   map[bool]bool
				}{"(a) same program, no uids named for a 1.20 savepoint", base, "", inspector.ExitResumeUnknown, "", map[bool]bool{false: true}})
			}
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					progArgs, err := p.ProgramArgs(sc.job)
					if err != nil {
						t.Fatal(err)
					}
					args := []string{"inspect", "--json", "--no-check", "-m", url, "--against", p.JobJar(), "--class", peers.FlinkJobEntryClass}
					for _, a := range progArgs {
						args = append(args, "--arg", a)
					}
					if sc.uids != "" {
						args = append(args, "--uids", sc.uids)
					}
					code, out, errOut := runCkpt(t, append(args, sp)...)
					var doc struct {
						Resume *inspector.ResumePlan `json:"resume"`
					}
					if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Resume == nil {
						t.Fatalf("exit %d, no plan (%v)\nstdout:\n%s\nstderr:\n%s", code, err, out, errOut)
					}
					plan := doc.Resume
					if code != sc.exit || plan.ExitCode != sc.exit {
						t.Errorf("exit %d (plan %d), want %d\n%s", code, plan.ExitCode, sc.exit, out)
					}
					if plan.MaxParallelismCheck != inspector.MaxParallelismNotChecked {
						t.Errorf("max parallelism check %q: Flink's plan carries no max parallelism", plan.MaxParallelismCheck)
					}
					if sc.dropped != "" && (len(plan.Dropped) != 1 || plan.Dropped[0].UID != sc.dropped) {
						t.Errorf("dropped %+v, want %s named", plan.Dropped, sc.dropped)
					}
					if sc.exit == inspector.ExitResumeUnknown && (len(plan.Unknown) != 1 || plan.Unknown[0].ID != snapshot.OperatorIDFromUID(list.UID).String() || len(plan.Dropped) != 0) {
						t.Errorf("unknown %+v, dropped %+v: want the chained list unknown, nothing dropped", plan.Unknown, plan.Dropped)
					}
					if sc.exit == inspector.ExitResumeOK {
						restored := map[string]bool{}
						for _, op := range plan.Restored {
							restored[op.ID] = true
						}
						for _, o := range []peers.FlinkOp{src, count, list} {
							if !restored[snapshot.OperatorIDFromUID(o.UID).String()] {
								t.Errorf("%s not restored (restored %+v)", o.UID, plan.Restored)
							}
						}
						if len(plan.Unknown) != 0 || len(plan.Dropped) != 0 {
							t.Errorf("unknown %+v, dropped %+v: want none", plan.Unknown, plan.Dropped)
						}
					}

					// The same verdict from ckpt submit --dry-run; nothing submitted.
					dargs := []string{"submit", "--dry-run", "-m", url, "-s", sp, "-c", peers.FlinkJobEntryClass, p.JobJar()}
					if sc.uids == "" {
						dcode, dout, derr := runCkpt(t, append(dargs, progArgs...)...)
						if dcode != sc.exit || strings.Contains(dout, "Job has been submitted") {
							t.Errorf("submit --dry-run: exit %d, want %d\n%s\n%s", dcode, sc.exit, dout, derr)
						}
					}

					// What Flink does with the jar and the savepoint, without and with -n.
					for _, allow := range []bool{false, true} {
						want, ok := sc.flink[allow]
						if !ok {
							continue
						}
						predicted := plan.WithoutAllowNonRestored
						if allow {
							predicted = plan.WithAllowNonRestored
						}
						restored, msg := submitJar(t, p, sc.job, sp, allow, progArgs)
						if restored != want {
							t.Fatalf("-n=%v: Flink restored=%v, the test expects %v (%s)", allow, restored, want, msg)
						}
						if !agrees(predicted, restored) {
							t.Errorf("-n=%v: ckpt predicted %s, Flink restored=%v (%s)", allow, predicted, restored, msg)
						}
					}
				})
			}
			// The text names what it could not check.
			progArgs, _ := p.ProgramArgs(withMaxP(base, 256))
			args := []string{"inspect", "--no-check", "-m", url, "--against", p.JobJar(), "--class", peers.FlinkJobEntryClass, "--arg", progArgs[0], "--arg", progArgs[1]}
			if _, out, _ := runCkpt(t, append(args, sp)...); !strings.Contains(out, "max parallelism NOT CHECKED") {
				t.Errorf("the text does not say max parallelism is not checked:\n%s", out)
			}
		})
	}
}

func withOps(j peers.FlinkJob, ops ...peers.FlinkOp) peers.FlinkJob {
	j.Operators = ops
	return j
}

func withMaxP(j peers.FlinkJob, n int) peers.FlinkJob {
	j.MaxParallelism = n
	return j
}

// agrees: a prediction is consistent with what Flink did; a conditional
// one (max parallelism not checked, unknown state) with either outcome.
func agrees(predicted inspector.Outcome, restored bool) bool {
	switch predicted {
	case inspector.OutcomeRestores:
		return restored
	case inspector.OutcomeFails:
		return !restored
	}
	return true
}

var jobIDLine = regexp.MustCompile(`JobID ([0-9a-f]{32})`)

// submitJar submits the peer's jar running job, resuming from sp, with
// ckpt submit --no-dry-run (Flink alone decides): restored when the job
// runs, false when Flink refuses it; a running job is cancelled.
func submitJar(t *testing.T, p *peers.FlinkPeer, job peers.FlinkJob, sp string, allow bool, progArgs []string) (bool, string) {
	t.Helper()
	args := []string{"submit", "--no-dry-run", "-m", p.RESTURL(), "--wait", "90s", "-s", sp, "-c", peers.FlinkJobEntryClass}
	if allow {
		args = append(args, "-n")
	}
	code, out, errOut := runCkpt(t, append(append(args, p.JobJar()), progArgs...)...)
	m := jobIDLine.FindStringSubmatch(out)
	switch {
	case code == 0 && strings.Contains(out, "is RUNNING"):
		if m != nil {
			if err := p.Run(m[1], job).Cancel(); err != nil {
				t.Logf("cancel %s: %v", m[1], err)
			}
		}
		return true, out
	case code == ExitError:
		return false, firstLineOf(errOut)
	}
	t.Fatalf("ckpt submit: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	return false, ""
}

func firstLineOf(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
