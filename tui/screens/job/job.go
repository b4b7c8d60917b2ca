// Package job is one job as an operator watches it on upgrade day: its
// vertices, the live checkpoint, the checkpoint history, the snapshots on
// storage, the configuration, and the actions (checkpoint, savepoint, stop
// or cancel with a savepoint, cancel, resume after a dry run).
package job

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/poll"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Open takes one job ID (32 hex digits), or the first of its digits (the
// 8 the jobs list shows), resolved when the screen starts.
func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	if len(args) != 1 || !isJobIDPrefix(args[0]) {
		return nil, fmt.Errorf("job takes one job ID (32 hex digits, or the first 8 the jobs list shows)")
	}
	if ctx.Cluster == nil {
		return nil, fmt.Errorf("no target: start ckpt with the embedded engine (default) or -m host:port")
	}
	id := strings.ToLower(args[0])
	if cluster.IsJobID(id) {
		return newJob(ctx, id), nil
	}
	s := newJob(ctx, "")
	s.resolver.prefix = id
	return s, nil
}

// The job screen's panes.
const (
	paneOverview = iota
	paneHistory
	paneSnapshots
	paneConfig
	numPanes
)

var paneNames = [numPanes]string{"overview", "checkpoints", "snapshots", "config"}

// Screen is one job as an operator watches it on upgrade day: its vertices,
// the live checkpoint (who has not acknowledged, age against the timeout),
// the history with drill-down to subtasks, the retained chk-N directories
// and savepoints on storage, and the actions — checkpoint, savepoint, stop
// with savepoint, cancel, resume after a dry run.
type Screen struct {
	*jobModel
	keys jobKeys
	pane int

	// The panes, each its own type over the shared model: what the last
	// poll brought is read by all of them, their rows and cursors are
	// their own.
	overview  *overviewPane
	history   *historyPane
	snapshots *snapshotsPane
	config    *configPane
	// actions are the forms, confirmations and running operations.
	actions *jobActions
	// panes are the four in tab order.
	panes [numPanes]jobPane
	// resolver finds the job when the screen was opened on a prefix.
	resolver *resolver
}

// jobPane is one pane of the job screen: its rows, its list (cursor and
// scrolling), and its height given the body's.
type jobPane interface {
	rows() []string
	listModel() *list.Model
	resize(body int)
	// open is enter on the pane's selected row.
	open() tea.Cmd
}

// jobModel is what the job screen knows of the job: its identity, the
// size the panes draw at, and what the last poll brought. Every pane reads
// it; only the job screen writes it (onPoll).
type jobModel struct {
	ctx   *shell.Context
	id    int
	jobID string
	w, h  int

	job      *cluster.Job
	stats    *cluster.CheckpointStats
	cfg      *cluster.CheckpointConfig
	cfgOff   bool              // checkpointing is off (config 404)
	conf     map[string]string // the cluster's configuration (read once)
	exc      *cluster.Exceptions
	refusal  *restoreRefusal                      // a restore the job failed: no operator for some state
	withOps  bool                                 // the target reports the vertices' operators (ckpt_operators)
	inflight *cluster.Checkpoint                  // the newest in-progress checkpoint, per vertex
	pending  map[string]*cluster.VertexCheckpoint // its unfinished vertices, subtask by subtask
	// backpressure is the target's per-vertex backpressure (REST).
	backpressure map[string]*cluster.Backpressure
	bpAt         time.Time // when backpressure was last asked for
	poll.Poller
}

type jobKeys struct {
	Pane1, Pane2, Pane3, Pane4, Open, Checkpoint, Full, Savepoint, Stop, CancelSavepoint, Cancel, Resume, Latest, Abandon, Browse, Upgrade *shell.Action
}

func (k jobKeys) keymap() shell.Keymap {
	return shell.Keymap{k.Open, k.Pane1, k.Pane2, k.Pane3, k.Pane4, k.Checkpoint, k.Full, k.Savepoint, k.Stop, k.CancelSavepoint, k.Cancel, k.Resume, k.Latest, k.Upgrade, k.Abandon, k.Browse}
}

// Keymap is the job screen's actions, as the configuration rebinds them.
func Keymap(ctx *shell.Context) shell.Keymap { return newJobKeys(ctx).keymap() }

func newJobKeys(ctx *shell.Context) jobKeys {
	k := jobKeys{
		Pane1:           shell.NewAction("job.overview", "1", "overview", "1"),
		Pane2:           shell.NewAction("job.checkpoints", "2", "checkpoint history", "2"),
		Pane3:           shell.NewAction("job.snapshots", "3", "snapshots on storage", "3"),
		Pane4:           shell.NewAction("job.config", "4", "config, exceptions", "4"),
		Open:            shell.NewAction("job.open", "enter", "open detail / inspect", "enter", "l", "right"),
		Checkpoint:      shell.NewAction("job.checkpoint", "c", "checkpoint now", "c").Danger(),
		Full:            shell.NewAction("job.full-checkpoint", "C", "full checkpoint now", "C").Danger(),
		Savepoint:       shell.NewAction("job.savepoint", "s", "savepoint", "s").Danger(),
		Stop:            shell.NewAction("job.stop", "S", "stop with savepoint", "S").Danger(),
		CancelSavepoint: shell.NewAction("job.cancel-savepoint", "X", "cancel with savepoint (cancel -s)", "X").Danger(),
		Cancel:          shell.NewAction("job.cancel", "x", "cancel job", "x").Danger(),
		Resume:          shell.NewAction("job.resume", "r", "resume from snapshot", "r").Danger(),
		Latest:          shell.NewAction("job.restart-latest", "L", "restart from latest good snapshot", "L").Danger(),
		Upgrade:         shell.NewAction("job.upgrade", "U", "upgrade to a new program (savepoint, dry run, rollback)", "U").Danger(),
		Abandon:         shell.NewAction("job.abandon", "A", "abandon waiting for a savepoint/checkpoint", "A"),
		Browse:          shell.NewAction("job.browse", "b", "browse checkpoint dir", "b"),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// newJob opens job jobID of ctx.Cluster.
func newJob(ctx *shell.Context, jobID string) *Screen {
	m := &jobModel{ctx: ctx, id: shell.NewScreenID(), jobID: jobID}
	s := &Screen{jobModel: m, keys: newJobKeys(ctx),
		overview:  &overviewPane{jobModel: m, list: list.New()},
		history:   &historyPane{jobModel: m, list: list.New()},
		snapshots: &snapshotsPane{jobModel: m, list: list.New()},
		config:    &configPane{jobModel: m, list: list.New()},
		actions:   &jobActions{jobModel: m},
		resolver:  &resolver{jobModel: m},
	}
	s.panes = [numPanes]jobPane{s.overview, s.history, s.snapshots, s.config}
	return s
}

func (s *Screen) Title() string {
	if s.job != nil && s.job.Name != "" {
		return "job " + s.job.Name
	}
	if s.resolver.pending() {
		return "job " + s.resolver.prefix
	}
	return "job " + format.ShortID(s.jobID)
}

// UsesTarget: the screen talks to ctx.Cluster, so the header names the target.
func (*Screen) UsesTarget() {}

func (s *Screen) Location() string {
	if s.resolver.pending() {
		return s.ctx.TargetName + " › " + s.resolver.prefix + "…"
	}
	return s.ctx.TargetName + " › " + s.jobID
}
func (s *Screen) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.paneList().Keys)...)
}
func (s *Screen) Capturing() bool { return s.actions.capturing() }
func (s *Screen) CopyText() string {
	if s.pane == paneSnapshots {
		if r := s.snapshots.selectedSnap(); r != nil {
			return r.Path
		}
	}
	return s.jobID
}

func (s *Screen) SetSize(w, h int) {
	s.w, s.h = w, h
	body := max(h-headerRows, 1)
	for _, p := range s.panes {
		p.resize(body)
	}
}

// headerRows: the job line and the pane tabs.
const headerRows = 2

func (s *Screen) Close() {
	s.StopPolling(s.ctx)
	s.ctx.Tasks.Cancel(s.snapshots.snapTask)
}

func (s *Screen) Init() tea.Cmd {
	if s.resolver.pending() {
		return s.resolver.resolve()
	}
	return tea.Batch(s.poll(), s.history.loadHistory())
}

func (s *Screen) Refresh() tea.Cmd {
	if s.resolver.pending() {
		s.resolver.err = nil
		return s.resolver.resolve()
	}
	s.Restart(s.ctx)
	return tea.Batch(s.poll(), s.snapshots.listSnapshots())
}

func (s *Screen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case poll.Msg[jobPolledMsg]:
		if !poll.Accept(s.ctx, &s.Poller, s.id, msg) {
			return s, nil
		}
		return s, tea.Batch(s.onPoll(msg.V), poll.Schedule(s.ctx, s.id, s.Gen))
	case poll.TickMsg:
		if msg.Sid == s.id && msg.Gen == s.Gen {
			return s, s.poll()
		}
	case snapsListedMsg:
		if msg.sid == s.id {
			s.snapshots.onListed(msg)
		}
	case shell.TaskDoneMsg:
		if s.actions.finished(msg) {
			// A finished action changes what the target reports: look now.
			s.Restart(s.ctx)
			return s, tea.Batch(s.poll(), s.snapshots.listSnapshots())
		}
	case upgradeEventMsg:
		if msg.sid == s.id {
			return s, s.actions.onUpgradeEvent(msg)
		}
	case opTriggeredMsg:
		if msg.sid == s.id {
			return s, s.actions.onTriggered(msg)
		}
	case historyLoadedMsg:
		if msg.sid == s.id {
			return s, s.history.onLoaded(msg)
		}
	case historySavedMsg:
		if msg.sid == s.id {
			s.history.histErr = msg.err
		}
	case latestPickedMsg:
		if msg.sid == s.id {
			return s, s.snapshots.onLatestPicked(msg, s.pane == paneSnapshots)
		}
	case jobResolvedMsg:
		if msg.sid == s.id {
			if s.resolver.onResolved(msg) {
				return s, s.Init()
			}
		}
	case tea.KeyPressMsg, tea.PasteMsg:
		if s.resolver.pending() {
			return s, nil // no job yet: nothing to act on
		}
		return s, s.key(msg)
	case tea.MouseWheelMsg:
		s.paneList().Update(msg)
	}
	return s, nil
}

func (s *Screen) onPoll(m jobPolledMsg) tea.Cmd {
	s.Err = m.err
	if m.err != nil {
		return nil
	}
	s.Polled = s.ctx.Now()
	s.job, s.stats, s.exc = m.job, m.stats, m.exc
	s.refusal = findRestoreRefusal(m.exc)
	s.withOps = reportsOperators(m.job)
	s.inflight, s.pending = m.inflight, m.pending
	if m.bpAsked {
		s.backpressure, s.bpAt = m.backpressure, s.ctx.Now()
	}
	s.actions.polled(m.job)
	if m.cfg != nil {
		s.cfg = m.cfg
	}
	if m.cfgOff {
		s.cfgOff = true
	}
	if m.conf != nil {
		s.conf = m.conf
	}
	s.overview.addTrend()
	s.overview.list.SetLen(len(s.job.Vertices))
	s.history.setHistory()
	s.config.list.SetLen(len(s.config.configLines()))
	s.SetSize(s.w, s.h)
	// List storage again when a checkpoint completed since the last look.
	latest := int64(-1)
	if c := s.stats.LatestCompleted; c != nil {
		latest = c.ID
	}
	remember := s.history.observeHistory()
	if s.snapshots.snapAt.IsZero() || latest != s.snapshots.snapLatest || s.ctx.Now().Sub(s.snapshots.snapAt) > 10*time.Second {
		s.snapshots.snapLatest = latest
		return tea.Batch(remember, s.snapshots.listSnapshots())
	}
	return remember
}

// ---- keys and actions ----

func (s *Screen) key(msg tea.Msg) tea.Cmd {
	if s.actions.capturing() {
		return s.actions.key(msg)
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if s.paneList().Update(k) {
		return nil
	}
	ks := s.keys
	switch {
	case shell.KeyMatches(k, s.ctx.Global.NextPane):
		s.pane = (s.pane + 1) % numPanes
	case shell.KeyMatches(k, ks.Pane1):
		s.pane = paneOverview
	case shell.KeyMatches(k, ks.Pane2):
		s.pane = paneHistory
	case shell.KeyMatches(k, ks.Pane3):
		s.pane = paneSnapshots
		if !s.snapshots.snapping && s.ctx.Now().Sub(s.snapshots.snapAt) > 2*time.Second {
			return s.snapshots.listSnapshots()
		}
	case shell.KeyMatches(k, ks.Pane4):
		s.pane = paneConfig
	case shell.KeyMatches(k, ks.Open):
		return s.panes[s.pane].open()
	case shell.KeyMatches(k, ks.Browse):
		if d := s.jobCheckpointDir(); d != "" {
			return shell.OpenScreen("browse", d)
		}
		return shell.Toast("the job's checkpoint dir is not known yet (no completed checkpoint, no configured dir)", true)
	case shell.KeyMatches(k, ks.Checkpoint):
		return s.actions.checkpoint(cluster.CheckpointConfigured)
	case shell.KeyMatches(k, ks.Full):
		return s.actions.checkpoint(cluster.CheckpointFull)
	case shell.KeyMatches(k, ks.Savepoint):
		return s.actions.askSavepoint()
	case shell.KeyMatches(k, ks.Stop):
		return s.actions.askStop()
	case shell.KeyMatches(k, ks.CancelSavepoint):
		return s.actions.askCancelWithSavepoint()
	case shell.KeyMatches(k, ks.Cancel):
		return s.actions.askCancel()
	case shell.KeyMatches(k, ks.Resume):
		r := s.snapshots.resumeFrom(s.pane == paneSnapshots)
		if f := s.refusal; f != nil && !(s.pane == paneSnapshots && s.snapshots.selectedSnap() != nil) {
			// The job could not restore: offer exactly that snapshot, with -n
			// one key (and a confirmation) away.
			r.Snapshot, r.Note = f.snapshot, f.resumeNote()
		}
		return shell.OpenScreenWith("resume", r)
	case shell.KeyMatches(k, ks.Latest):
		return s.snapshots.restartFromLatest()
	case shell.KeyMatches(k, ks.Upgrade):
		return s.actions.askUpgrade()
	case shell.KeyMatches(k, ks.Abandon):
		return s.actions.abandon()
	}
	return nil
}

// noSavepointDir is the prompt's placeholder and the refusal when neither
// the prompt nor the cluster names a savepoint directory.
const noSavepointDir = "required: the cluster configures no default savepoint dir (execution.checkpointing.savepoint-dir / state.savepoints.dir)"

// openCheckpoint opens checkpoint id of the job, handing over what the
// job screen knows of the job (vertex names and order).
func (s *jobModel) openCheckpoint(id int64) tea.Cmd {
	return shell.OpenScreenWith("checkpoint", s.job, s.jobID, strconv.FormatInt(id, 10))
}

// ---- status and drawing ----

func (s *Screen) Status() string {
	st := ""
	if s.job != nil {
		st = string(s.job.Status) + " · "
	}
	return st + poll.DataAge(s.ctx, s.Polled, s.Err)
}

// paneList is the list of the pane on show.
func (s *Screen) paneList() *list.Model { return s.panes[s.pane].listModel() }
