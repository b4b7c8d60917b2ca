package shell

import (
	"context"
	"fmt"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/themes"
)

// Context is what every screen shares: the terminal size, theme, keymaps,
// storage, mode and running tasks. Screens keep a pointer, so a theme change
// or resize is seen by all of them at once.
type Context struct {
	Width, Height int
	// Screens are the declared screens, opened by name.
	Screens  Registry
	Theme    *themes.Theme
	Global   *GlobalKeys
	Config   Config
	Readonly bool
	// FS reaches local paths and hdfs:// URIs.
	FS storage.FS
	// Timeout bounds each storage call a screen starts (a stalled NameNode
	// turns into an error after it).
	Timeout time.Duration
	// Now is the clock (fixed in golden tests).
	Now   func() time.Time
	Tasks *Tasks
	// Marked is a snapshot marked for diff ("m" in the browser).
	Marked string
	// Frame advances while tasks run; spinners draw from it.
	Frame int
	// SpecTarget turns a job spec file into the operators of the job it
	// builds (for the resume dry-run). The CLI passes its own glue
	// (cli/jobspec_target.go), so spec → operators lives in one place; nil
	// means job specs cannot be used as dry-run targets.
	SpecTarget func(path string) (inspector.Target, error)

	// Cluster is the target the job screens operate: the embedded engine
	// in this process or a REST endpoint (Flink, `ckpt serve`). nil: no
	// job screens.
	Cluster cluster.Cluster
	// InProcess says the Cluster runs in this process (the embedded
	// engine): its jobs end when the UI exits, so quitting asks first.
	InProcess bool
	// TargetName is what the header shows for it ("embedded", a URL,
	// "prod (https://…)" for a context).
	TargetName string
	// Home is the embedded engine of this process (nil when the TUI
	// started on a REST target): its jobs end when the UI exits, whichever
	// target the screens show then, so quitting asks about them.
	Home cluster.Cluster
	// Targets lists and reaches contexts (:ctx); nil offers none.
	Targets *Targets
	// HistoryDir is where job screens remember the checkpoint history of
	// REST targets (tui/screens/job/history.go); "" remembers nothing.
	HistoryDir string
	// PollInterval is how often job screens poll the target (default 1 s).
	PollInterval time.Duration
	// SpecDirs hold the job specs the launcher offers (e.g. jobs/).
	SpecDirs []string
	// SubmitConfig is configuration (Flink keys) added to every job the
	// TUI launches, e.g. the demo's checkpoint and savepoint dirs.
	SubmitConfig map[string]string
	// ManualPoll stops job screens from scheduling polls (golden tests
	// trigger them by hand).
	ManualPoll bool
	// JobOutput is where jobs running in this process print (their stdout
	// sinks and logs), "" when they print to the terminal's stdout.
	JobOutput string
	// session remembers what this TUI did: the spec each launched job came
	// from, and the savepoints it took, so resume can offer them.
	session session
}

// session is what the TUI did in this process.
type session struct {
	specs      map[string]string // job ID → spec path it was launched from
	savepoints []SessionSavepoint
	claims     map[string]string // job ID → the claim mode it was resumed with
}

// SessionSavepoint is a savepoint this TUI took.
type SessionSavepoint struct {
	JobID, Path string
	At          time.Time
}

// LaunchedFrom records that jobID was launched from spec.
func (c *Context) LaunchedFrom(jobID, spec string) {
	if c.session.specs == nil {
		c.session.specs = map[string]string{}
	}
	c.session.specs[jobID] = spec
}

// SpecOf is the spec jobID was launched from in this session ("" unknown).
func (c *Context) SpecOf(jobID string) string { return c.session.specs[jobID] }

// TookSavepoint records a savepoint this TUI took, for resume to offer.
func (c *Context) TookSavepoint(jobID, path string) {
	c.session.savepoints = append(c.session.savepoints, SessionSavepoint{JobID: jobID, Path: path, At: c.Now()})
}

// Savepoints are the savepoints this TUI took, oldest first.
func (c *Context) Savepoints() []SessionSavepoint { return c.session.savepoints }

// ResumedWith records the claim mode jobID was resumed with.
func (c *Context) ResumedWith(jobID, claim string) {
	if c.session.claims == nil {
		c.session.claims = map[string]string{}
	}
	c.session.claims[jobID] = claim
}

// ClaimOf is the claim mode jobID was resumed with in this session ("").
func (c *Context) ClaimOf(jobID string) string { return c.session.claims[jobID] }

// PollEvery is the job screens' polling interval.
func (c *Context) PollEvery() time.Duration {
	if c.PollInterval > 0 {
		return c.PollInterval
	}
	return time.Second
}

// ApplyKeys rebinds a screen's keymap from the config and the readonly mode.
// Screens call it once when they build their keymap.
func (c *Context) ApplyKeys(k Keymap) Keymap {
	k.Apply(c.Config.Keys, c.Readonly)
	return k
}

// spinnerFrames are drawn while something loads.
var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Spinner is the current spinner glyph.
func (c *Context) Spinner() string { return spinnerFrames[c.Frame%len(spinnerFrames)] }

// TaskID names a running task.
type TaskID int

// Task is slow work started by a screen (a listing, a du, a decode). The
// status bar shows the oldest running task with its elapsed time, and the
// last failure in place until something new succeeds.
type Task struct {
	ID      TaskID
	Label   string
	Started time.Time
	// Quiet tasks (routine polls) stay out of the status bar unless they
	// take longer than quietAfter: a slow target still shows a spinner.
	Quiet  bool
	cancel context.CancelFunc
	// origin is the label it started with (progress relabels it).
	origin string
}

// quietAfter is when a quiet task starts showing in the status bar.
const quietAfter = 2 * time.Second

// Tasks tracks running work. It only records state; it never does I/O.
type Tasks struct {
	now     func() time.Time
	next    TaskID
	running []*Task
	// LastErr is the most recent failure, shown until cleared (esc) or
	// until the same work succeeds again.
	LastErr error
	// lastErrFrom is the label of the task that failed with LastErr.
	lastErrFrom string
	// LastDone is when a task last finished (for "data age").
	LastDone time.Time
}

// NewTasks returns an empty task list with the given clock.
func NewTasks(now func() time.Time) *Tasks { return &Tasks{now: now} }

// Start records a task and returns its id and a context the work must use:
// it carries timeout (if > 0) and is cancelled by Cancel.
func (t *Tasks) Start(label string, timeout time.Duration) (TaskID, context.Context) {
	t.next++
	var ctx context.Context
	var cancel context.CancelFunc
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	} else {
		ctx, cancel = context.WithCancel(context.Background())
	}
	t.running = append(t.running, &Task{ID: t.next, Label: label, origin: label, Started: t.now(), cancel: cancel})
	return t.next, ctx
}

// StartQuiet is Start for routine work (polling) that the status bar shows
// only when it is slow.
func (t *Tasks) StartQuiet(label string, timeout time.Duration) (TaskID, context.Context) {
	id, ctx := t.Start(label, timeout)
	t.running[len(t.running)-1].Quiet = true
	return id, ctx
}

// Relabel changes a running task's label (progress: "12,000 entries").
func (t *Tasks) Relabel(id TaskID, label string) {
	for _, k := range t.running {
		if k.ID == id {
			k.Label = label
		}
	}
}

// Done ends a task; a non-nil err becomes LastErr. Success of the same
// work (a task with the label of the one that failed: the listing of the
// same directory, the poll of the same target) clears it, so an error
// never outlives what it reports — a NameNode that is back, a target that
// answers again.
func (t *Tasks) Done(id TaskID, err error) {
	label := ""
	for i, k := range t.running {
		if k.ID == id {
			label = k.origin
			k.cancel()
			t.running = append(t.running[:i], t.running[i+1:]...)
			break
		}
	}
	t.LastDone = t.now()
	switch {
	case err != nil:
		t.LastErr, t.lastErrFrom = err, label
	case label != "" && label == t.lastErrFrom:
		t.LastErr, t.lastErrFrom = nil, ""
	}
}

// Cancel stops tasks (when their screen closes); they leave no error.
func (t *Tasks) Cancel(ids ...TaskID) {
	for _, id := range ids {
		for i, k := range t.running {
			if k.ID == id {
				k.cancel()
				t.running = append(t.running[:i], t.running[i+1:]...)
				break
			}
		}
	}
}

// Running lists running tasks, oldest first.
func (t *Tasks) Running() []*Task { return t.running }

// Busy reports whether anything the status bar shows is running.
func (t *Tasks) Busy() bool { return len(t.visible()) > 0 }

// visible are the running tasks the status bar shows: every task but
// quiet ones younger than quietAfter.
func (t *Tasks) visible() []*Task {
	var out []*Task
	now := t.now()
	for _, k := range t.running {
		if !k.Quiet || now.Sub(k.Started) >= quietAfter {
			out = append(out, k)
		}
	}
	return out
}

// Describe is the status-bar text for the running tasks.
func (t *Tasks) Describe() string {
	v := t.visible()
	if len(v) == 0 {
		return ""
	}
	k := v[0]
	s := fmt.Sprintf("%s (%.1fs)", k.Label, t.now().Sub(k.Started).Seconds())
	if n := len(v) - 1; n > 0 {
		s += fmt.Sprintf(" +%d more", n)
	}
	return s
}
