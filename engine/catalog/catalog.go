// Package catalog remembers jobs and their snapshots across ckpt restarts:
// a small Pebble database of job records (id, name, spec, status, times,
// checkpoint directory, the snapshot it was restored from, the savepoints
// and the latest checkpoint it produced). The engine updates a job's
// record as it runs when Options.Catalog is set.
package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ckpt-dev/ckpt/internal/statedir"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Job is one remembered job.
type Job struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Spec   string            `json:"spec,omitempty"`   // the job spec's text, when it came from one
	Config map[string]string `json:"config,omitempty"` // explicitly set configuration
	Status string            `json:"status"`
	Start  time.Time         `json:"start"`
	End    time.Time         `json:"end,omitempty"`
	// CheckpointDir is <checkpoints-dir>/<job-id> ("" without checkpoints).
	CheckpointDir string `json:"checkpointDir,omitempty"`
	// RestoredFrom is the snapshot the job started from.
	RestoredFrom string `json:"restoredFrom,omitempty"`
	// LatestCheckpoint is the newest completed checkpoint's directory.
	LatestCheckpoint   string `json:"latestCheckpoint,omitempty"`
	LatestCheckpointID int64  `json:"latestCheckpointId,omitempty"`
	// LatestCheckpointDiscarded: the job deleted its latest checkpoint
	// since (it ended FINISHED, or cancelled/failed under a retention
	// policy that does not keep it): the path is gone.
	LatestCheckpointDiscarded bool     `json:"latestCheckpointDiscarded,omitempty"`
	Savepoints                []string `json:"savepoints,omitempty"`
	Failure                   string   `json:"failure,omitempty"`
}

// Catalog is an open catalog database; safe for concurrent use.
type Catalog struct {
	mu sync.Mutex
	db *pebble.DB
}

// DefaultDir is "catalog" in ckpt's state directory (statedir: $CKPT_STATE_DIR,
// else $XDG_STATE_HOME/ckpt, else ~/.local/state/ckpt).
func DefaultDir() (string, error) {
	p, err := statedir.Path(nil, "catalog")
	if err != nil {
		return "", fmt.Errorf("catalog: %w", err)
	}
	return p, nil
}

type quiet struct{}

func (quiet) Infof(string, ...interface{})  {}
func (quiet) Errorf(string, ...interface{}) {}
func (quiet) Fatalf(f string, a ...interface{}) {
	panic(fmt.Sprintf(f, a...))
}

// Open opens (creating) the catalog in dir. Unlike keyed state, the catalog
// keeps its write-ahead log: it is the only copy of what it holds.
func Open(dir string) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	db, err := pebble.Open(dir, &pebble.Options{Logger: quiet{}})
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", dir, err)
	}
	return &Catalog{db: db}, nil
}

// Close closes the catalog.
func (c *Catalog) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return nil
	}
	err := c.db.Close()
	c.db = nil
	return err
}

func key(id string) []byte { return append([]byte("job/"), id...) }

// Put stores a job record (replacing the one with the same ID).
func (c *Catalog) Put(j Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return errors.New("catalog is closed")
	}
	return c.db.Set(key(j.ID), b, pebble.Sync)
}

// Update applies fn to the record of id (a fresh one if there is none) and
// stores it.
func (c *Catalog) Update(id string, fn func(*Job)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return errors.New("catalog is closed")
	}
	j := Job{ID: id}
	if v, closer, err := c.db.Get(key(id)); err == nil {
		err = json.Unmarshal(v, &j)
		closer.Close()
		if err != nil {
			return fmt.Errorf("catalog: record of job %s is corrupt: %w", id, err)
		}
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	fn(&j)
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return c.db.Set(key(id), b, pebble.Sync)
}

// Get returns the record of id.
func (c *Catalog) Get(id string) (Job, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return Job{}, false, errors.New("catalog is closed")
	}
	v, closer, err := c.db.Get(key(id))
	if errors.Is(err, pebble.ErrNotFound) {
		return Job{}, false, nil
	}
	if err != nil {
		return Job{}, false, err
	}
	defer closer.Close()
	var j Job
	if err := json.Unmarshal(v, &j); err != nil {
		return Job{}, false, fmt.Errorf("catalog: record of job %s is corrupt: %w", id, err)
	}
	return j, true, nil
}

// List returns every job, newest start first.
func (c *Catalog) List() ([]Job, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return nil, errors.New("catalog is closed")
	}
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: []byte("job/"), UpperBound: []byte("job0")})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Job
	for it.First(); it.Valid(); it.Next() {
		var j Job
		v, err := it.ValueAndErr()
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(v, &j); err != nil {
			return nil, fmt.Errorf("catalog: record %s is corrupt: %w", it.Key(), err)
		}
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start.After(out[b].Start) })
	return out, it.Error()
}
