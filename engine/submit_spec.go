package engine

import (
	"context"

	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/spec"
)

// SubmitSpec runs a job spec: its configuration and graph as s.Prepare
// makes them (base < the spec's own < over), then Submit. `ckpt run` and
// the embedded cluster behind `ckpt serve` both start spec jobs here.
func SubmitSpec(ctx context.Context, s *spec.Spec, base, over *config.Config, eo Options) (*Job, error) {
	cfg, g, err := s.Prepare(base, over)
	if err != nil {
		return nil, err
	}
	return Submit(ctx, g, cfg, eo)
}
