package job

import (
	"fmt"
	"strconv"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
)

// configPane is the checkpointing configuration and the exceptions.
type configPane struct {
	*jobModel
	list list.Model
}

func (s *configPane) open() tea.Cmd { return nil }

func (s *configPane) configLines() []string {
	th := s.ctx.Theme
	kv := func(k, v string) string { return " " + th.Muted.Render(text.Fit(k, 26)) + text.Sanitize(v) }
	var out []string
	switch {
	case s.cfgOff:
		out = append(out, kv("checkpointing", "OFF (no execution.checkpointing.interval)"))
	case s.cfg == nil:
		out = append(out, kv("checkpointing", "not reported yet"))
	default:
		c := s.cfg
		out = append(out,
			kv("mode", c.Mode),
			kv("interval", format.Dur(c.Interval)),
			kv("timeout", format.Dur(c.Timeout)),
			kv("min pause", format.Dur(c.MinPause)),
			kv("max concurrent", strconv.Itoa(c.MaxConcurrent)),
			kv("unaligned", fmt.Sprint(c.Unaligned)),
			kv("retention", c.Retention),
		)
		nr := s.numRetained()
		switch {
		case c.NumRetained > 0:
			nr += " (this job's)"
		case nr == "":
			nr = "not in the cluster configuration (Flink's default is 1)"
		default:
			nr += " (the cluster's)"
		}
		dir := c.CheckpointDir
		switch {
		case dir != "":
		case s.jobCheckpointDir() != "":
			dir = s.jobCheckpointDir() + " (from the completed checkpoints or the cluster configuration)"
		default:
			dir = "not known yet (no completed checkpoint)"
		}
		out = append(out, kv("num-retained", nr),
			kv("state backend", c.StateBackend),
			kv("checkpoint storage", c.CheckpointStorage),
			kv("checkpoint dir", dir),
			kv("tolerable failures", strconv.Itoa(c.TolerableFailures)),
			kv("changelog", fmt.Sprint(c.ChangelogEnabled)),
		)
	}
	if d := s.defaultSavepointDir(); d != "" {
		out = append(out, kv("savepoint dir (default)", d))
	} else if s.conf != nil {
		out = append(out, kv("savepoint dir (default)", "none configured: savepoints and stops need a target dir"))
	}
	if st := s.stats; st != nil && st.LatestRestored != nil {
		r := st.LatestRestored
		kind := "checkpoint"
		if r.Savepoint {
			kind = "savepoint"
		}
		mode, src := s.claimMode()
		out = append(out, kv("restored from", fmt.Sprintf("#%d, %s %s", r.ID, kind, r.ExternalPath)),
			kv("claim mode", mode+" ("+src+")"),
			kv("snapshot owner", snapshotOwner(mode)))
	}
	out = append(out, "")
	if s.exc == nil || len(s.exc.Entries) == 0 {
		return append(out, th.Column.Render(" EXCEPTIONS")+th.Muted.Render("  none"))
	}
	out = append(out, th.Column.Render(fmt.Sprintf(" EXCEPTIONS (%d, newest first)", len(s.exc.Entries))))
	now := s.ctx.Now()
	for _, e := range s.exc.Entries {
		where := ""
		if e.TaskName != "" {
			where = " · " + text.Sanitize(e.TaskName)
		}
		out = append(out, " "+th.Error.Render(format.Clock(now, e.Time))+where+" · "+text.Sanitize(e.Message()))
	}
	return out
}

func (s *configPane) rows() []string {
	th := s.ctx.Theme
	return []string{s.list.View(func(i int, sel bool) string {
		l := s.configLines()[i]
		if sel {
			return th.Selected.Render(text.Fit(ansi.Strip(l), s.w))
		}
		return text.Fit(l, s.w)
	})}
}

func (s *configPane) listModel() *list.Model { return &s.list }
func (s *configPane) resize(body int)        { s.list.SetHeight(max(body, 1)) }
