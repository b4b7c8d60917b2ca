package spec

import (
	"github.com/ckpt-dev/ckpt/engine/config"
	"github.com/ckpt-dev/ckpt/engine/graph"
)

// Prepare is the one way a spec becomes a runnable job: its configuration
// layered as base (a cluster's own configuration; nil for none) < the
// spec's (its config: and parallelism:) < over (a submission's -D, -p,
// --config or flinkConfiguration), and its job graph finalized with that
// configuration. `ckpt run`, a submission to ckpt serve and the resume dry
// run all prepare a spec here, so the dry run checks the graph the job
// will have. An error names the spec's file and step, or the key.
func (s *Spec) Prepare(base, over *config.Config) (*config.Config, *graph.Graph, error) {
	specCfg, err := s.Configure(over)
	if err != nil {
		return nil, nil, err
	}
	cfg := specCfg
	if base != nil {
		cfg = base.Clone()
		for k, v := range specCfg.Map() {
			if err := cfg.Set(k, v, specCfg.Origin(k)); err != nil {
				return nil, nil, err
			}
		}
	}
	g, _, err := s.Build(cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, g, nil
}
