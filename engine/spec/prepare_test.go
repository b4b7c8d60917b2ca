package spec

import (
	"testing"

	"github.com/ckpt-dev/ckpt/engine/config"
)

// Prepare layers the cluster's configuration under the spec's and a
// submission's over both, and finalizes the graph with the result.
func TestPrepareLayers(t *testing.T) {
	const withP = "name: j\nparallelism: 2\npipeline:\n  - op: generator\n  - op: keyBy\n  - op: count\n    uid: counter\n  - op: discard\n"
	const noP = "name: j\npipeline:\n  - op: generator\n  - op: keyBy\n  - op: count\n    uid: counter\n  - op: discard\n"
	conf := func(kv ...string) *config.Config {
		c := config.New()
		for i := 0; i < len(kv); i += 2 {
			if err := c.Set(kv[i], kv[i+1], "test"); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	tests := []struct {
		name       string
		spec       string
		base, over *config.Config
		wantP      int
		wantMaxP   int
	}{
		{"spec alone", withP, nil, nil, 2, 128},
		{"the cluster's default under the spec", withP, conf(config.Parallelism, "5"), nil, 2, 128},
		{"the cluster's default when the spec sets none", noP, conf(config.Parallelism, "5"), nil, 5, 128},
		{"the submission over the spec", withP, conf(config.Parallelism, "5"), conf(config.Parallelism, "3"), 3, 128},
		{"max parallelism from the cluster", withP, conf(config.MaxParallelism, "64"), nil, 2, 64},
		{"max parallelism from the submission", withP, conf(config.MaxParallelism, "64"), conf(config.MaxParallelism, "32"), 2, 32},
	}
	for _, tt := range tests {
		s, err := Parse("job.yaml", []byte(tt.spec))
		if err != nil {
			t.Fatal(err)
		}
		_, g, err := s.Prepare(tt.base, tt.over)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, v := range g.Vertices {
			if v.Parallelism != tt.wantP || v.MaxParallelism != tt.wantMaxP {
				t.Errorf("%s: %s has parallelism %d, max %d; want %d, %d", tt.name, v.Name, v.Parallelism, v.MaxParallelism, tt.wantP, tt.wantMaxP)
			}
		}
	}
	// A max parallelism below the parallelism the layers give is refused.
	s, _ := Parse("job.yaml", []byte(withP))
	if _, _, err := s.Prepare(conf(config.MaxParallelism, "1"), nil); err == nil {
		t.Error("max parallelism 1 under parallelism 2 accepted")
	}
}
