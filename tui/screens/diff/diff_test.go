package diff_test

import (
	"fmt"
	"testing"

	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens
	"github.com/ckpt-dev/ckpt/tui/internal/demo"
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
)

func TestDiffGolden(t *testing.T) {
	job := "/demo/checkpoints/" + demo.JobID
	for _, sz := range tuitest.Sizes {
		name := fmt.Sprintf("diff-%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, FS: tuitest.DemoFS(t)}, "diff", job+"/chk-17", job+"/chk-18")
			tuitest.Golden(t, a, name)
		})
	}
}
