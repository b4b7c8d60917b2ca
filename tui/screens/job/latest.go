package job

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// "Restart from the latest good snapshot" (Ververica's LATEST_STATE, done
// by hand): of the job's retained chk-N directories and its savepoints,
// take the newest that is complete (_metadata present) and whose header
// decodes, then open the resume screen on it — dry run first, as always.
// Newest is by the time its _metadata was written: checkpoint IDs of
// savepoints taken by an earlier run of the job do not compare with this
// run's.

// latestPickedMsg is the outcome of pickLatest.
type latestPickedMsg struct {
	sid  int
	task shell.TaskID
	path string
	note string
	err  error
}

// latestCandidates are the complete snapshots of the pane, newest first.
func latestCandidates(rows []routes.SnapRow) []routes.SnapRow {
	var out []routes.SnapRow
	for _, r := range rows {
		if r.Complete == format.Yes && r.Err == "" {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ModTime.After(out[j].ModTime) })
	return out
}

// restartFromLatest validates the candidates' headers in a task and then
// opens the resume screen (latestPickedMsg).
func (s *snapshotsPane) restartFromLatest() tea.Cmd {
	if s.ctx.Readonly {
		return shell.Toast("read-only mode: restart is disabled", true)
	}
	cands := latestCandidates(s.snaps)
	if len(cands) == 0 {
		if s.snapping || s.snapAt.IsZero() {
			return shell.Toast("the job's snapshots are still being listed: try again in a moment", true)
		}
		return shell.Toast("no complete snapshot of this job on storage (no chk-N or savepoint with _metadata)", true)
	}
	id, tctx := s.ctx.Tasks.Start("finding the latest good snapshot of "+s.jobName(), 0)
	fsys, timeout, sid, now := s.ctx.FS, s.ctx.Timeout, s.id, s.ctx.Now()
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		path, note, err := pickLatest(cctx, fsys, cands, now)
		return latestPickedMsg{sid: sid, task: id, path: path, note: note, err: err}
	}
}

// pickLatest returns the first candidate whose _metadata header decodes,
// with a note saying what it was compared with and what was passed over.
func pickLatest(ctx context.Context, fsys storage.FS, cands []routes.SnapRow, now time.Time) (string, string, error) {
	var skipped []string
	for i, c := range cands {
		if err := checkHeader(ctx, fsys, c.Path); err != nil {
			if ctx.Err() != nil {
				return "", "", ctx.Err()
			}
			skipped = append(skipped, fmt.Sprintf("%s (%s)", snapName(c), shell.FirstLine(err)))
			continue
		}
		note := fmt.Sprintf("latest good snapshot: %s, written %s ago", snapName(c), text.Age(now, c.ModTime))
		// Name the newest of the other kind it beat.
		for _, o := range cands[i+1:] {
			if o.Savepoint != c.Savepoint {
				note += fmt.Sprintf(" — newer than %s (%s ago)", snapName(o), text.Age(now, o.ModTime))
				break
			}
		}
		if len(skipped) > 0 {
			note += " · passed over: " + strings.Join(skipped, ", ")
		}
		return c.Path, note, nil
	}
	return "", "", fmt.Errorf("no snapshot of the job has a readable _metadata: %s", strings.Join(skipped, ", "))
}

// checkHeader reads the snapshot's _metadata header (magic, version,
// checkpoint ID): a truncated or foreign file fails here, before a job is
// submitted on it.
func checkHeader(ctx context.Context, fsys storage.FS, path string) error {
	d, err := snapshot.OpenDecoder(ctx, fsys, path)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = d.Header()
	return err
}

// snapName is how a snapshot row is named in messages: chk-N, or the
// savepoint's directory name.
func snapName(r routes.SnapRow) string {
	n := storage.Base(strings.TrimRight(r.Path, "/"))
	if r.Savepoint {
		return "savepoint " + n
	}
	return n
}

// onLatestPicked opens the resume screen on the pick.
func (s *snapshotsPane) onLatestPicked(m latestPickedMsg, onPane bool) tea.Cmd {
	s.ctx.Tasks.Done(m.task, m.err)
	if m.err != nil {
		return nil
	}
	r := s.resumeFrom(onPane)
	r.Snapshot, r.Note = m.path, m.note
	return shell.OpenScreenWith("resume", r)
}
