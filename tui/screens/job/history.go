package job

import (
	"github.com/ckpt-dev/ckpt/cluster"
)

// ---- the job screen's side ----

// histEntry is a row of the history pane.
type histEntry struct {
	cluster.Checkpoint
	remembered bool // only in ckpt's history: the target no longer reports it
}

type historyLoadedMsg struct {
	sid  int
	recs []cluster.Checkpoint
	err  error
}

type historySavedMsg struct {
	sid int
	err error
}
