package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster/flinkrest"
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/internal/flinkrecorded"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
)

// The jar flags of inspect go with --against JAR only; a jar's dry run is
// refused, in words, where it cannot run: in the TUI, and against ckpt
// serve (which runs job specs); submit --dry-run needs a resume.
func TestAgainstJarUsage(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("CKPT_CONFIG", filepath.Join(tmp, "none.yaml"))
	sp := flinkFixture(t, "operatorstate_complexKeyed-flink1.20", tmp, "savepoint-c0ffee-0123456789ab")
	jar := filepath.Join(tmp, "job.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04"), 0o644); err != nil {
		t.Fatal(err)
	}
	url, _ := startServe(t, map[string]string{config.CheckpointDir: "file://" + filepath.Join(tmp, "ckpt")})
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"inspect", "--class", "a.B", sp}, ExitUsage, "--class, --arg and -p apply to --against JAR"},
		{[]string{"inspect", "--against", "a,b", "-p", "2", sp}, ExitUsage, "apply to --against JAR"},
		{[]string{"inspect", "-i", "--against", jar, sp}, ExitUsage, "not in the TUI"},
		{[]string{"inspect", "--no-check", "-m", url, "--against", jar, sp}, ExitError, "runs job specs, not jars"},
		{[]string{"submit", "--dry-run", "-m", url, jar}, ExitUsage, "--dry-run runs the resume dry run: give -s PATH"},
		{[]string{"submit", "--dry-run", "--no-dry-run", "-s", sp, "-m", url, jar}, ExitUsage, "--dry-run runs the resume dry run"},
	} {
		code, out, errOut := runCkpt(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.err) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, tc.err, out, errOut)
		}
	}
}

// fakeFlink is a Flink 2.3 REST endpoint for the jar dry run: the plans
// are the ones recorded from the real peer (flinkrecorded.JarPlanName),
// everything else minimal; it records the requests.
type fakeFlink struct {
	mu   sync.Mutex
	reqs []string
}

func (f *fakeFlink) start(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Method+" "+r.URL.Path)
		f.mu.Unlock()
		switch {
		case r.URL.Path == "/overview":
			w.Write([]byte(`{"flink-version":"2.3.0","taskmanagers":1}`))
		case r.URL.Path == "/jars/upload":
			w.Write([]byte(`{"filename":"/tmp/up/77aa_job.jar","status":"success"}`))
		case strings.HasSuffix(r.URL.Path, "/plan"):
			var b struct {
				Conf map[string]string `json:"flinkConfiguration"`
			}
			json.NewDecoder(r.Body).Decode(&b)
			w.Write(flinkrecorded.Read(t, "2.3.0", flinkrecorded.JarPlanName(b.Conf[flinkrest.ChainingKey] != "false")))
		case strings.HasSuffix(r.URL.Path, "/run"):
			w.Write([]byte(`{"jobid":"0123456789abcdef0123456789abcdef"}`))
		case r.Method == http.MethodDelete:
			w.Write([]byte(`{}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":["Not found."]}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func (f *fakeFlink) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.reqs
	f.reqs = nil
	return out
}

// jarSavepoint writes a savepoint of the recorded plan's job: the source
// and the count with their uids and state, plus the operators given.
func jarSavepoint(t *testing.T, dir string, extra ...*snapshot.OperatorState) string {
	t.Helper()
	m := &snapshot.Metadata{Version: snapshot.Version6, CheckpointID: 3}
	m.SetProperties(snapshot.SavepointProperties(snapshot.FormatCanonical, snapshot.ActionNone))
	src := withOperatorState(snapshot.NewOperatorState("gen-source", "Source: gen-source", 2, 128))
	cnt := snapshot.NewOperatorState("count-per-key", "count-per-key", 2, 128)
	for i := int32(0); i < 2; i++ {
		r := snapshot.KeyGroupRangeFor(128, 2, i)
		cnt.Subtasks = append(cnt.Subtasks, &snapshot.SubtaskState{Index: i,
			ManagedKeyedState: snapshot.NewSavepointKeyGroupsHandle(r, make([]int64, r.Count), &snapshot.ByteStreamHandle{Name: "k", Data: make([]byte, 50)})})
	}
	m.Operators = append([]*snapshot.OperatorState{src, cnt}, extra...)
	if err := snapshot.Write(context.Background(), storage.NewLocal(), dir, m); err != nil {
		t.Fatal(err)
	}
	return dir
}

func withOperatorState(op *snapshot.OperatorState) *snapshot.OperatorState {
	for i := int32(0); i < op.Parallelism; i++ {
		op.Subtasks = append(op.Subtasks, &snapshot.SubtaskState{Index: i, ManagedOperatorState: snapshot.NewOperatorStreamHandle(
			&snapshot.ByteStreamHandle{Name: "o", Data: make([]byte, 20)}, snapshot.NamedOperatorState{Name: "o", Offsets: []int64{0}})})
	}
	return op
}

// ckpt submit JAR -s: the jar is uploaded once, planned (twice: chained
// and not), then run by the same jar ID; a refused resume and --dry-run
// remove the jar they uploaded and run nothing; inspect --against JAR
// says UNKNOWN (exit 6) for a chained operator without uid.
func TestSubmitJarDryRun(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("CKPT_CONFIG", filepath.Join(tmp, "none.yaml"))
	f := &fakeFlink{}
	url := f.start(t)
	jar := filepath.Join(tmp, "job.jar")
	if err := os.WriteFile(jar, []byte("PK\x03\x04"), 0o644); err != nil {
		t.Fatal(err)
	}
	same := jarSavepoint(t, filepath.Join(tmp, "savepoint-aa0000-000000000001"))
	gone := jarSavepoint(t, filepath.Join(tmp, "savepoint-aa0000-000000000002"), withOperatorState(snapshot.NewOperatorState("gone", "gone", 2, 128)))
	listID, _ := snapshot.ParseOperatorID("dc248cc6c1a625cf52a83c1fa05a0d62") // the uid-less list, in the unchained plan
	list := withOperatorState(&snapshot.OperatorState{ID: listID, Name: "list", Parallelism: 2, MaxParallelism: 128})
	hidden := jarSavepoint(t, filepath.Join(tmp, "savepoint-aa0000-000000000003"), list)
	plan := []string{"POST /jars/77aa_job.jar/plan", "POST /jars/77aa_job.jar/plan"}
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
		reqs []string
	}{
		{"dry run only", []string{"submit", "--dry-run", "-m", url, "-s", same, jar}, 0, "Dry run only: nothing submitted.",
			append(append([]string{"GET /overview", "POST /jars/upload"}, plan...), "DELETE /jars/77aa_job.jar")},
		{"refused: state dropped", []string{"submit", "--wait", "0", "-m", url, "-s", gone, jar}, ExitSubmitDropsState, "DROPPED (1",
			append(append([]string{"GET /overview", "POST /jars/upload"}, plan...), "DELETE /jars/77aa_job.jar")},
		{"submitted by the planned jar ID", []string{"submit", "--wait", "0", "-m", url, "-s", same, jar}, 0, "Job has been submitted",
			append(append([]string{"GET /overview", "POST /jars/upload"}, plan...), "POST /jars/77aa_job.jar/run")},
		{"unknown", []string{"inspect", "--no-check", "-m", url, "--against", jar, hidden}, inspector.ExitResumeUnknown, "UNKNOWN (1",
			append(append([]string{"GET /overview", "POST /jars/upload"}, plan...), "DELETE /jars/77aa_job.jar")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCkpt(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", code, tc.code, tc.out, out, errOut)
			}
			if got := f.requests(); !reflect.DeepEqual(got, tc.reqs) {
				t.Errorf("requests %q\nwant %q", got, tc.reqs)
			}
		})
	}
}
