package job_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/screens/job"
)

// Finding 10: the snapshots pane's sizes are the snapshot's checkpointed
// and full size from its _metadata — what inspect and browse show — not
// the bytes of its directory.
func TestJobSnapshotSizesFromMetadata(t *testing.T) {
	a := tuitest.OpenJob(t, 160, 48, &tuitest.FakeCluster{}, false, "job", tuitest.FakeJobID)
	tuitest.Press(t, a, "3")
	f := tuitest.FrameText(a)
	if !strings.Contains(f, "CHECKPOINTED") || !strings.Contains(f, "FULL") || strings.Contains(f, " SIZE ") {
		t.Errorf("columns:\n%s", f)
	}
	for _, p := range []string{tuitest.FakeJobDir + "/chk-47", tuitest.FakeSP40} {
		m, err := snapshot.Read(context.Background(), a.Context().FS, p)
		if err != nil {
			t.Fatal(err)
		}
		z := inspector.SizesOf(m)
		var row string
		for _, l := range strings.Split(f, "\n") {
			if strings.Contains(l, p[strings.LastIndex(p, "/")+1:]) {
				row = l
			}
		}
		want := text.Bytes(z.Checkpointed) + " " + strings.Repeat(" ", 10-len([]rune(text.Bytes(z.Full)))) + text.Bytes(z.Full)
		if !strings.Contains(row, want) {
			t.Errorf("%s: row %q, want %q (inspector.SizesOf)", p, row, want)
		}
	}
}

// Finding 10: the size trend measures from zero: a 0.2 KiB wiggle of a
// 20 MiB state is flat, a state that grows from little is a ramp.
func TestSizeSparkFromZero(t *testing.T) {
	const mib = 1 << 20
	flat := job.SparkFromZero([]int64{20 * mib, 20*mib + 200, 20*mib - 100, 20*mib + 50})
	if r := []rune(flat); len(r) != 4 || r[0] != r[1] || r[1] != r[2] || r[2] != r[3] {
		t.Errorf("a 0.2 KiB wiggle draws %q", flat)
	}
	ramp := []rune(job.SparkFromZero([]int64{1 * mib, 10 * mib, 20 * mib}))
	if len(ramp) != 3 || ramp[0] >= ramp[1] || ramp[1] >= ramp[2] {
		t.Errorf("growth draws %q", string(ramp))
	}
	if z := []rune(job.SparkFromZero([]int64{0, 0})); len(z) != 2 || z[0] != z[1] {
		t.Errorf("empty state draws %q", string(z))
	}
}
