package job

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/cluster"
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// snapshotsPane is the job's retained chk-N and savepoints on storage.
type snapshotsPane struct {
	*jobModel
	list       list.Model
	snaps      []routes.SnapRow
	snapDir    string
	snapErr    error
	snapAt     time.Time
	snapTask   shell.TaskID
	snapping   bool
	snapLatest int64 // the latest completed checkpoint when last listed
	// sizes are the listed snapshots' sizes, by path (replaced, never
	// changed, by each listing: the scan reads the map it was given).
	sizes map[string]sized
}

// open inspects the selected snapshot.
func (s *snapshotsPane) open() tea.Cmd {
	r := s.selectedSnap()
	if r == nil {
		return nil
	}
	if r.Complete != format.Yes {
		return shell.Toast(storage.Base(r.Path)+" has no _metadata: not a complete snapshot (in progress, failed or being deleted)", true)
	}
	return shell.OpenScreen("inspect", r.Path)
}

// listSnapshots lists the job's checkpoint dir and checks each chk-N (and
// each known savepoint) for _metadata and its size, in a quiet task.
func (s *snapshotsPane) listSnapshots() tea.Cmd {
	if s.snapping || s.Closed() {
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
	fsys, timeout, sid, known := s.ctx.FS, s.ctx.Timeout, s.id, s.sizes
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		rows, sizes, err := scanSnapshots(cctx, fsys, dir, sps, known)
		return snapsListedMsg{sid: sid, task: id, dir: dir, rows: rows, sizes: sizes, err: err}
	}
}

// newestFirst orders the pane's rows: the chk-N by N, highest first (as
// snapshot.RecentCheckpoints lists them and `ckpt ls` shows them — a
// directory's mtime says nothing about which checkpoint is newer), with
// the savepoints merged in by the time their _metadata was written. Ties
// go in a fixed order so that equal listings draw equal panes.
func newestFirst(rows []routes.SnapRow) []routes.SnapRow {
	var chk, sps []routes.SnapRow
	for _, r := range rows {
		if r.Savepoint {
			sps = append(sps, r)
		} else {
			chk = append(chk, r)
		}
	}
	slices.SortStableFunc(chk, func(a, b routes.SnapRow) int {
		if c := snapshot.CompareEntryNames(storage.Base(a.Path), storage.Base(b.Path)); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	slices.SortStableFunc(sps, func(a, b routes.SnapRow) int {
		if c := b.ModTime.Compare(a.ModTime); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	out := make([]routes.SnapRow, 0, len(rows))
	for len(chk) > 0 || len(sps) > 0 {
		if len(sps) == 0 || (len(chk) > 0 && !sps[0].ModTime.After(chk[0].ModTime)) {
			out, chk = append(out, chk[0]), chk[1:]
		} else {
			out, sps = append(out, sps[0]), sps[1:]
		}
	}
	return out
}

// setSnaps keeps the rows newest first and annotates them with what the
// target says (retained, latest, discarded, restored from). The cursor
// stays on the snapshot it was on (by path, however it is spelled), not on
// its row number: a refresh reorders rows as checkpoints complete and
// retention deletes old ones. The first listing starts on the newest row,
// and a cursor on the newest row follows the newest.
func (s *snapshotsPane) setSnaps(rows []routes.SnapRow) {
	sel, selAt := "", 0
	if r := s.selectedSnap(); r != nil {
		sel = normURI(r.Path)
		selAt = s.list.Cursor()
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
		rows[i].Rest = byNorm[normURI(rows[i].Path)]
	}
	rows = newestFirst(rows)
	s.snaps = rows
	l := &s.list
	l.SetLen(len(rows))
	at := -1
	for i, r := range rows {
		if sel != "" && normURI(r.Path) == sel {
			at = i
			break
		}
	}
	switch {
	case selAt == 0 && len(rows) > 0:
		// On the newest: follow the newest, as the history pane does (the
		// one it was on may be subsumed and deleted next).
		l.Select(0)
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

func (s *snapshotsPane) selectedSnap() *routes.SnapRow {
	i, ok := s.list.Selected()
	if !ok || i >= len(s.snaps) {
		return nil
	}
	return &s.snaps[i]
}

func (s *snapshotsPane) rows() []string {
	th := s.ctx.Theme
	now := s.ctx.Now()
	var chk, complete, sps int
	for _, r := range s.snaps {
		if r.Savepoint {
			sps++
			continue
		}
		chk++
		if r.Complete == format.Yes {
			complete++
		}
	}
	dir := s.snapDir
	if dir == "" {
		dir = s.jobCheckpointDir()
	}
	head := fmt.Sprintf(" %s · %s (%d complete) · %s", text.Sanitize(dir), text.Plural(chk, "chk dir"), complete, text.Plural(sps, "savepoint"))
	if !s.snapAt.IsZero() {
		head += " · listed " + text.Age(now, s.snapAt) + " ago"
	}
	if n := s.numRetained(); n != "" {
		head += " · num-retained " + n
	}
	out := []string{th.Muted.Render(text.FitLeft(head, s.w))}
	says := 18
	if s.w >= 120 {
		says = 20 // "discarded (subsumed)" whole
	}
	cols := table.Layout([]table.Col{
		{Title: "SNAPSHOT", Flex: true, Tail: true},
		{Title: "ON STORAGE", Width: 13},
		{Title: "CHECKPOINTED", Width: 12, Right: true},
		{Title: "FULL", Width: 10, Right: true},
		{Title: "AGE", Width: 5, Right: true},
		{Title: "TARGET SAYS", Width: says},
	}, s.w)
	out = append(out, th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w)))
	switch {
	case s.snapErr != nil && len(s.snaps) == 0:
		return append(out, th.Error.Render(text.Fit("  ✗ "+text.Sanitize(shell.FirstLine(s.snapErr)), s.w)))
	case len(s.snaps) == 0 && s.snapAt.IsZero():
		if dir == "" {
			return append(out, th.Muted.Render(text.Fit("  where the job checkpoints is not known yet (no completed checkpoint)", s.w)))
		}
		return append(out, th.Muted.Render("  "+s.ctx.Spinner()+" listing …"))
	case len(s.snaps) == 0:
		return append(out, th.Muted.Render(text.Fit("  no chk-N dir and no savepoint", s.w)))
	}
	out = append(out, s.list.View(func(i int, sel bool) string {
		r := s.snaps[i]
		name := storage.Base(r.Path)
		if r.Savepoint {
			name = r.Path
		}
		state, style := "…", th.Muted
		switch {
		case r.Err != "":
			state, style = "? error", th.Warn
		case r.Complete == format.Yes:
			state, style = "✓ _metadata", th.Complete
		case r.Complete == format.No && r.Savepoint:
			state, style = "✗ GONE", th.Partial
		case r.Complete == format.No:
			state, style = "✗ partial", th.Partial
		}
		ck, full := "—", "—"
		if z, ok := s.sizes[r.Path]; ok {
			ck, full = text.Bytes(z.sizes.Checkpointed), text.Bytes(z.sizes.Full)
		}
		vals := []string{text.Sanitize(name), state, ck, full, text.Age(now, r.ModTime), r.Rest}
		line := table.Cells(cols, vals...)
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		return "  " + table.Cells(cols[:1], vals[0]) + " " + style.Render(text.Fit(state, cols[1].Width)) + " " + table.Cells(cols[2:], vals[2:]...)
	}))
	return out
}

// numRetained is the job's execution.checkpointing.num-retained: as the
// target reports it for the job (ckpt's engine, where each job has its
// own), else as the cluster's configuration says (Flink, where it is a
// cluster setting); "" when neither does.
func (s *jobModel) numRetained() string {
	if s.cfg != nil && s.cfg.NumRetained > 0 {
		return strconv.Itoa(s.cfg.NumRetained)
	}
	for _, k := range []string{"execution.checkpointing.num-retained", "state.checkpoints.num-retained"} {
		if v := s.conf[k]; v != "" {
			return v
		}
	}
	return ""
}

// onListed takes a listing of the job's snapshots.
func (s *snapshotsPane) onListed(msg snapsListedMsg) {
	s.ctx.Tasks.Done(msg.task, nil)
	s.snapping = false
	s.snapAt = s.ctx.Now()
	s.snapDir, s.snapErr = msg.dir, msg.err
	if msg.err == nil {
		s.sizes = msg.sizes
		s.setSnaps(msg.rows)
	}
}

func (s *snapshotsPane) listModel() *list.Model { return &s.list }
func (s *snapshotsPane) resize(body int)        { s.list.SetHeight(max(body-2, 1)) }

// resumeFrom is what the resume screen is opened with from the job's
// screen: the snapshot defaults to the selected one when the snapshots pane
// is on show (onPane),
// else the newest complete savepoint or checkpoint; the spec to the one
// the job was launched from.
func (s *snapshotsPane) resumeFrom(onPane bool) routes.ResumeFrom {
	r := routes.ResumeFrom{JobID: s.jobID}
	for _, c := range s.snaps {
		if c.Complete == format.Yes {
			r.Choices = append(r.Choices, c)
		}
	}
	if sel := s.selectedSnap(); onPane && sel != nil && sel.Complete == format.Yes {
		r.Snapshot = sel.Path
	} else if len(r.Choices) > 0 {
		r.Snapshot = r.Choices[0].Path // newest first
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

type snapsListedMsg struct {
	sid   int
	task  shell.TaskID
	dir   string
	rows  []routes.SnapRow
	sizes map[string]sized
	err   error
}

// sized is a complete snapshot's sizes, read from its _metadata, as of
// the time that was written (a rewritten _metadata is read again).
type sized struct {
	at    time.Time
	sizes inspector.SnapshotSizes
}

// maxSnapRows bounds how many chk-N dirs are checked (num-retained is
// small; a leaking job dir can hold thousands).
const maxSnapRows = 50

// scanSnapshots lists the job's chk-N (the newest maxSnapRows) and the
// savepoints it knows of, each with whether its _metadata is there and,
// when it is, the snapshot's checkpointed and full sizes as its _metadata
// says (inspector.SizesOf, as the inspect and browse screens show them —
// not the directory's own bytes, a few KiB of an incremental checkpoint).
// known are sizes read before: a complete snapshot does not change.
func scanSnapshots(ctx context.Context, fsys storage.FS, dir string, savepoints map[string]int64, known map[string]sized) ([]routes.SnapRow, map[string]sized, error) {
	var rows []routes.SnapRow
	if dir != "" {
		cks, err := snapshot.RecentCheckpoints(ctx, fsys, dir, maxSnapRows)
		if err != nil && !storage.IsNotExist(err) {
			return nil, nil, err
		}
		for _, c := range cks {
			r := routes.SnapRow{ID: c.ID, Path: c.URI, ModTime: c.ModTime, Complete: format.No, Size: -1}
			if c.Complete {
				r.Complete = format.Yes
			}
			rows = append(rows, r)
		}
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[normURI(r.Path)] = true
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
			rows = append(rows, routes.SnapRow{Savepoint: true, ID: id, Path: p, Size: -1})
		}
	}
	sizes := map[string]sized{}
	for i := range rows {
		r := &rows[i]
		if r.Savepoint { // chk-N: RecentCheckpoints said whether it is complete
			fi, err := fsys.Stat(ctx, storage.Join(r.Path, snapshot.MetadataFileName))
			switch {
			case err == nil:
				r.Complete = format.Yes
				if r.ModTime.IsZero() || fi.ModTime.After(r.ModTime) {
					r.ModTime = fi.ModTime
				}
			case storage.IsNotExist(err):
				r.Complete = format.No
			default:
				r.Err = err.Error()
				continue
			}
		}
		if r.Complete == format.Yes {
			k, ok := known[r.Path]
			if !ok || !k.at.Equal(r.ModTime) {
				m, err := snapshot.Read(ctx, fsys, r.Path)
				if err != nil {
					if ctx.Err() != nil {
						return nil, nil, ctx.Err()
					}
					r.Err = err.Error()
					continue
				}
				k = sized{at: r.ModTime, sizes: inspector.SizesOf(m)}
			}
			sizes[r.Path] = k
			r.Size = k.sizes.Full
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
	return rows, sizes, nil
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
