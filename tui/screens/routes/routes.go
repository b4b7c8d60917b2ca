// Package routes holds what screens hand each other when one opens
// another by name (shell.OpenScreenWith): the only types two screens
// share. Screens never import each other; they all import this.
package routes

import (
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/tui/components/format"
)

// What screens hand each other when one opens another by name
// (OpenScreenWith): the only types two screens share.

// ResumeFrom opens the resume screen from a job: the job it replaces, the
// snapshots it offers and the ones picked.
type ResumeFrom struct {
	// JobID is the job the resume replaces; Running says it still runs,
	// so its chk-N dirs come and go.
	JobID   string
	Running bool
	// Choices are the job's complete snapshots, newest first.
	Choices []SnapRow
	// Snapshot and Spec are preselected; Note says why this snapshot.
	Snapshot, Spec, Note string
	// Program is the spec the target says the job was started from, when
	// this session did not launch it.
	Program *cluster.Program
}

// PickSpec opens the launcher as a spec picker: the chosen path goes back
// as the message Reply makes, and nothing is launched.
type PickSpec struct {
	Reply func(path string) tea.Msg
}

// SnapRow is a retained checkpoint or a savepoint on storage.
type SnapRow struct {
	Savepoint bool
	ID        int64 // checkpoint id (chk-N; savepoints: from REST when known)
	Path      string
	Complete  format.Tri // _metadata present
	Size      int64      // full state size from its _metadata (inspector.SizesOf); -1 unknown
	ModTime   time.Time
	Rest      string // what the target says about it: retained, latest, discarded, restored from
	Err       string
}

// StateOf opens the state screen on an operator of a snapshot the
// inspector has decoded already (its _metadata is not read again).
type StateOf struct {
	// Metadata has Location and ExclusiveDir set: relative state handles
	// resolve against them.
	Metadata *snapshot.Metadata
	// Operator is the operator's ID or uid; "" lists every operator.
	Operator string
}
