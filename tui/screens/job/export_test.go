package job

import (
	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/cluster/history"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
)

// What the external tests (package job_test, which open the screen by
// name through tui's declaration) read of the screen.

// JobID is the job the screen shows.
func JobID(s *Screen) string { return s.jobID }

// CheckpointDir is where the screen looks for the job's chk-N.
func CheckpointDir(s *Screen) string { return s.jobCheckpointDir() }

// SavepointPaths are the savepoints the screen knows of for the job.
func SavepointPaths(s *Screen) map[string]int64 { return s.savepointPaths() }

// Snapshots are the snapshots pane's rows, in order (tests may edit them).
func Snapshots(s *Screen) []routes.SnapRow { return s.snapshots.snaps }

// Exceptions are the job's exceptions as last polled.
func Exceptions(s *Screen) *cluster.Exceptions { return s.exc }

// RefusedOperator is the operator of a refused restore ("" when none).
func RefusedOperator(s *Screen) string {
	if s.refusal == nil {
		return ""
	}
	return s.refusal.operatorID
}

// HistoryRow is a row of the history pane as the tests see it.
type HistoryRow struct {
	ID         int64
	Remembered bool
}

// History is the history pane's rows, newest first.
func History(s *Screen) []HistoryRow {
	var out []HistoryRow
	for _, h := range s.history.hist {
		out = append(out, HistoryRow{ID: h.ID, Remembered: h.remembered})
	}
	return out
}

// FindRestoreRefusal returns the snapshot and operator of a refused
// restore in exc ("" when there is none).
func FindRestoreRefusal(exc *cluster.Exceptions) (snapshot, operatorID string) {
	if r := findRestoreRefusal(exc); r != nil {
		return r.snapshot, r.operatorID
	}
	return "", ""
}

// The history file's reading, appending and compaction.
var (
	ReadHistory      = history.Read
	ReadHistoryLines = history.ReadLines
	AppendHistory    = history.Append
	CompactHistory   = history.Compact
)

// MaxRemembered bounds what is read back of a history file.
const MaxRemembered = history.MaxRemembered

// RefusedSnapshot is the snapshot of a refused restore ("" when none).
func RefusedSnapshot(s *Screen) string {
	if s.refusal == nil {
		return ""
	}
	return s.refusal.snapshot
}

// DefaultSavepointDir is the cluster's savepoint dir as the screen read it.
func DefaultSavepointDir(s *Screen) string { return s.defaultSavepointDir() }

// NormURI spells a snapshot path one way.
var NormURI = normURI

// Stats are the checkpoint statistics as last polled.
func Stats(s *Screen) *cluster.CheckpointStats { return s.stats }

// Polled feeds the screen a poll that brought stats (the job and its
// exceptions as before).
func Polled(s *Screen, stats *cluster.CheckpointStats) {
	s.onPoll(jobPolledMsg{job: s.job, stats: stats, exc: s.exc})
}

// HistoryCursor is the row the history pane's cursor is on.
func HistoryCursor(s *Screen) int { i, _ := s.history.list.Selected(); return i }

// SelectedSnapshot is the snapshots pane's row under the cursor.
func SelectedSnapshot(s *Screen) *routes.SnapRow { return s.snapshots.selectedSnap() }

// SetSnapshots feeds the snapshots pane a listing.
func SetSnapshots(s *Screen, rows []routes.SnapRow) { s.snapshots.setSnaps(rows) }

// SnapshotCursor is the row the snapshots pane's cursor is on.
func SnapshotCursor(s *Screen) int { return s.snapshots.list.Cursor() }

// IsTriggered: m says the cluster accepted an action's trigger.
func IsTriggered(m any) bool { _, ok := m.(opTriggeredMsg); return ok }

// SparkFromZero is the size trend's sparkline.
var SparkFromZero = sparkFromZero
