package tui

import (
	"github.com/ckpt-dev/ckpt/tui/internal/screenlist"
	"github.com/ckpt-dev/ckpt/tui/screens/browse"
	"github.com/ckpt-dev/ckpt/tui/screens/checkpoint"
	"github.com/ckpt-dev/ckpt/tui/screens/contexts"
	"github.com/ckpt-dev/ckpt/tui/screens/diff"
	"github.com/ckpt-dev/ckpt/tui/screens/inspect"
	"github.com/ckpt-dev/ckpt/tui/screens/job"
	"github.com/ckpt-dev/ckpt/tui/screens/jobs"
	"github.com/ckpt-dev/ckpt/tui/screens/leaks"
	"github.com/ckpt-dev/ckpt/tui/screens/resume"
	"github.com/ckpt-dev/ckpt/tui/screens/savepoints"
	"github.com/ckpt-dev/ckpt/tui/screens/state"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// declaredScreens is every screen, in the order the README lists them.
var declaredScreens = shell.Registry{
	{Name: "jobs", Usage: "jobs", Help: "the target's jobs (embedded engine or REST)",
		Keys: jobs.Keymap, Open: jobs.Open},
	{Name: "launch", Help: "launch a job from a job spec (n on the jobs screen; the resume screen's spec picker too)",
		Open: jobs.OpenLaunch, Mutating: true},
	{Name: "ctx", Usage: "ctx", Help: "contexts: the config's named targets (and this process's engine); enter operates one",
		Keys: contexts.Keymap, Open: contexts.Open},
	{Name: "job", Usage: "job JOBID", Help: "one job (its ID, or the 8 hex digits the jobs list shows): vertices, live checkpoints, snapshots, actions",
		Keys: job.Keymap, Open: job.Open},
	{Name: "checkpoint", Help: "one checkpoint of a job, vertex by vertex (enter on a checkpoint of the job screen)",
		Keys: checkpoint.Keymap, Open: checkpoint.Open},
	{Name: "resume", Paths: true, Usage: "resume SNAPSHOT [SPEC]", Help: "submit a job resuming from a snapshot, after a dry run",
		Keys: resume.Keymap, Open: resume.Open, Mutating: true},
	{Name: "browse", Paths: true, Usage: "browse URI", Help: "browse local or hdfs:// snapshot storage",
		Keys: browse.Keymap, Open: browse.Open},
	{Name: "inspect", Paths: true, Usage: "inspect PATH", Help: "show a checkpoint or savepoint _metadata",
		Keys: inspect.Keymap, Open: inspect.Open},
	{Name: "operator", Help: "one operator of an inspected snapshot, subtask by subtask (enter on an operator of the inspector)",
		Keys: inspect.OperatorKeymap},
	{Name: "state", Paths: true, Usage: "state PATH [UID|ID]", Help: "what an operator's state holds (s on an operator of the inspector; without UID|ID every operator): keyed and operator states with kind, key/namespace/value types, TTL, entry counts",
		Keys: state.Keymap, Open: state.Open},
	{Name: "state-entries", Help: "one state's entries, a page at a time (enter on a state): / filters as they stream by, f looks a key up reading only its key group, y copies the value",
		Keys: state.EntriesKeymap},
	{Name: "diff", Paths: true, Usage: "diff A B", Help: "compare the operators of two snapshots", Open: diff.Open},
	{Name: "savepoints", Paths: true, Usage: "savepoints URI", Help: "savepoints under a directory tree (without URI: the target's savepoint dir): owner, age, size, format; retention preview; dispose",
		Keys: savepoints.Keymap, Open: savepoints.Open},
	{Name: "leaks", Paths: true, Usage: "leaks JOBDIR", Help: "what a job dir holds that no retained checkpoint needs: orphaned shared files, stale chk-N, restored-from folders; X plans a gc (ckpt gc's plan and guards), deleted once confirmed",
		Keys: leaks.Keymap, Open: leaks.Open},
}

func init() { screenlist.Declared = declaredScreens }
