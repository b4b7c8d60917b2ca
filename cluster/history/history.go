// Package history is ckpt's own checkpoint history of REST targets. Flink
// keeps a job's checkpoint history in JobManager memory only, capped at
// web.checkpoints.history (10), and loses it when the JobManager restarts;
// ckpt appends every finished checkpoint and savepoint it observes (the
// TUI's job screen, `ckpt check`) to
// <state dir>/ckpt/history/<target>/<job id>.jsonl and reads it back for
// the history pane and for trends (state growth per hour). ckpt's engine
// keeps its own catalog, so in-process targets are not recorded.
package history

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ckpt-dev/ckpt/internal/statedir"

	"github.com/ckpt-dev/ckpt/cluster"
)

// MaxRemembered bounds what is read back per job (the newest entries).
const MaxRemembered = 1000

// historyRecord is one line of a history file.
type historyRecord struct {
	ID           int64  `json:"id"`
	Status       string `json:"status"`
	Savepoint    bool   `json:"savepoint,omitempty"`
	Format       string `json:"format,omitempty"`
	Type         string `json:"type,omitempty"`
	Trigger      int64  `json:"trigger_ms"`
	LatestAck    int64  `json:"latest_ack_ms,omitempty"`
	Checkpointed int64  `json:"checkpointed_size"`
	StateSize    int64  `json:"state_size"`
	EndToEndMS   int64  `json:"end_to_end_ms"`
	Subtasks     int    `json:"num_subtasks"`
	Acked        int    `json:"num_acked"`
	Path         string `json:"external_path,omitempty"`
	Failure      string `json:"failure_message,omitempty"`
	FailureTime  int64  `json:"failure_ms,omitempty"`
}

func toRecord(c cluster.Checkpoint) historyRecord {
	ms := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.UnixMilli()
	}
	return historyRecord{ID: c.ID, Status: string(c.Status), Savepoint: c.Savepoint, Format: c.SavepointFormat, Type: c.Type,
		Trigger: ms(c.TriggerTime), LatestAck: ms(c.LatestAck), Checkpointed: c.CheckpointedSize, StateSize: c.StateSize,
		EndToEndMS: c.EndToEnd.Milliseconds(), Subtasks: c.NumSubtasks, Acked: c.NumAcked, Path: c.ExternalPath,
		Failure: c.FailureMessage, FailureTime: ms(c.FailureTime)}
}

func (r historyRecord) checkpoint() cluster.Checkpoint {
	t := func(ms int64) time.Time {
		if ms == 0 {
			return time.Time{}
		}
		return time.UnixMilli(ms)
	}
	return cluster.Checkpoint{ID: r.ID, Status: cluster.CheckpointStatus(r.Status), Savepoint: r.Savepoint, SavepointFormat: r.Format,
		Type: r.Type, TriggerTime: t(r.Trigger), LatestAck: t(r.LatestAck), CheckpointedSize: r.Checkpointed, StateSize: r.StateSize,
		EndToEnd: time.Duration(r.EndToEndMS) * time.Millisecond, NumSubtasks: r.Subtasks, NumAcked: r.Acked, ExternalPath: r.Path,
		FailureMessage: r.Failure, FailureTime: t(r.FailureTime)}
}

// File is the job's history file under dir for the target.
func File(dir, target, jobID string) string {
	return filepath.Join(dir, statedir.SafeName(target), jobID+".jsonl")
}

// Read reads a history file, newest entries kept; a missing file is
// an empty history, a malformed line an error naming file and line.
func Read(path string) ([]cluster.Checkpoint, error) {
	cs, _, err := ReadLines(path)
	return cs, err
}

// ReadLines is Read with the number of lines read.
func ReadLines(path string) ([]cluster.Checkpoint, int, error) {
	recs, n, err := statedir.ReadJSONL[historyRecord](path)
	if err != nil || len(recs) == 0 {
		return nil, n, err
	}
	byID := map[int64]cluster.Checkpoint{}
	for _, r := range recs {
		byID[r.ID] = r.checkpoint() // a later line wins
	}
	out := make([]cluster.Checkpoint, 0, len(byID))
	for _, c := range byID {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if len(out) > MaxRemembered {
		out = out[:MaxRemembered]
	}
	return out, n, nil
}

// Compact rewrites the file with just cs (oldest first), through a
// temporary file renamed over it, so a crash leaves the old file whole.
func Compact(path string, cs []cluster.Checkpoint) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	sorted := append([]cluster.Checkpoint(nil), cs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	if err := Append(tmp, sorted); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Append appends records to the history file (creating it).
func Append(path string, cs []cluster.Checkpoint) error {
	recs := make([]historyRecord, len(cs))
	for i, c := range cs {
		recs[i] = toRecord(c)
	}
	return statedir.AppendJSONL(path, recs...)
}

// DefaultDir is where the history is kept: "history" in ckpt's state
// directory (statedir: $CKPT_STATE_DIR, else $XDG_STATE_HOME/ckpt, else
// ~/.local/state/ckpt); "" when none is known (nothing is remembered).
func DefaultDir(getenv func(string) string) string {
	p, err := statedir.Path(getenv, "history")
	if err != nil {
		return ""
	}
	return p
}

// Target is the name a REST target's histories are filed under (its URL
// without http://), "" for a target with no URL (the embedded engine).
func Target(c cluster.Cluster) string {
	u, ok := c.(interface{ URL() string })
	if !ok {
		return ""
	}
	return strings.TrimPrefix(u.URL(), "http://")
}
