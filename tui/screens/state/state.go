// Package state is the TUI's state screen: what an operator's state holds.
// The first level lists an operator's keyed and operator states — name,
// kind, key/namespace/value types, TTL, entry counts (a background scan) —
// and the second a state's entries, a page at a time from the streaming
// reader (snapshot/state), never all of them in memory: "/" filters as the
// entries stream by, f looks one key up reading only its key group, y
// copies a value. Everything goes through storage.FS: local, hdfs://, s3://.
package state

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/snapshot"
	fstate "github.com/ckpt-dev/ckpt/snapshot/state"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/table"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// Open takes "PATH [UID|ID]" (a _metadata file, chk-N or savepoint dir,
// and the operator; without it every operator with state), or, from the
// inspector, routes.StateOf with the decoded _metadata.
func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	s := &Screen{ctx: ctx, id: shell.NewScreenID(), list: list.New(), keys: newKeys(ctx)}
	switch len(req.Args) {
	case 0:
		if _, ok := req.Data.(routes.StateOf); !ok {
			return nil, fmt.Errorf("state takes a path (a _metadata file, chk-N or savepoint dir) and optionally an operator uid or ID")
		}
	case 1:
		s.arg = req.Args[0]
	case 2:
		s.arg, s.opArg = req.Args[0], req.Args[1]
	default:
		return nil, fmt.Errorf("state takes PATH [UID|ID], got %d arguments", len(req.Args))
	}
	if d, ok := req.Data.(routes.StateOf); ok {
		s.meta, s.opArg = d.Metadata, d.Operator
		if s.arg == "" && d.Metadata != nil {
			s.arg = d.Metadata.Location
		}
	}
	return s, nil
}

// opInfo is one operator with state: its schema and counts.
type opInfo struct {
	op      *snapshot.OperatorState
	schema  fstate.OperatorSchema
	name    string // uid, else name, else the short ID
	counts  counts
	counted bool
	err     error // the count's
}

// stateRow is a row: one state of one operator, or an operator's error.
type stateRow struct {
	op    *opInfo
	meta  *fstate.Meta // nil: err is the row
	keyed bool
	err   string
	lower string
}

// Screen is the first level: the states of one operator (or of all).
type Screen struct {
	ctx   *shell.Context
	id    int
	arg   string // as given
	opArg string // the operator asked for
	meta  *snapshot.Metadata
	ops   []*opInfo
	rows  []*stateRow
	list  list.Model
	keys  keys
	w, h  int

	filter    string
	details   bool
	loading   bool
	err       error
	task      shell.TaskID
	countTask shell.TaskID
	counting  bool
}

type keys struct{ Open *shell.Action }

func (k keys) keymap() shell.Keymap { return shell.Keymap{k.Open} }

func newKeys(ctx *shell.Context) keys {
	k := keys{Open: shell.NewAction("state.open", "enter", "entries of the state", "enter", "l", "right")}
	ctx.ApplyKeys(k.keymap())
	return k
}

// Keymap is the first level's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return newKeys(ctx).keymap() }

func (s *Screen) Title() string {
	if s.opArg != "" {
		if len(s.opArg) == 32 {
			return "state " + s.opArg[:8]
		}
		return "state " + text.Sanitize(s.opArg)
	}
	b := storage.Base(s.arg)
	if b == "_metadata" {
		b = storage.Base(storage.Dir(s.arg))
	}
	return "state " + text.Sanitize(b)
}

func (s *Screen) Location() string {
	if s.meta != nil && s.meta.Location != "" {
		return s.meta.Location
	}
	return s.arg
}

func (s *Screen) Keys() shell.Keymap {
	return append(s.keys.keymap(), shell.ListKeymap(s.list.Keys)...)
}

func (s *Screen) SetSize(w, h int) {
	s.w, s.h = w, h
	chrome := 3
	if s.details {
		chrome += detailRows
	}
	s.list.SetHeight(max(h-chrome, 1))
}

// detailRows is the height of the details pane (tab).
const detailRows = 9

func (s *Screen) Close()           { s.ctx.Tasks.Cancel(s.task, s.countTask) }
func (s *Screen) Refresh() tea.Cmd { return s.Init() }

type loadedMsg struct {
	sid  int
	task shell.TaskID
	meta *snapshot.Metadata
	ops  []*opInfo
	err  error
}

type countMsg struct {
	sid   int
	task  shell.TaskID
	op    *opInfo
	c     counts
	final bool
	err   error
	ch    <-chan countMsg
}

type countDoneMsg struct {
	sid  int
	task shell.TaskID
}

// Init reads the _metadata (unless the inspector handed it over) and the
// heads of the operator's state files: the schema. Counts follow.
func (s *Screen) Init() tea.Cmd {
	s.ctx.Tasks.Cancel(s.task, s.countTask)
	s.loading, s.err, s.ops, s.rows, s.counting = true, nil, nil, nil, false
	s.list.SetLen(0)
	id, tctx := s.ctx.Tasks.Start("reading the state of "+s.arg, 0)
	s.task = id
	fsys, timeout, sid, uri, meta, opArg := s.ctx.FS, s.ctx.Timeout, s.id, s.arg, s.meta, s.opArg
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		msg := loadedMsg{sid: sid, task: id, meta: meta}
		if msg.meta == nil {
			if msg.meta, msg.err = snapshot.Read(cctx, fsys, uri); msg.err != nil {
				return msg
			}
		}
		ops := msg.meta.Operators
		if opArg != "" {
			op, err := msg.meta.LookupOperator(opArg)
			if err != nil {
				msg.err = err
				return msg
			}
			ops = []*snapshot.OperatorState{op}
		}
		m := *msg.meta
		m.Operators = ops
		// The schema ckpt state prints: with ckpt's engine state read in
		// its own format, entries and bytes included.
		for i, sc := range fstate.ReadSchemaWithStats(cctx, fsys, &m) {
			if sc.Keyed == nil && sc.Operator == nil && len(sc.Errors) == 0 && opArg == "" {
				continue // stateless: nothing to show
			}
			msg.ops = append(msg.ops, &opInfo{op: ops[i], schema: sc, name: opName(sc)})
		}
		return msg
	}
}

func opName(sc fstate.OperatorSchema) string {
	switch {
	case sc.UID != "":
		return sc.UID
	case sc.Name != "":
		return sc.Name
	}
	return ""
}

// short is the operator as the OPERATOR column names it.
func (o *opInfo) short() string {
	if o.name != "" {
		return o.name
	}
	return o.schema.ID[:8]
}

// count scans every operator's state in one command, reporting progress
// through a channel; the scan stops when the screen goes (its task is
// cancelled).
func (s *Screen) count() tea.Cmd {
	id, tctx := s.ctx.Tasks.StartQuiet("counting entries", 0)
	s.countTask, s.counting = id, true
	fsys, m, sid, ops := s.ctx.FS, s.meta, s.id, s.ops
	// The scan runs in a goroutine the command starts (not Update), and
	// reports through a channel the following commands wait on.
	return func() tea.Msg {
		ch := make(chan countMsg)
		go func() {
			defer close(ch)
			send := func(msg countMsg) bool {
				select {
				case ch <- msg:
					return true
				case <-tctx.Done():
					return false
				}
			}
			for _, o := range ops {
				keyed, oper := o.schema.Keyed != nil, o.schema.Operator != nil
				if !keyed && !oper {
					continue
				}
				c, err := countOperator(tctx, fsys, m, o.op, keyed, oper, o.schema.Stats, func(c counts) {
					send(countMsg{sid: sid, task: id, op: o, c: c})
				})
				if !send(countMsg{sid: sid, task: id, op: o, c: c, final: true, err: err}) {
					return
				}
			}
		}()
		return waitCount(sid, id, ch)()
	}
}

func waitCount(sid int, task shell.TaskID, ch <-chan countMsg) tea.Cmd {
	return func() tea.Msg {
		msg, ok := <-ch
		if !ok {
			return countDoneMsg{sid: sid, task: task}
		}
		msg.ch = ch
		return msg
	}
}

func (s *Screen) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case loadedMsg:
		if msg.sid != s.id || msg.task != s.task {
			return s, nil
		}
		s.loading = false
		s.ctx.Tasks.Done(msg.task, msg.err)
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		s.meta, s.ops = msg.meta, msg.ops
		s.buildRows()
		return s, s.count()
	case countMsg:
		if msg.sid != s.id || msg.task != s.countTask {
			return s, nil
		}
		msg.op.counts = msg.c
		if msg.final {
			msg.op.counted, msg.op.err = true, msg.err
		}
		return s, waitCount(msg.sid, msg.task, msg.ch)
	case countDoneMsg:
		if msg.sid == s.id && msg.task == s.countTask {
			s.counting = false
			s.ctx.Tasks.Done(msg.task, nil)
		}
		return s, nil
	case tea.KeyPressMsg:
		if s.list.Update(msg) {
			return s, nil
		}
		switch {
		case shell.KeyMatches(msg, s.ctx.Global.NextPane):
			s.details = !s.details
			s.SetSize(s.w, s.h)
		case shell.KeyMatches(msg, s.keys.Open):
			if r := s.selected(); r != nil && r.meta != nil {
				return s, shell.Push(newEntries(s.ctx, s, r))
			}
		}
	case tea.MouseWheelMsg:
		s.list.Update(msg)
	}
	return s, nil
}

func (s *Screen) buildRows() {
	s.rows = nil
	for _, o := range s.ops {
		if p := o.schema.Keyed; p != nil {
			for _, m := range p.States {
				s.rows = append(s.rows, &stateRow{op: o, meta: m, keyed: true})
			}
		}
		if p := o.schema.Operator; p != nil {
			for _, m := range append(append([]*fstate.Meta{}, p.States...), p.Broadcast...) {
				s.rows = append(s.rows, &stateRow{op: o, meta: m})
			}
		}
		for _, e := range o.schema.Errors {
			s.rows = append(s.rows, &stateRow{op: o, err: e})
		}
		if o.schema.Keyed == nil && o.schema.Operator == nil && len(o.schema.Errors) == 0 {
			s.rows = append(s.rows, &stateRow{op: o, err: "no state"})
		}
	}
	for _, r := range s.rows {
		name := r.err
		if r.meta != nil {
			name = r.meta.Name + " " + r.meta.Kind()
		}
		r.lower = strings.ToLower(r.op.name + " " + r.op.schema.ID + " " + name)
	}
	s.list.SetLen(len(s.rows))
	s.list.FilterText(s.filter, func(i int) string { return s.rows[i].lower })
}

// SetFilter narrows the states by name, kind and operator.
func (s *Screen) SetFilter(f string) {
	s.filter = f
	s.list.FilterText(f, func(i int) string { return s.rows[i].lower })
}

// Count is what the "/" filter shows of the states.
func (s *Screen) Count() (shown, total int) { return s.list.Len(), s.list.Total() }

func (s *Screen) selected() *stateRow {
	i, ok := s.list.Selected()
	if !ok || i >= len(s.rows) {
		return nil
	}
	return s.rows[i]
}

// CopyText is the selected state's name.
func (s *Screen) CopyText() string {
	if r := s.selected(); r != nil && r.meta != nil {
		return r.meta.Name
	}
	return ""
}

func (s *Screen) Status() string {
	if s.err != nil {
		return "failed"
	}
	n := 0
	for _, r := range s.rows {
		if r.meta != nil {
			n++
		}
	}
	st := text.Plural(n, "state")
	if len(s.ops) > 1 {
		st += " in " + text.Plural(len(s.ops), "operator")
	}
	if s.counting {
		st += " · counting entries"
	}
	return st
}

func typeName(t *fstate.Type) string {
	if t == nil {
		return "-"
	}
	return t.String()
}

// entries is the row's entry count as far as known: "…" before the scan
// reports, a trailing "…" while it runs, "?" when it failed.
func (r *stateRow) entries() string {
	if r.meta == nil {
		return ""
	}
	m := r.op.counts.oper
	if r.keyed {
		m = r.op.counts.keyed
	}
	n, seen := m[r.meta.Name]
	switch {
	case r.op.counted && r.op.err != nil:
		if seen {
			return text.Count(int(n)) + "?"
		}
		return "?"
	case r.op.counted:
		return text.Count(int(n))
	case seen:
		return text.Count(int(n)) + "…"
	}
	return "…"
}

// bytes is the row's bytes as far as known (keyed state: key and value
// as serialized), with entries()'s marks; operator state has none ("—").
func (r *stateRow) bytes() string {
	if r.meta == nil {
		return ""
	}
	if !r.keyed {
		return "—"
	}
	n, seen := r.op.counts.bytes[r.meta.Name]
	switch {
	case r.op.counted && r.op.err != nil:
		if seen {
			return text.Bytes(n) + "?"
		}
		return "?"
	case r.op.counted:
		return text.Bytes(n)
	case seen:
		return text.Bytes(n) + "…"
	}
	return "…"
}

// valueText is the value type, or what a known connector's state holds.
func (r *stateRow) valueText() string {
	if n := r.op.counts.kafka[r.meta.Name]; n > 0 && !r.keyed {
		return fmt.Sprintf("Kafka offsets: %s", text.Plural(n, "partition"))
	}
	return typeName(r.meta.Serializers[fstate.RoleValue])
}

func (s *Screen) columns() []table.Col {
	cols := []table.Col{}
	if len(s.ops) > 1 {
		w := 12
		if s.w >= 120 {
			w = 24
		}
		cols = append(cols, table.Col{Title: "OPERATOR", Width: w})
	}
	kind := 11
	if s.w >= 120 {
		kind = 16 // SPLIT_DISTRIBUTE
	}
	cols = append(cols, table.Col{Title: "STATE", Flex: true}, table.Col{Title: "KIND", Width: kind})
	if s.w >= 120 {
		cols = append(cols, table.Col{Title: "KEY", Width: 18}, table.Col{Title: "NAMESPACE", Width: 14})
	}
	cols = append(cols, table.Col{Title: "VALUE", Flex: true})
	if s.w >= 120 {
		cols = append(cols, table.Col{Title: "TTL", Width: 3})
	}
	cols = append(cols, table.Col{Title: "ENTRIES", Width: 9, Right: true}, table.Col{Title: "BYTES", Width: 10, Right: true})
	return table.Layout(cols, s.w)
}

func (s *Screen) row(r *stateRow, sel bool, cols []table.Col) string {
	th := s.ctx.Theme
	var vals []string
	if len(s.ops) > 1 {
		vals = append(vals, text.Sanitize(r.op.short()))
	}
	if r.meta == nil {
		// An error takes the row's whole width (tab shows all of it).
		line := text.Sanitize(r.err)
		if r.err != "no state" {
			line = "✗ cannot read: " + line
		}
		if len(vals) > 0 {
			line = table.Cells(cols[:1], vals...) + " " + line
		}
		if sel {
			return th.Selected.Render(text.Fit("> "+line, s.w))
		}
		if r.err == "no state" {
			return "  " + th.Muted.Render(text.Fit(line, s.w-2))
		}
		return "  " + th.Error.Render(text.Fit(line, s.w-2))
	}
	m := r.meta
	ttl := ""
	if m.TTL() {
		ttl = "yes"
	}
	key := "-"
	if r.keyed {
		key = typeName(r.op.schema.Keyed.Key)
	}
	vals = append(vals, text.Sanitize(m.Name), m.Kind())
	if s.w >= 120 {
		vals = append(vals, key, typeName(m.Serializers[fstate.RoleNamespace]))
	}
	vals = append(vals, text.Sanitize(r.valueText()))
	if s.w >= 120 {
		vals = append(vals, ttl)
	}
	vals = append(vals, r.entries(), r.bytes())
	line := table.Cells(cols, vals...)
	if sel {
		return th.Selected.Render(text.Fit("> "+line, s.w))
	}
	return "  " + line
}

func (s *Screen) View() string {
	th := s.ctx.Theme
	if s.err != nil {
		var out []string
		for _, l := range text.Wrap("✗ "+text.Sanitize(s.err.Error()), s.w-2, 6) {
			out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
		}
		return strings.Join(append(out, th.Muted.Render(text.Fit(" ctrl+r retries · esc goes back", s.w))), "\n")
	}
	if s.loading {
		return th.Muted.Render(text.Fit(" "+s.ctx.Spinner()+" reading the state heads of "+text.Sanitize(s.arg)+" …", s.w))
	}
	var l1 string
	if len(s.ops) == 1 {
		o := s.ops[0]
		name := o.name
		if name == "" {
			name = "no uid recorded"
		}
		l1 = fmt.Sprintf(" operator %s · %s · par %d · maxp %d", o.schema.ID, text.Sanitize(name), o.schema.Parallelism, o.schema.MaxParallel)
	} else {
		l1 = fmt.Sprintf(" %s with state · %s", text.Plural(len(s.ops), "operator"), text.Sanitize(s.Location()))
	}
	l2 := " entries and bytes: counted by a scan of every state file"
	if s.counting {
		l2 = " " + s.ctx.Spinner() + " counting entries and bytes (a scan of every state file; … until done) · enter opens a state now"
	} else if len(s.ops) == 1 && s.ops[0].schema.KeyedFormat != "" {
		l2 = " keyed: " + s.ops[0].schema.KeyedFormat
	}
	if r := s.selected(); r != nil && r.meta == nil && r.err != "no state" && !s.details {
		l2 = " tab shows the whole message"
	}
	cols := s.columns()
	out := []string{th.Title.Render(text.Fit(l1, s.w)), th.Muted.Render(text.Fit(l2, s.w)),
		th.Column.Render(text.Fit("  "+table.Cells(cols, table.Headings(cols)...), s.w))}
	if len(s.rows) == 0 {
		out = append(out, th.Muted.Render(text.Fit("  (no operator with state)", s.w)))
	} else {
		out = append(out, s.list.View(func(i int, sel bool) string { return s.row(s.rows[i], sel, cols) }))
	}
	view := strings.Join(out, "\n")
	if s.details {
		lines := strings.Split(view, "\n")
		for len(lines) < s.h-detailRows {
			lines = append(lines, "")
		}
		view = strings.Join(append(lines[:s.h-detailRows], s.detailPane()...), "\n")
	}
	return view
}

// detailPane shows the selected state's types in full (tab).
func (s *Screen) detailPane() []string {
	th := s.ctx.Theme
	out := []string{th.Border.Render(strings.Repeat("─", max(s.w, 1)))}
	line := func(k, v string) string {
		return text.Fit(" "+th.Muted.Render(text.Fit(k, 11))+text.Sanitize(v), s.w)
	}
	r := s.selected()
	switch {
	case r == nil:
		out = append(out, th.Muted.Render(text.Fit(" no state selected", s.w)))
	case r.meta == nil:
		for _, l := range text.Wrap(text.Sanitize(r.err), s.w-2, detailRows-1) {
			out = append(out, th.Error.Render(text.Fit(" "+l, s.w)))
		}
	default:
		m := r.meta
		ttl := "no"
		if m.TTL() {
			ttl = "yes (values carry their last access time)"
		}
		what := "operator state (" + m.Kind() + ")"
		key := "-"
		if r.keyed {
			what = "keyed state (" + m.Kind() + "), " + r.op.schema.KeyedFormat
			key = typeName(r.op.schema.Keyed.Key)
		}
		entries := r.entries()
		if r.op.err != nil {
			entries += " — the count stopped: " + r.op.err.Error()
		}
		out = append(out,
			line("state", m.Name+" · operator "+r.op.schema.ID+" "+r.op.name),
			line("kind", what),
			line("key", key),
			line("namespace", typeName(m.Serializers[fstate.RoleNamespace])),
			line("value", r.valueText()+valueClass(m)),
			line("TTL", ttl),
			line("entries", entries),
			line("bytes", bytesText(r)))
	}
	for len(out) < detailRows {
		out = append(out, "")
	}
	return out[:detailRows]
}

// bytesText is the details pane's bytes: what they count.
func bytesText(r *stateRow) string {
	if !r.keyed {
		return "— (operator state: its elements are not sized one by one)"
	}
	return r.bytes() + " (keys and values as serialized, before compression)"
}

// valueClass adds the value serializer's class when its type name hides
// it (Kryo, Java serialization, custom serializers).
func valueClass(m *fstate.Meta) string {
	t := m.Serializers[fstate.RoleValue]
	if t == nil || t.Class == "" || strings.Contains(t.String(), t.Class) {
		return ""
	}
	return " (" + t.Class + ")"
}
