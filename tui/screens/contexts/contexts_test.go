package contexts_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ckpt-dev/ckpt/cluster"
	_ "github.com/ckpt-dev/ckpt/tui" // the declared screens
	"github.com/ckpt-dev/ckpt/tui/internal/tuitest"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// fakeTargets offers the embedded engine and two contexts; connecting to
// "broken" fails as a bad certificate would.
type fakeTargets struct {
	mu        sync.Mutex
	connected []string
}

func (f *fakeTargets) targets(prod cluster.Cluster) *shell.Targets {
	return &shell.Targets{
		List: func() ([]shell.TargetEntry, error) {
			return []shell.TargetEntry{
				{Name: "embedded", Current: true},
				{Name: "prod", Endpoint: "https://flink.prod.example.org:8443", Security: "ca, client cert · basic ops (password from ~/.ckpt/pw)", Storage: "s3://prod-state/checkpoints"},
				{Name: "broken", Endpoint: "https://old.example.org:8443", Security: "system roots"},
			}, nil
		},
		Connect: func(name string) (cluster.Cluster, string, bool, error) {
			f.mu.Lock()
			f.connected = append(f.connected, name)
			f.mu.Unlock()
			if name == "broken" {
				return nil, "", false, errors.New("TLS: old.example.org:8443 presented a certificate signed by an unknown authority")
			}
			return prod, name + " (flink.prod.example.org:8443)", false, nil
		},
		Checkpoints: func(name string) string {
			if name == "prod" {
				return "s3://prod-state/checkpoints"
			}
			return ""
		},
	}
}

func TestContextsGolden(t *testing.T) {
	for _, sz := range tuitest.Sizes {
		name := fmt.Sprintf("ctx-%dx%d", sz.W, sz.H)
		t.Run(name, func(t *testing.T) {
			f := &fakeTargets{}
			a := tuitest.Open(t, tuitest.Opts{W: sz.W, H: sz.H, Targets: f.targets(&tuitest.FakeCluster{})}, "ctx")
			tuitest.Golden(t, a, name)
		})
	}
}

// enter on a context switches the job screens to it: the stack closes,
// the jobs screen opens on the new target, and the header names it.
func TestContextSwitch(t *testing.T) {
	f := &fakeTargets{}
	prod := &tuitest.FakeCluster{}
	a := tuitest.Open(t, tuitest.Opts{W: 120, H: 30, Targets: f.targets(prod), Cluster: &tuitest.FakeCluster{Version: "ckpt-dev"}, Target: "embedded engine"}, "ctx")
	tuitest.Press(t, a, "j", "j", "enter") // broken
	frame := tuitest.FrameText(a)
	if !strings.Contains(frame, "unknown authority") || !strings.Contains(frame, "contexts") {
		t.Fatalf("a failed connection stays on the screen with its error:\n%s", frame)
	}
	tuitest.Press(t, a, "k", "enter") // prod
	frame = tuitest.FrameText(a)
	if !strings.Contains(frame, "prod (flink.prod.example.org:8443)") || !strings.Contains(frame, tuitest.FakeJobID[:8]) {
		t.Fatalf("after switching, the jobs screen of prod with its name in the header:\n%s", frame)
	}
	if got := strings.Join(f.connected, ","); got != "broken,prod" {
		t.Errorf("connected %s", got)
	}
}
