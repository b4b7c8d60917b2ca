package savepoints_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

// The same savepoint shows the same two sizes (inspector.SizesOf:
// checkpointed and full) on the savepoints, browse and inspect screens,
// not its directory's bytes.
func TestSavepointSameSizesEverywhere(t *testing.T) {
	fsys := tuitest.DemoFS(t)
	const sp = "/demo/savepoints/savepoint-5f2c01-8e0d3b7a4c19"
	m, err := snapshot.Read(t.Context(), fsys, storage.Join(sp, snapshot.MetadataFileName))
	if err != nil {
		t.Fatal(err)
	}
	sz := inspector.SizesOf(m)
	ckpt, full := text.Bytes(sz.Checkpointed), text.Bytes(sz.Full)
	u, err := storage.DiskUsage(t.Context(), fsys, sp)
	if err != nil {
		t.Fatal(err)
	}
	if text.Bytes(u.Bytes) == full {
		t.Fatalf("the fixture cannot tell the directory's bytes (%s) from the full size", full)
	}
	row := regexp.MustCompile(`(?m)^.*savepoint-5f2c01-8e0d3b7a4c19.*$`)
	for _, screen := range []string{"savepoints", "browse"} {
		a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, screen, "/demo/savepoints")
		line := row.FindString(strings.SplitN(tuitest.FrameText(a), "\n", 3)[2])
		if !strings.Contains(line, " "+ckpt+" ") || !strings.Contains(line, " "+full+" ") {
			t.Errorf("%s: row %q lacks checkpointed %s and full %s", screen, line, ckpt, full)
		}
	}
	a := tuitest.Open(t, tuitest.Opts{W: 160, H: 48, FS: fsys}, "inspect", sp)
	if f := tuitest.FrameText(a); !strings.Contains(f, ckpt+" checkpointed · "+full+" full") {
		t.Errorf("inspect: no %s checkpointed · %s full:\n%s", ckpt, full, f)
	}
}
