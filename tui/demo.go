package tui

import (
	"time"

	"github.com/ckpt-dev/ckpt/tui/internal/demo"
)

// DemoJobID is the job id of the demo tree's job directory.
const DemoJobID = demo.JobID

// DemoTree is the demo snapshot tree, read from the Flink fixtures.
type DemoTree = demo.Tree

// BuildDemoTree lays out the demo tree under dir (see demo.Build).
func BuildDemoTree(dir, fixtures string, now time.Time) error { return demo.Build(dir, fixtures, now) }

// LoadDemoTree reads the demo tree's files from the fixtures.
func LoadDemoTree(fixtures string) (*DemoTree, error) { return demo.Load(fixtures) }
