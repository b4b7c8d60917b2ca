package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

func openJob(ctx *Context, req Request) (Screen, error) {
	args := req.Args
	if len(args) != 1 || !cluster.IsJobID(args[0]) {
		return nil, fmt.Errorf("job takes one job ID (32 hex digits)")
	}
	if ctx.Cluster == nil {
		return nil, fmt.Errorf("no target: start ckpt with the embedded engine (default) or -m host:port")
	}
	return NewJob(ctx, strings.ToLower(args[0])), nil
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

// Job is one job as an operator watches it on upgrade day: its vertices,
// the live checkpoint (who has not acknowledged, age against the timeout),
// the history with drill-down to subtasks, the retained chk-N directories
// and savepoints on storage, and the actions — checkpoint, savepoint, stop
// with savepoint, cancel, resume after a dry run.
type Job struct {
	ctx   *Context
	id    int
	jobID string
	keys  jobKeys
	pane  int
	w, h  int
	lists [numPanes]list.Model

	// What the last poll brought.
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
	poller
	// trend keeps every completed checkpoint seen (the history holds 10).
	trend []trendPoint
	// hist is the history pane: the target's history and what ckpt
	// remembers of it (history.go).
	hist       []histEntry
	remembered []cluster.Checkpoint
	histSeen   map[int64]bool
	histLoaded bool
	histErr    error

	// The job's snapshots on storage.
	snaps      []snapRow
	snapDir    string
	snapErr    error
	snapAt     time.Time
	snapTask   TaskID
	snapping   bool
	snapLatest int64 // the latest completed checkpoint when last listed

	form      *form
	formKind  string
	confirm   string // an action awaiting "y"
	ops       []inflightOp
	abandoned []abandonedOp
}

type trendPoint struct {
	id                      int64
	checkpointed, stateSize int64
}

// snapRow is a retained checkpoint or a savepoint on storage.
type snapRow struct {
	savepoint bool
	id        int64 // checkpoint id (chk-N; savepoints: from REST when known)
	path      string
	complete  tri // _metadata present
	size      int64
	modTime   time.Time
	rest      string // what the target says about it: retained, latest, discarded, restored from
	err       string
}

// inflightOp is an action still running (a savepoint waits for its
// trigger to complete).
type inflightOp struct {
	task    TaskID
	label   string
	started time.Time
	// timeout bounds the wait: the job's checkpoint timeout plus a minute.
	timeout time.Duration
	// trigger is the cluster's request id, once the trigger was accepted.
	trigger cluster.Trigger
	ctx     context.Context
	done    func(*cluster.Operation) (toast, savepoint string)
}

type jobKeys struct {
	Pane1, Pane2, Pane3, Pane4, Open, Checkpoint, Full, Savepoint, Stop, Cancel, Resume, Latest, Abandon, Browse *Action
}

func (k jobKeys) keymap() Keymap {
	return Keymap{k.Open, k.Pane1, k.Pane2, k.Pane3, k.Pane4, k.Checkpoint, k.Full, k.Savepoint, k.Stop, k.Cancel, k.Resume, k.Latest, k.Abandon, k.Browse}
}

func newJobKeys(ctx *Context) jobKeys {
	k := jobKeys{
		Pane1:      NewAction("job.overview", "1", "overview", "1"),
		Pane2:      NewAction("job.checkpoints", "2", "checkpoint history", "2"),
		Pane3:      NewAction("job.snapshots", "3", "snapshots on storage", "3"),
		Pane4:      NewAction("job.config", "4", "config, exceptions", "4"),
		Open:       NewAction("job.open", "enter", "open detail / inspect", "enter", "l", "right"),
		Checkpoint: NewAction("job.checkpoint", "c", "checkpoint now", "c").Danger(),
		Full:       NewAction("job.full-checkpoint", "C", "full checkpoint now", "C").Danger(),
		Savepoint:  NewAction("job.savepoint", "s", "savepoint", "s").Danger(),
		Stop:       NewAction("job.stop", "S", "stop with savepoint", "S").Danger(),
		Cancel:     NewAction("job.cancel", "x", "cancel job", "x").Danger(),
		Resume:     NewAction("job.resume", "r", "resume from snapshot", "r").Danger(),
		Latest:     NewAction("job.restart-latest", "L", "restart from latest good snapshot", "L").Danger(),
		Abandon:    NewAction("job.abandon", "A", "abandon waiting for a savepoint/checkpoint", "A"),
		Browse:     NewAction("job.browse", "b", "browse checkpoint dir", "b"),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// NewJob opens job jobID of ctx.Cluster.
func NewJob(ctx *Context, jobID string) *Job {
	s := &Job{ctx: ctx, id: newScreenID(), jobID: jobID, keys: newJobKeys(ctx)}
	for i := range s.lists {
		s.lists[i] = list.New()
	}
	return s
}

func (s *Job) Title() string {
	if s.job != nil && s.job.Name != "" {
		return "job " + s.job.Name
	}
	return "job " + shortID(s.jobID)
}
func (s *Job) Location() string { return s.ctx.TargetName + " › " + s.jobID }
func (s *Job) Keys() Keymap     { return append(s.keys.keymap(), listKeymap(s.lists[s.pane].Keys)...) }
func (s *Job) Capturing() bool  { return s.form != nil || s.confirm != "" }
func (s *Job) CopyText() string {
	if s.pane == paneSnapshots {
		if r := s.selectedSnap(); r != nil {
			return r.path
		}
	}
	return s.jobID
}

func (s *Job) SetSize(w, h int) {
	s.w, s.h = w, h
	body := max(h-headerRows, 1)
	s.lists[paneOverview].SetHeight(s.vertexRows(body))
	s.lists[paneHistory].SetHeight(max(body-3, 1))
	s.lists[paneSnapshots].SetHeight(max(body-2, 1))
	s.lists[paneConfig].SetHeight(max(body, 1))
}

// headerRows: the job line and the pane tabs.
const headerRows = 2

// vertexRows is how many vertex rows the overview shows: what the
// checkpoint block leaves, at least 3.
func (s *Job) vertexRows(body int) int {
	n := 0
	if s.job != nil {
		n = len(s.job.Vertices)
	}
	room := body - 1 - s.checkpointBlockRows()
	return max(min(n, room), min(n, 3), 1)
}

func (s *Job) Close() {
	s.stopPolling(s.ctx)
	s.ctx.Tasks.Cancel(s.snapTask)
}

func (s *Job) Init() tea.Cmd { return tea.Batch(s.poll(), s.loadHistory()) }

func (s *Job) Refresh() tea.Cmd {
	s.restart(s.ctx)
	return tea.Batch(s.poll(), s.listSnapshots())
}

// jobPolledMsg is what one poll of the job brings.
type jobPolledMsg struct {
	job      *cluster.Job
	stats    *cluster.CheckpointStats
	cfg      *cluster.CheckpointConfig
	cfgOff   bool
	conf     map[string]string
	exc      *cluster.Exceptions
	inflight *cluster.Checkpoint
	pending  map[string]*cluster.VertexCheckpoint
	err      error
}

// maxPendingVertices bounds the per-subtask calls of one poll.
const maxPendingVertices = 8

// poll reads the job, its checkpoint statistics and, for the newest
// in-progress checkpoint, which subtasks have not acknowledged — the cheap
// endpoints Flink's UI polls too — in one quiet task.
func (s *Job) poll() tea.Cmd {
	c, jobID := s.ctx.Cluster, s.jobID
	needCfg, needConf := s.cfg == nil && !s.cfgOff, s.conf == nil
	return startPoll(s.ctx, &s.poller, s.id, "polling job "+shortID(jobID), func(ctx context.Context) (jobPolledMsg, error) {
		m := pollJob(ctx, c, jobID, needCfg, needConf)
		return m, m.err
	})
}

func pollJob(ctx context.Context, c cluster.Cluster, jobID string, needCfg, needConf bool) (m jobPolledMsg) {
	if m.job, m.err = c.Job(ctx, jobID); m.err != nil {
		return m
	}
	if m.stats, m.err = c.Checkpoints(ctx, jobID); m.err != nil {
		return m
	}
	if needCfg {
		cfg, err := c.CheckpointConfig(ctx, jobID)
		switch {
		case errors.Is(err, cluster.ErrNotFound):
			m.cfgOff = true
		case err == nil:
			m.cfg = cfg
		}
	}
	if needConf {
		m.conf, _ = c.Configuration(ctx)
	}
	m.exc, _ = c.Exceptions(ctx, jobID)
	if ip := newestInProgress(m.stats); ip != nil {
		d, err := c.CheckpointDetail(ctx, jobID, ip.ID)
		if err == nil {
			m.inflight = d
			m.pending = map[string]*cluster.VertexCheckpoint{}
			for _, vid := range sortedKeys(d.Tasks) {
				t := d.Tasks[vid]
				if t.NumAcked >= t.NumSubtasks || len(m.pending) >= maxPendingVertices {
					continue
				}
				if vc, err := c.CheckpointSubtasks(ctx, jobID, ip.ID, vid); err == nil {
					m.pending[vid] = vc
				}
			}
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func newestInProgress(st *cluster.CheckpointStats) *cluster.Checkpoint {
	if st == nil {
		return nil
	}
	var best *cluster.Checkpoint
	for i := range st.History {
		c := &st.History[i]
		if c.Status == cluster.CheckpointInProgress && (best == nil || c.ID > best.ID) {
			best = c
		}
	}
	return best
}

func (s *Job) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case polledMsg[jobPolledMsg]:
		if !accept(s.ctx, &s.poller, s.id, msg) {
			return s, nil
		}
		return s, tea.Batch(s.onPoll(msg.v), s.ctx.schedulePoll(s.id, s.gen))
	case pollTickMsg:
		if msg.sid == s.id && msg.gen == s.gen {
			return s, s.poll()
		}
	case snapsListedMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.ctx.Tasks.Done(msg.task, nil)
		s.snapping = false
		s.snapAt = s.ctx.Now()
		s.snapDir, s.snapErr = msg.dir, msg.err
		if msg.err == nil {
			s.setSnaps(msg.rows)
		}
	case taskDoneMsg:
		for i, o := range s.ops {
			if o.task == msg.task {
				s.ops = append(s.ops[:i], s.ops[i+1:]...)
				// A finished action changes what the target reports: look now.
				s.restart(s.ctx)
				return s, tea.Batch(s.poll(), s.listSnapshots())
			}
		}
	case opTriggeredMsg:
		if msg.sid == s.id {
			return s, s.onTriggered(msg)
		}
	case historyLoadedMsg:
		if msg.sid != s.id {
			return s, nil
		}
		s.histLoaded, s.histErr = true, msg.err
		s.remembered = msg.recs
		s.histSeen = map[int64]bool{}
		for _, c := range msg.recs {
			s.histSeen[c.ID] = true
		}
		s.setHistory()
		return s, s.observeHistory()
	case historySavedMsg:
		if msg.sid == s.id {
			s.histErr = msg.err
		}
	case latestPickedMsg:
		if msg.sid == s.id {
			return s, s.onLatestPicked(msg)
		}
	case tea.KeyPressMsg, tea.PasteMsg:
		return s, s.key(msg)
	case tea.MouseWheelMsg:
		s.lists[s.pane].Update(msg)
	}
	return s, nil
}

func (s *Job) onPoll(m jobPolledMsg) tea.Cmd {
	s.err = m.err
	if m.err != nil {
		return nil
	}
	s.polled = s.ctx.Now()
	s.job, s.stats, s.exc = m.job, m.stats, m.exc
	s.refusal = findRestoreRefusal(m.exc)
	s.withOps = reportsOperators(m.job)
	s.inflight, s.pending = m.inflight, m.pending
	if m.cfg != nil {
		s.cfg = m.cfg
	}
	if m.cfgOff {
		s.cfgOff = true
	}
	if m.conf != nil {
		s.conf = m.conf
	}
	s.addTrend()
	s.lists[paneOverview].SetLen(len(s.job.Vertices))
	s.setHistory()
	s.lists[paneConfig].SetLen(len(s.configLines()))
	s.SetSize(s.w, s.h)
	// List storage again when a checkpoint completed since the last look.
	latest := int64(-1)
	if c := s.stats.LatestCompleted; c != nil {
		latest = c.ID
	}
	remember := s.observeHistory()
	if s.snapAt.IsZero() || latest != s.snapLatest || s.ctx.Now().Sub(s.snapAt) > 10*time.Second {
		s.snapLatest = latest
		return tea.Batch(remember, s.listSnapshots())
	}
	return remember
}

// setHistory rebuilds the history pane's rows. They grow at the top: the
// cursor stays on the same checkpoint, except on the newest, which it
// follows.
func (s *Job) setHistory() {
	selID := int64(-1)
	if i, ok := s.lists[paneHistory].Selected(); ok && i < len(s.hist) && i > 0 {
		selID = s.hist[i].ID
	}
	s.mergeHistory()
	s.lists[paneHistory].SetLen(len(s.hist))
	for i, c := range s.hist {
		if c.ID == selID {
			s.lists[paneHistory].Select(i)
		}
	}
}

// addTrend remembers every completed checkpoint the polls saw, so the size
// trend reaches further back than the 10 entries of the history.
func (s *Job) addTrend() {
	seen := map[int64]bool{}
	for _, p := range s.trend {
		seen[p.id] = true
	}
	for i := len(s.stats.History) - 1; i >= 0; i-- {
		c := s.stats.History[i]
		// Savepoints are full copies in another format: not part of the
		// checkpoint size trend.
		if c.Status == cluster.CheckpointCompleted && !c.Savepoint && !seen[c.ID] {
			s.trend = append(s.trend, trendPoint{id: c.ID, checkpointed: c.CheckpointedSize, stateSize: c.StateSize})
		}
	}
	sort.Slice(s.trend, func(i, j int) bool { return s.trend[i].id < s.trend[j].id })
	if len(s.trend) > 200 {
		s.trend = s.trend[len(s.trend)-200:]
	}
}

// ---- snapshots on storage ----

type snapsListedMsg struct {
	sid  int
	task TaskID
	dir  string
	rows []snapRow
	err  error
}

// jobCheckpointDir is where the job's chk-N dirs live: as the target
// reports it (ckpt's engine does), else the parent of a completed
// checkpoint's external path, else the configured checkpoint dir with the
// job ID.
func (s *Job) jobCheckpointDir() string {
	if s.cfg != nil && s.cfg.CheckpointDir != "" {
		return s.cfg.CheckpointDir
	}
	if s.stats != nil {
		cands := []*cluster.Checkpoint{s.stats.LatestCompleted}
		for i := range s.stats.History {
			cands = append(cands, &s.stats.History[i])
		}
		for _, c := range cands {
			if c == nil || c.Savepoint || c.ExternalPath == "" || c.Status != cluster.CheckpointCompleted {
				continue
			}
			p := strings.TrimRight(c.ExternalPath, "/")
			if storage.Base(p) == "_metadata" {
				p = storage.Dir(p)
			}
			return storage.Dir(p)
		}
	}
	for _, k := range []string{"execution.checkpointing.dir", "state.checkpoints.dir"} {
		if d := s.conf[k]; d != "" {
			return storage.Join(d, s.jobID)
		}
	}
	return ""
}

// savepointPaths are the savepoints the target and this session know of
// for the job.
func (s *Job) savepointPaths() map[string]int64 {
	out := map[string]int64{}
	if s.stats != nil {
		cands := []*cluster.Checkpoint{s.stats.LatestSavepoint}
		for i := range s.stats.History {
			cands = append(cands, &s.stats.History[i])
		}
		for _, c := range cands {
			if c != nil && c.Savepoint && c.Status == cluster.CheckpointCompleted && c.ExternalPath != "" {
				out[c.ExternalPath] = c.ID
			}
		}
		if r := s.stats.LatestRestored; r != nil && r.Savepoint && r.ExternalPath != "" {
			out[r.ExternalPath] = r.ID
		}
	}
	for _, sp := range s.ctx.session.savepoints {
		if sp.jobID == s.jobID {
			if _, ok := out[sp.path]; !ok {
				out[sp.path] = -1
			}
		}
	}
	return out
}

// maxSnapRows bounds how many chk-N dirs are checked (num-retained is
// small; a leaking job dir can hold thousands).
const maxSnapRows = 50

// listSnapshots lists the job's checkpoint dir and checks each chk-N (and
// each known savepoint) for _metadata and its size, in a quiet task.
func (s *Job) listSnapshots() tea.Cmd {
	if s.snapping || s.closed {
		return nil
	}
	dir := s.jobCheckpointDir()
	sps := s.savepointPaths()
	if dir == "" && len(sps) == 0 {
		return nil
	}
	s.snapping = true
	id, tctx := s.ctx.Tasks.StartQuiet("listing "+dir, 0)
	s.snapTask = id
	fsys, timeout, sid := s.ctx.FS, s.ctx.Timeout, s.id
	return func() tea.Msg {
		cctx, cancel := withTimeout(tctx, timeout)
		defer cancel()
		rows, err := scanSnapshots(cctx, fsys, dir, sps)
		return snapsListedMsg{sid: sid, task: id, dir: dir, rows: rows, err: err}
	}
}

func scanSnapshots(ctx context.Context, fsys storage.FS, dir string, savepoints map[string]int64) ([]snapRow, error) {
	var rows []snapRow
	if dir != "" {
		l, err := fsys.List(ctx, dir)
		if err != nil && !storage.IsNotExist(err) {
			return nil, err
		}
		for l != nil {
			page, err := l.Next(ctx)
			for _, fi := range page {
				if !fi.IsDir {
					continue
				}
				if n, ok := snapshot.ParseCheckpointDirName(storage.Base(fi.URI)); ok {
					rows = append(rows, snapRow{id: n, path: fi.URI, modTime: fi.ModTime, size: -1})
				}
			}
			if err != nil {
				l.Close()
				if !errors.Is(err, io.EOF) {
					return nil, err
				}
				break
			}
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].id > rows[j].id })
		if len(rows) > maxSnapRows {
			rows = rows[:maxSnapRows]
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[normURI(r.path)] = true
	}
	// Savepoints in a fixed order: the same snapshot can be known under two
	// spellings (REST's file:/x, the session's /x), and map order would pick
	// a different one each listing (the cursor's anchor with it).
	sps := make([]string, 0, len(savepoints))
	for p := range savepoints {
		sps = append(sps, p)
	}
	sort.Strings(sps)
	for _, p := range sps {
		id := savepoints[p]
		if !seen[normURI(p)] {
			seen[normURI(p)] = true
			rows = append(rows, snapRow{savepoint: true, id: id, path: p, size: -1})
		}
	}
	for i := range rows {
		r := &rows[i]
		fi, err := fsys.Stat(ctx, storage.Join(r.path, "_metadata"))
		switch {
		case err == nil:
			r.complete = yes
			if r.modTime.IsZero() || fi.ModTime.After(r.modTime) {
				r.modTime = fi.ModTime
			}
		case storage.IsNotExist(err):
			r.complete = no
		default:
			r.err = err.Error()
			continue
		}
		if u, err := storage.DiskUsage(ctx, fsys, r.path); err == nil {
			r.size = u.Bytes
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return rows, nil
}

// setSnaps keeps the rows newest first and annotates them with what the
// target says (retained, latest, discarded, restored from). The cursor
// stays on the snapshot it was on (by path, however it is spelled), not on
// its row number: a refresh reorders rows as checkpoints complete and
// retention deletes old ones. The first listing starts on the first row.
func (s *Job) setSnaps(rows []snapRow) {
	sel, selAt := "", 0
	if r := s.selectedSnap(); r != nil {
		sel = normURI(r.path)
		selAt = s.lists[paneSnapshots].Cursor()
	}
	rest := map[string]string{}
	if st := s.stats; st != nil {
		for _, c := range st.History {
			if c.ExternalPath == "" {
				continue
			}
			if c.Discarded {
				rest[c.ExternalPath] = "discarded (subsumed)"
			} else if c.Status == cluster.CheckpointCompleted {
				rest[c.ExternalPath] = "completed"
			}
		}
		if c := st.LatestCompleted; c != nil {
			rest[c.ExternalPath] = "latest completed"
		}
		if c := st.LatestSavepoint; c != nil {
			rest[c.ExternalPath] = "latest savepoint"
		}
		if r := st.LatestRestored; r != nil {
			rest[r.ExternalPath] = "restored from"
		}
		if c := newestInProgress(st); c != nil && !c.Savepoint && s.snapDir != "" {
			rest[storage.Join(s.snapDir, fmt.Sprintf("chk-%d", c.ID))] = "in progress"
		}
	}
	byNorm := map[string]string{}
	for p, v := range rest {
		byNorm[normURI(p)] = v
	}
	for i := range rows {
		rows[i].rest = byNorm[normURI(rows[i].path)]
	}
	// Newest first; ties (same mtime, or none: unreadable rows) in a fixed
	// order so that equal listings draw equal panes.
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if !a.modTime.Equal(b.modTime) {
			return a.modTime.After(b.modTime)
		}
		if a.savepoint != b.savepoint {
			return !a.savepoint
		}
		if a.id != b.id {
			return a.id > b.id
		}
		return a.path < b.path
	})
	s.snaps = rows
	l := &s.lists[paneSnapshots]
	l.SetLen(len(rows))
	at := -1
	for i, r := range rows {
		if sel != "" && normURI(r.path) == sel {
			at = i
			break
		}
	}
	switch {
	case at >= 0:
		l.Select(at)
	case sel != "":
		// The snapshot went away (retention deleted it): stay at the same
		// height, on its neighbour, rather than jump.
		l.Select(min(selAt, len(rows)-1))
	default:
		l.Select(0)
	}
}

func (s *Job) selectedSnap() *snapRow {
	i, ok := s.lists[paneSnapshots].Selected()
	if !ok || i >= len(s.snaps) {
		return nil
	}
	return &s.snaps[i]
}

// normURI spells a snapshot path one way (file:/x, file:///x and /x, with
// or without /_metadata), so what REST reports matches what storage lists.
func normURI(u string) string {
	u = strings.TrimRight(u, "/")
	if storage.Base(u) == "_metadata" {
		u = storage.Dir(u)
	}
	loc, err := storage.Parse(u)
	if err != nil {
		return u
	}
	if loc.IsLocal() {
		return loc.Path
	}
	return loc.String()
}

// ---- keys and actions ----

func (s *Job) key(msg tea.Msg) tea.Cmd {
	if s.form != nil {
		res, cmd := s.form.update(msg)
		switch res {
		case formCancelled:
			s.form = nil
			return nil
		case formSubmitted:
			f, kind := s.form, s.formKind
			s.form = nil
			return s.submitForm(kind, f)
		}
		return cmd
	}
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if s.confirm != "" {
		what := s.confirm
		s.confirm = ""
		if k.String() == "y" || k.String() == "Y" {
			if what == "cancel" {
				return cancelJob(s.ctx, s.jobID)
			}
		}
		return Toast(what+" aborted", false)
	}
	if s.lists[s.pane].Update(k) {
		return nil
	}
	ks := s.keys
	switch {
	case matches(k, s.ctx.Global.NextPane):
		s.pane = (s.pane + 1) % numPanes
	case matches(k, ks.Pane1):
		s.pane = paneOverview
	case matches(k, ks.Pane2):
		s.pane = paneHistory
	case matches(k, ks.Pane3):
		s.pane = paneSnapshots
		if !s.snapping && s.ctx.Now().Sub(s.snapAt) > 2*time.Second {
			return s.listSnapshots()
		}
	case matches(k, ks.Pane4):
		s.pane = paneConfig
	case matches(k, ks.Open):
		return s.open()
	case matches(k, ks.Browse):
		if d := s.jobCheckpointDir(); d != "" {
			return OpenScreen("browse", d)
		}
		return Toast("the job's checkpoint dir is not known yet (no completed checkpoint, no configured dir)", true)
	case matches(k, ks.Checkpoint):
		return s.checkpoint(cluster.CheckpointConfigured)
	case matches(k, ks.Full):
		return s.checkpoint(cluster.CheckpointFull)
	case matches(k, ks.Savepoint):
		s.form = newForm("Savepoint of "+s.jobName(), s.savepointFormHint("enter takes the savepoint")).
			text("target dir", s.suggestedSavepointDir(), s.savepointDirHint()).
			choice("format", string(cluster.Canonical), string(cluster.Native))
		s.formKind = "savepoint"
		return s.form.focusCmd()
	case matches(k, ks.Stop):
		s.form = newForm("STOP "+s.jobName()+" with a savepoint", s.savepointFormHint("enter stops the job")).
			text("target dir", s.suggestedSavepointDir(), s.savepointDirHint()).
			choice("drain", "no", "yes (MAX_WATERMARK first: every event-time timer fires — for jobs retired for good)").
			choice("format", string(cluster.Canonical), string(cluster.Native))
		s.form.danger = true
		s.formKind = "stop"
		return s.form.focusCmd()
	case matches(k, ks.Cancel):
		if s.job != nil && s.job.Status.Terminal() {
			return Toast("job already "+string(s.job.Status), true)
		}
		s.confirm = "cancel"
	case matches(k, ks.Resume):
		r := s.resumeFrom()
		if f := s.refusal; f != nil && !(s.pane == paneSnapshots && s.selectedSnap() != nil) {
			// The job could not restore: offer exactly that snapshot, with -n
			// one key (and a confirmation) away.
			r.Snapshot, r.Note = f.snapshot, f.resumeNote()
		}
		return OpenScreenWith("resume", r)
	case matches(k, ks.Latest):
		return s.restartFromLatest()
	case matches(k, ks.Abandon):
		return s.abandon()
	}
	return nil
}

// resumeFrom is what the resume screen is opened with from the job's
// screen: the snapshot defaults to the selected one on the snapshots pane,
// else the newest complete savepoint or checkpoint; the spec to the one
// the job was launched from.
func (s *Job) resumeFrom() ResumeFrom {
	r := ResumeFrom{JobID: s.jobID}
	for _, c := range s.snaps {
		if c.complete == yes {
			r.Choices = append(r.Choices, c)
		}
	}
	if sel := s.selectedSnap(); s.pane == paneSnapshots && sel != nil && sel.complete == yes {
		r.Snapshot = sel.path
	} else if len(r.Choices) > 0 {
		r.Snapshot = r.Choices[0].path // newest first
	} else if s.stats != nil && s.stats.LatestSavepoint != nil {
		r.Snapshot = s.stats.LatestSavepoint.ExternalPath
	}
	r.Spec = s.ctx.SpecOf(s.jobID)
	if p := s.job; r.Spec == "" && p != nil && p.Program != nil && p.Program.Spec != "" {
		r.Program = p.Program
	}
	r.Running = s.job != nil && !s.job.Status.Terminal()
	return r
}

func (s *Job) jobName() string {
	if s.job != nil && s.job.Name != "" {
		return text.Sanitize(s.job.Name)
	}
	return shortID(s.jobID)
}

// savepointDirKeys name the cluster's default savepoint directory: Flink
// 1.20/2.x, and the older name 1.x clusters still set.
var savepointDirKeys = []string{"execution.checkpointing.savepoint-dir", "state.savepoints.dir"}

// defaultSavepointDir pre-fills the savepoint and stop prompts: the
// cluster's savepoint dir (either key, from /jobmanager/config), else ""
// — then the prompt requires one, since Flink refuses a savepoint without
// a target when no default is configured.
func (s *Job) defaultSavepointDir() string {
	for _, k := range savepointDirKeys {
		if d := s.conf[k]; d != "" {
			return d
		}
	}
	return ""
}

// suggestedSavepointDir pre-fills the prompts when the cluster has no
// default: "savepoints" next to the checkpoint root, shown as a suggestion
// the operator confirms or edits ("" when the checkpoint dir is unknown
// too: then the prompt is empty and required).
func (s *Job) suggestedSavepointDir() string {
	if d := s.defaultSavepointDir(); d != "" {
		return d
	}
	if d := s.jobCheckpointDir(); d != "" {
		return storage.Join(storage.Dir(d), "..", "savepoints")
	}
	return ""
}

// savepointFormHint is the prompts' bottom line: what enter does, and
// that the dir is only a suggestion when the cluster configures none.
func (s *Job) savepointFormHint(action string) string {
	if s.defaultSavepointDir() == "" {
		return "no default savepoint dir on the cluster (execution.checkpointing.savepoint-dir / state.savepoints.dir): the target dir is required — " + action
	}
	return action
}

// noSavepointDir is the prompt's placeholder and the refusal when neither
// the prompt nor the cluster names a savepoint directory.
const noSavepointDir = "required: the cluster configures no default savepoint dir (execution.checkpointing.savepoint-dir / state.savepoints.dir)"

// openCheckpoint opens checkpoint id of the job, handing over what the
// job screen knows of the job (vertex names and order).
func (s *Job) openCheckpoint(id int64) tea.Cmd {
	return OpenScreenWith("checkpoint", s.job, s.jobID, strconv.FormatInt(id, 10))
}

func (s *Job) open() tea.Cmd {
	switch s.pane {
	case paneHistory:
		i, ok := s.lists[paneHistory].Selected()
		if ok && i < len(s.hist) {
			if s.hist[i].remembered {
				return Toast(fmt.Sprintf("#%d is remembered by ckpt only: the target no longer has its details", s.hist[i].ID), true)
			}
			return s.openCheckpoint(s.hist[i].ID)
		}
	case paneSnapshots:
		if r := s.selectedSnap(); r != nil {
			if r.complete != yes {
				return Toast(storage.Base(r.path)+" has no _metadata: not a complete snapshot (in progress, failed or being deleted)", true)
			}
			return OpenScreen("inspect", r.path)
		}
	case paneOverview:
		if ip := s.inflight; ip != nil {
			return s.openCheckpoint(ip.ID)
		}
		if c := s.latest(); c != nil {
			return s.openCheckpoint(c.ID)
		}
	}
	return nil
}

func (s *Job) latest() *cluster.Checkpoint {
	if s.stats == nil {
		return nil
	}
	return s.stats.LatestCompleted
}

// opTimeout bounds waiting for a savepoint or checkpoint: the job's
// checkpoint timeout plus a minute, at least 10 minutes (a fixed short
// timeout gives up on large state).
func (s *Job) opTimeout() time.Duration {
	d := 10 * time.Minute
	if s.cfg != nil && s.cfg.Timeout+time.Minute > d {
		d = s.cfg.Timeout + time.Minute
	}
	return d
}

// startOp runs an asynchronous action: trigger, then wait for it to
// complete, in a task the status bar shows; the job screen lists it while
// it runs, with its trigger id, elapsed time against its bound, and A to
// abandon the wait (opTriggeredMsg, then waitOp).
func (s *Job) startOp(label string, trigger func(context.Context, cluster.Cluster) (cluster.Trigger, error), done func(*cluster.Operation) (toast, savepoint string)) tea.Cmd {
	if s.ctx.Readonly {
		return Toast("read-only mode: "+label+" is disabled", true)
	}
	timeout := s.opTimeout()
	id, tctx := s.ctx.Tasks.Start(label, timeout)
	s.ops = append(s.ops, inflightOp{task: id, label: label, started: s.ctx.Now(), timeout: timeout, ctx: tctx, done: done})
	c, rtimeout, sid := s.ctx.Cluster, s.ctx.Timeout, s.id
	return func() tea.Msg {
		cctx, cancel := withTimeout(tctx, rtimeout)
		t, err := trigger(cctx, c)
		cancel()
		if err != nil {
			return taskDoneMsg{task: id, err: fmt.Errorf("%s: %w", label, err)}
		}
		return opTriggeredMsg{sid: sid, task: id, trigger: t}
	}
}

func (s *Job) checkpoint(typ cluster.CheckpointType) tea.Cmd {
	label := "checkpoint of " + s.jobName()
	if typ == cluster.CheckpointFull {
		label = "full " + label
	}
	jobID := s.jobID
	return s.startOp(label, func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
		return c.TriggerCheckpoint(ctx, jobID, cluster.CheckpointRequest{Type: typ})
	}, func(op *cluster.Operation) (string, string) {
		return fmt.Sprintf("checkpoint %d completed", op.CheckpointID), ""
	})
}

// savepointDirHint is the target dir field's placeholder.
func (s *Job) savepointDirHint() string {
	if s.defaultSavepointDir() == "" {
		return noSavepointDir
	}
	return "dir (savepoint-<job6>-<random12>/ goes inside)"
}

func (s *Job) submitForm(kind string, f *form) tea.Cmd {
	jobID := s.jobID
	if (kind == "savepoint" || kind == "stop") && strings.TrimSpace(f.value(0)) == "" && s.defaultSavepointDir() == "" {
		return Toast(kind+" not sent: no target dir, and the cluster configures no default savepoint dir "+
			"(execution.checkpointing.savepoint-dir / state.savepoints.dir) — type one", true)
	}
	switch kind {
	case "savepoint":
		req := cluster.SavepointRequest{TargetDir: f.value(0), Format: cluster.SavepointFormat(f.value(1))}
		return s.startOp("savepoint of "+s.jobName(), func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
			return c.TriggerSavepoint(ctx, jobID, req)
		}, func(op *cluster.Operation) (string, string) {
			return "savepoint at " + op.Location, op.Location
		})
	case "stop":
		req := cluster.StopRequest{TargetDir: f.value(0), Drain: f.value(1) != "no", Format: cluster.SavepointFormat(f.value(2))}
		return s.startOp("stop with savepoint of "+s.jobName(), func(ctx context.Context, c cluster.Cluster) (cluster.Trigger, error) {
			return c.StopWithSavepoint(ctx, jobID, req)
		}, func(op *cluster.Operation) (string, string) {
			return "stopped; savepoint at " + op.Location, op.Location
		})
	}
	return nil
}

// ---- status and drawing ----

func (s *Job) Status() string {
	st := ""
	if s.job != nil {
		st = string(s.job.Status) + " · "
	}
	return st + dataAge(s.ctx, s.polled, s.err)
}
