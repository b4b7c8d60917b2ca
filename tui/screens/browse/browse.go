// Package browse lists local or hdfs:// snapshot storage: job dirs,
// chk-N with their sizes, savepoints, du; deletes with confirmation.
package browse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/snapshot"
	"github.com/ckpt-dev/ckpt/storage"
	"github.com/ckpt-dev/ckpt/tui/components/form"
	"github.com/ckpt-dev/ckpt/tui/components/format"
	"github.com/ckpt-dev/ckpt/tui/components/layout"
	"github.com/ckpt-dev/ckpt/tui/components/list"
	"github.com/ckpt-dev/ckpt/tui/components/text"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

func Open(ctx *shell.Context, req shell.Request) (shell.Screen, error) {
	args := req.Args
	uri := ""
	switch len(args) {
	case 0:
		uri = ctx.Config.Paths.Start
		if uri == "" {
			uri = "."
		}
	case 1:
		uri = args[0]
	default:
		return nil, fmt.Errorf("browse takes one URI, got %d arguments", len(args))
	}
	return newBrowse(ctx, uri)
}

type entry struct {
	info     storage.FileInfo
	name     string // sanitised for drawing
	lower    string // for filtering
	kind     layout.Kind
	chkID    int64
	complete format.Tri // has _metadata (snapshot dirs only)
	size     int64      // du for dirs (-1 unknown), file size for files
	// sizes of a complete chk-N (nil until read): checkpointed delta, full
	// logical size, and measured on disk with the shared files it uses.
	sizes *inspector.Sizes
	busy  bool // a du or probe is running for it
}

func (e *entry) dirFirstLess(o *entry) bool {
	if e.info.IsDir != o.info.IsDir {
		return e.info.IsDir
	}
	// The order of `ckpt ls`: by name, chk-N by N, newest first.
	return snapshot.CompareEntryNames(e.info.Name, o.info.Name) < 0
}

// Browse lists one directory of local disk or HDFS. Listing is streamed page
// by page; a chk-N or savepoint dir is checked for _metadata; a job dir
// (one holding chk-N) gets per-checkpoint size, age, completeness and the
// shared bytes each checkpoint references.
type Browse struct {
	ctx     *shell.Context
	id, gen int
	uri     string
	entries []*entry
	list    list.Model
	filter  string
	keys    browseKeys
	w, h    int

	listTask shell.TaskID
	listing  bool
	loadedAt time.Time
	err      error
	tasks    []shell.TaskID

	jobDir bool
	// snapDirs: the listing holds snapshot dirs (chk-N, savepoint-…),
	// whose checkpointed and full sizes get columns.
	snapDirs bool
	confirm  *entry // delete awaiting "y"
	cp       copyState
	probed   bool
	duAllRun bool
}

type browseKeys struct {
	Open, Into, Parent, Inspect, Du, DuAll, Mark, Savepoints, Leaks, Copy, CancelCopy, Delete *shell.Action
}

func (k browseKeys) keymap() shell.Keymap {
	return shell.Keymap{k.Open, k.Into, k.Parent, k.Inspect, k.Du, k.DuAll, k.Mark, k.Savepoints, k.Leaks, k.Copy, k.CancelCopy, k.Delete}
}

func newBrowseKeys(ctx *shell.Context) browseKeys {
	k := browseKeys{
		Open:    shell.NewAction("browse.open", "enter", "open (inspect a snapshot)", "enter"),
		Into:    shell.NewAction("browse.into", "l/→", "into directory", "l", "right"),
		Parent:  shell.NewAction("browse.parent", "h/←", "parent directory", "h", "left", "backspace"),
		Inspect: shell.NewAction("browse.inspect", "i", "inspect _metadata", "i"),
		Du:      shell.NewAction("browse.du", "u", "disk usage of selection", "u"),
		DuAll:   shell.NewAction("browse.du-all", "U", "disk usage of every entry", "U"),
		Mark:    shell.NewAction("browse.mark", "m", "mark for diff / diff with mark", "m"),
		// The storage reports of this directory (report and preview only;
		// disposing is the savepoints screen's, marked dangerous there).
		Savepoints: shell.NewAction("browse.savepoints", "S", "savepoints under this directory", "S"),
		Leaks:      shell.NewAction("browse.leaks", "L", "leak report of this job dir", "L"),
		// ckpt cp of the selection: it writes to storage (a new place).
		Copy:       shell.NewAction("browse.copy", "c", "copy selection elsewhere (ckpt cp), confirmed", "c").Danger(),
		CancelCopy: shell.NewAction("browse.copy-cancel", "x", "cancel the running copy", "x").Danger(),
		Delete:     shell.NewAction("browse.delete", "D", "delete snapshot", "D").Danger(),
	}
	ctx.ApplyKeys(k.keymap())
	return k
}

// newBrowse opens a browser at uri. It does no I/O (Init starts the listing).
func newBrowse(ctx *shell.Context, uri string) (*Browse, error) {
	loc, err := storage.Parse(uri)
	if err != nil {
		return nil, err
	}
	if loc.Scheme == "" && !filepath.IsAbs(loc.Path) {
		// An absolute path keeps "parent" meaningful and the header clear.
		if abs, err := filepath.Abs(loc.Path); err == nil {
			uri = abs
		}
	}
	b := &Browse{ctx: ctx, id: shell.NewScreenID(), uri: uri, list: list.New(), keys: newBrowseKeys(ctx)}
	return b, nil
}

func (b *Browse) Title() string {
	name := storage.Base(b.uri)
	if name == "" || name == "/" || name == "." {
		return b.uri
	}
	return name
}

func (b *Browse) Location() string { return b.uri }

func (b *Browse) Keys() shell.Keymap {
	km := b.keys.keymap()
	return append(km, shell.ListKeymap(b.list.Keys)...)
}

func (b *Browse) SetSize(w, h int) {
	b.w, b.h = w, h
	b.list.SetHeight(b.listHeight())
}

func (b *Browse) listHeight() int {
	h := b.h - 1 // column headings
	if b.jobDir {
		h-- // job summary line
	}
	return max(h, 1)
}

func (b *Browse) Init() tea.Cmd { return b.load() }

// Refresh lists the directory again.
func (b *Browse) Refresh() tea.Cmd { return b.load() }

func (b *Browse) Close() {
	b.ctx.Tasks.Cancel(b.tasks...)
	b.ctx.Tasks.Cancel(b.cp.planTask, b.cp.task) // a copy stops with its screen
	if b.listing {
		b.ctx.Tasks.Cancel(b.listTask)
	}
}

type listPageMsg struct {
	sid, gen int
	lister   storage.Lister
	ctx      context.Context
	page     []storage.FileInfo
	err      error
	done     bool
}

func (b *Browse) load() tea.Cmd {
	if b.listing {
		b.ctx.Tasks.Cancel(b.listTask)
	}
	b.ctx.Tasks.Cancel(b.tasks...)
	b.tasks = nil
	b.gen++
	b.entries = b.entries[:0]
	b.list.SetLen(0)
	b.err = nil
	b.jobDir, b.snapDirs, b.probed, b.duAllRun = false, false, false, false
	b.listing = true
	id, tctx := b.ctx.Tasks.Start("listing "+b.uri, 0)
	b.listTask = id
	sid, gen, fsys, uri, timeout := b.id, b.gen, b.ctx.FS, b.uri, b.ctx.Timeout
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		l, err := fsys.List(cctx, uri)
		if err != nil {
			return listPageMsg{sid: sid, gen: gen, err: err, done: true}
		}
		return nextPage(tctx, sid, gen, l, timeout)
	}
}

// nextPage reads one page; each page is bounded by the timeout on its own,
// so a huge but healthy listing is not cut short.
func nextPage(tctx context.Context, sid, gen int, l storage.Lister, timeout time.Duration) tea.Msg {
	cctx, cancel := shell.WithTimeout(tctx, timeout)
	defer cancel()
	page, err := l.Next(cctx)
	if errors.Is(err, io.EOF) {
		l.Close()
		return listPageMsg{sid: sid, gen: gen, page: page, done: true}
	}
	if err != nil {
		l.Close()
		return listPageMsg{sid: sid, gen: gen, page: page, err: err, done: true}
	}
	return listPageMsg{sid: sid, gen: gen, page: page, lister: l, ctx: tctx}
}

func (b *Browse) Update(msg tea.Msg) (shell.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case listPageMsg:
		if msg.sid != b.id {
			return b, nil
		}
		if msg.gen != b.gen {
			if msg.lister != nil {
				msg.lister.Close()
			}
			return b, nil
		}
		return b, b.onPage(msg)
	case probeMsg:
		if msg.sid == b.id && msg.gen == b.gen {
			return b, b.onProbe(msg)
		}
		return b, nil
	case probeDoneMsg:
		if msg.sid == b.id {
			b.ctx.Tasks.Done(msg.task, nil)
		}
		return b, nil
	case duMsg:
		if msg.sid == b.id {
			return b, b.onDu(msg)
		}
		return b, nil
	case deleteMsg:
		if msg.sid == b.id {
			b.ctx.Tasks.Done(msg.task, msg.err)
			if msg.err != nil {
				return b, shell.Toast("delete failed: "+msg.err.Error(), true)
			}
			return b, tea.Batch(shell.Toast("disposed "+msg.uri+": "+msg.res.Summary(), len(msg.res.Left) > 0), b.load())
		}
		return b, nil
	case copyPlanMsg, copyProgressMsg, copyDoneMsg:
		if sidOf(msg) == b.id {
			return b, b.onCopyMsg(msg)
		}
		return b, nil
	case tea.PasteMsg:
		if b.cp.prompt != nil {
			_, cmd := b.cp.prompt.Update(msg)
			return b, cmd
		}
	case tea.KeyPressMsg:
		return b, b.key(msg)
	case tea.MouseWheelMsg:
		b.list.Update(msg)
	}
	return b, nil
}

// sidOf is the screen a copy message belongs to.
func sidOf(msg tea.Msg) int {
	switch m := msg.(type) {
	case copyPlanMsg:
		return m.sid
	case copyProgressMsg:
		return m.sid
	case copyDoneMsg:
		return m.sid
	}
	return 0
}

// Capturing is true while a delete confirmation waits for y/n, or the
// copy's prompt or confirmation is open.
func (b *Browse) Capturing() bool { return b.confirm != nil || b.cp.prompt != nil || b.cp.plan != nil }

func (b *Browse) onPage(msg listPageMsg) tea.Cmd {
	if len(msg.page) > 0 {
		b.merge(msg.page)
	}
	if !msg.done {
		b.ctx.Tasks.Relabel(b.listTask, fmt.Sprintf("listing %s: %s entries", b.uri, text.Count(len(b.entries))))
		sid, gen, l, tctx, timeout := b.id, b.gen, msg.lister, msg.ctx, b.ctx.Timeout
		return func() tea.Msg { return nextPage(tctx, sid, gen, l, timeout) }
	}
	b.listing = false
	b.err = msg.err
	b.ctx.Tasks.Done(b.listTask, msg.err)
	b.loadedAt = b.ctx.Now()
	return b.probe()
}

func (b *Browse) merge(page []storage.FileInfo) {
	add := make([]*entry, 0, len(page))
	for _, fi := range page {
		k, n := layout.Classify(fi.Name, fi.IsDir)
		e := &entry{info: fi, name: text.Sanitize(fi.Name), kind: k, chkID: n, size: -1}
		e.lower = strings.ToLower(e.name)
		if !fi.IsDir {
			e.size = fi.Size
		}
		if k == layout.KindCheckpoint {
			b.jobDir = true
		}
		if k.SnapshotDir() {
			b.snapDirs = true
		}
		add = append(add, e)
	}
	sort.Slice(add, func(i, j int) bool { return add[i].dirFirstLess(add[j]) })
	// Merge two sorted runs: O(n) per page instead of re-sorting everything.
	var selName string
	if i, ok := b.list.Selected(); ok && i < len(b.entries) {
		selName = b.entries[i].info.Name
	}
	out := make([]*entry, 0, len(b.entries)+len(add))
	i, j := 0, 0
	for i < len(b.entries) && j < len(add) {
		if add[j].dirFirstLess(b.entries[i]) {
			out = append(out, add[j])
			j++
		} else {
			out = append(out, b.entries[i])
			i++
		}
	}
	out = append(append(out, b.entries[i:]...), add[j:]...)
	b.entries = out
	b.list.SetLen(len(out))
	b.list.SetHeight(b.listHeight())
	if b.filter != "" {
		b.applyFilter()
	}
	if selName != "" {
		for k, e := range b.entries {
			if e.info.Name == selName {
				b.list.Select(k)
				break
			}
		}
	}
}

// SetFilter narrows the listing to names containing text (case-insensitive).
func (b *Browse) SetFilter(s string) {
	b.filter = strings.ToLower(s)
	b.applyFilter()
}

func (b *Browse) applyFilter() {
	b.list.FilterText(b.filter, func(i int) string { return b.entries[i].lower })
}

func (b *Browse) selected() *entry {
	i, ok := b.list.Selected()
	if !ok || i >= len(b.entries) {
		return nil
	}
	return b.entries[i]
}

// CopyText is the selected entry's URI (or the directory's).
func (b *Browse) CopyText() string {
	if e := b.selected(); e != nil {
		return e.info.URI
	}
	return b.uri
}

func (b *Browse) key(msg tea.KeyPressMsg) tea.Cmd {
	if b.confirm != nil {
		e := b.confirm
		b.confirm = nil
		if msg.String() == "y" || msg.String() == "Y" {
			return b.delete(e)
		}
		return shell.Toast("delete cancelled", false)
	}
	if cmd, ok := b.copyKey(msg); ok {
		return cmd
	}
	if b.list.Update(msg) {
		return nil
	}
	k := b.keys
	e := b.selected()
	switch {
	case shell.KeyMatches(msg, k.Parent):
		return b.parent()
	case shell.KeyMatches(msg, k.Into):
		if e != nil && e.info.IsDir {
			return b.into(e)
		}
	case shell.KeyMatches(msg, k.Open):
		if e == nil {
			return nil
		}
		if e.kind == layout.KindMetadata || (e.kind.SnapshotDir() && e.complete == format.Yes) {
			return shell.OpenScreen("inspect", e.info.URI)
		}
		if e.info.IsDir {
			return b.into(e)
		}
		return shell.Toast(e.name+" is not a snapshot (_metadata, chk-N or savepoint dir)", true)
	case shell.KeyMatches(msg, k.Inspect):
		if e == nil {
			return nil
		}
		if e.kind == layout.KindMetadata || e.info.IsDir {
			return shell.OpenScreen("inspect", e.info.URI)
		}
		return shell.OpenScreen("inspect", b.uri)
	case shell.KeyMatches(msg, k.Du):
		if e != nil {
			return b.du(e)
		}
	case shell.KeyMatches(msg, k.DuAll):
		return b.duAll()
	case shell.KeyMatches(msg, k.Mark):
		if e == nil {
			return nil
		}
		if b.ctx.Marked == "" || b.ctx.Marked == e.info.URI {
			b.ctx.Marked = e.info.URI
			return shell.Toast("marked "+e.name+" — press m on another snapshot to diff", false)
		}
		a := b.ctx.Marked
		b.ctx.Marked = ""
		return shell.OpenScreen("diff", a, e.info.URI)
	case shell.KeyMatches(msg, k.Savepoints):
		return shell.OpenScreen("savepoints", b.uri)
	case shell.KeyMatches(msg, k.Leaks):
		uri := b.uri
		if !b.jobDir && e != nil && e.kind == layout.KindJob {
			uri = e.info.URI // a job dir selected in the checkpoint root
		} else if !b.jobDir {
			return shell.Toast("L reports on a job dir (<checkpoint-dir>/<job-id>): open one, or select it", true)
		}
		return shell.OpenScreen("leaks", uri)
	case shell.KeyMatches(msg, k.Copy):
		return b.startCopy(e)
	case shell.KeyMatches(msg, k.CancelCopy):
		return b.cancelCopy()
	case shell.KeyMatches(msg, k.Delete):
		if e != nil {
			b.confirm = e
		}
	}
	return nil
}

func (b *Browse) into(e *entry) tea.Cmd {
	nb, err := newBrowse(b.ctx, e.info.URI)
	if err != nil {
		return shell.Toast(err.Error(), true)
	}
	return shell.Push(nb)
}

func (b *Browse) parent() tea.Cmd {
	p := storage.Dir(b.uri)
	if p == b.uri || p == "" {
		return nil
	}
	nb, err := newBrowse(b.ctx, p)
	if err != nil {
		return shell.Toast(err.Error(), true)
	}
	return shell.Replace(nb)
}

// probe checks snapshot dirs for _metadata and, in a job dir, sizes each
// checkpoint and the shared bytes it references. Results arrive entry by
// entry so the table fills in as they come.
func (b *Browse) probe() tea.Cmd {
	if b.probed {
		return nil
	}
	b.probed = true
	var targets []*entry
	for _, e := range b.entries {
		if e.kind.SnapshotDir() {
			e.busy = true
			targets = append(targets, e)
		}
	}
	if len(targets) == 0 {
		return nil
	}
	const maxProbe = 2000 // a directory of more snapshots than this gets probed on demand (u)
	if len(targets) > maxProbe {
		targets = targets[:maxProbe]
	}
	label := fmt.Sprintf("checking %d snapshot dirs", len(targets))
	id, tctx := b.ctx.Tasks.Start(label, 0)
	b.tasks = append(b.tasks, id)
	fsys, timeout, sid, gen, job := b.ctx.FS, b.ctx.Timeout, b.id, b.gen, b.jobDir
	uris := make([]string, len(targets))
	for i, e := range targets {
		uris[i] = e.info.URI
	}
	// One command per batch keeps ordering simple and the NameNode calm; the
	// results come back through a channel-free loop of commands.
	return probeBatch(tctx, id, fsys, timeout, sid, gen, uris, 0, job)
}

type probeMsg struct {
	sid, gen int
	uri      string
	complete format.Tri
	size     int64
	sizes    *inspector.Sizes
	err      error
	next     tea.Cmd
}

type probeDoneMsg struct {
	sid  int
	task shell.TaskID
}

func probeBatch(tctx context.Context, task shell.TaskID, fsys storage.FS, timeout time.Duration, sid, gen int, uris []string, i int, job bool) tea.Cmd {
	if i >= len(uris) {
		return func() tea.Msg { return probeDoneMsg{sid: sid, task: task} }
	}
	return func() tea.Msg {
		uri := uris[i]
		m := probeMsg{sid: sid, gen: gen, uri: uri, size: -1}
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		if tctx.Err() != nil {
			return probeDoneMsg{sid: sid, task: task}
		}
		meta := storage.Join(uri, "_metadata")
		if _, err := fsys.Stat(cctx, meta); err == nil {
			m.complete = format.Yes
		} else if storage.IsNotExist(err) {
			m.complete = format.No
		} else {
			m.err = err
		}
		if job && m.err == nil {
			if u, err := storage.DiskUsage(cctx, fsys, uri); err == nil {
				m.size = u.Bytes
			}
			if m.complete == format.Yes {
				// One piece for the three sizes: the inspector's, as
				// `ckpt inspect` and the inspect screen show them.
				if r, err := inspector.Inspect(cctx, fsys, meta, inspector.Options{CheckFiles: true}); err == nil {
					m.sizes = &r.Sizes
				}
			}
		} else if m.complete == format.Yes {
			// Outside a job dir (savepoints): the two sizes from the
			// _metadata alone, as the savepoints screen shows them.
			if md, err := snapshot.Read(cctx, fsys, meta); err == nil {
				sz := inspector.SizesOf(md)
				m.sizes = &inspector.Sizes{Checkpointed: sz.Checkpointed, Full: sz.Full, OnDisk: -1}
			}
		}
		m.next = probeBatch(tctx, task, fsys, timeout, sid, gen, uris, i+1, job)
		return m
	}
}

func (b *Browse) find(uri string) *entry {
	for _, e := range b.entries {
		if e.info.URI == uri {
			return e
		}
	}
	return nil
}

func (b *Browse) onProbe(m probeMsg) tea.Cmd {
	if e := b.find(m.uri); e != nil {
		e.busy = false
		e.complete = m.complete
		if m.size >= 0 {
			e.size = m.size
		}
		e.sizes = m.sizes
	}
	return m.next
}

type duMsg struct {
	sid   int
	task  shell.TaskID
	uri   string
	usage storage.Usage
	err   error
	next  tea.Cmd
}

func (b *Browse) du(e *entry) tea.Cmd {
	if !e.info.IsDir {
		return shell.Toast(fmt.Sprintf("%s: %s", e.name, text.Bytes(e.info.Size)), false)
	}
	e.busy = true
	id, tctx := b.ctx.Tasks.Start("du "+e.info.URI, 0)
	b.tasks = append(b.tasks, id)
	return duCmd(tctx, id, b.ctx.FS, b.ctx.Timeout, b.id, []string{e.info.URI}, 0)
}

func (b *Browse) duAll() tea.Cmd {
	var uris []string
	for _, e := range b.entries {
		if e.info.IsDir {
			e.busy = true
			uris = append(uris, e.info.URI)
		}
	}
	if len(uris) == 0 {
		return nil
	}
	id, tctx := b.ctx.Tasks.Start("du of "+text.Plural(len(uris), "directory", "directories"), 0)
	b.tasks = append(b.tasks, id)
	return duCmd(tctx, id, b.ctx.FS, b.ctx.Timeout, b.id, uris, 0)
}

func duCmd(tctx context.Context, task shell.TaskID, fsys storage.FS, timeout time.Duration, sid int, uris []string, i int) tea.Cmd {
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		u, err := storage.DiskUsage(cctx, fsys, uris[i])
		m := duMsg{sid: sid, task: task, uri: uris[i], usage: u, err: err}
		if i+1 < len(uris) && tctx.Err() == nil {
			m.next = duCmd(tctx, task, fsys, timeout, sid, uris, i+1)
		}
		return m
	}
}

func (b *Browse) onDu(m duMsg) tea.Cmd {
	if e := b.find(m.uri); e != nil {
		e.busy = false
		if m.err == nil {
			e.size = m.usage.Bytes
		}
	}
	if m.next == nil || m.err != nil {
		b.ctx.Tasks.Done(m.task, m.err)
		if m.err != nil {
			for _, e := range b.entries {
				e.busy = false
			}
		}
		return nil
	}
	return m.next
}

type deleteMsg struct {
	sid  int
	task shell.TaskID
	uri  string
	res  snapshot.Disposal
	err  error
}

func (b *Browse) delete(e *entry) tea.Cmd {
	if b.ctx.Readonly {
		return shell.Toast("read-only mode: delete is disabled", true)
	}
	id, tctx := b.ctx.Tasks.Start("deleting "+e.info.URI, 0)
	fsys, timeout, sid, uri := b.ctx.FS, b.ctx.Timeout, b.id, e.info.URI
	return func() tea.Msg {
		cctx, cancel := shell.WithTimeout(tctx, timeout)
		defer cancel()
		// The one disposal rule: only what the snapshot's _metadata
		// references inside its directory; anything else is refused.
		res, err := snapshot.Dispose(cctx, fsys, uri)
		return deleteMsg{sid: sid, task: id, uri: uri, res: res, err: err}
	}
}

// Status summarises the listing for the status bar.
func (b *Browse) Status() string {
	if b.err != nil {
		return "listing failed"
	}
	n := len(b.entries)
	s := text.Plural(n, "entry", "entries")
	// A filter's "(3 of 40)" is the status bar's, from Count.
	if !b.loadedAt.IsZero() {
		s += " · listed " + text.Age(b.ctx.Now(), b.loadedAt) + " ago"
	}
	if b.ctx.Marked != "" {
		s += " · marked " + text.Sanitize(storage.Base(b.ctx.Marked))
	}
	if b.cp.running {
		s += " · copying (x cancels; leaving this screen stops it)"
	}
	return s
}

// columns at a given width: name takes what is left.
// In a job dir, delta/full/disk are a checkpoint's three sizes.
type browseCols struct{ name, kind, size, age, delta, full, disk int }

func (b *Browse) cols() browseCols {
	c := browseCols{kind: 13, size: 10, age: 5}
	if b.jobDir || b.snapDirs {
		c.delta, c.full, c.disk = 9, 9, 9
	}
	fixed := 2 + 1 + c.kind + 1 + c.size + 1 + c.age
	if c.delta > 0 {
		fixed += 3 + c.delta + c.full + c.disk
	}
	c.name = max(b.w-fixed, 8)
	return c
}

func (b *Browse) View() string {
	th := b.ctx.Theme
	var out []string
	if b.jobDir {
		out = append(out, b.jobSummary())
	}
	c := b.cols()
	head := "  " + text.Fit("NAME", c.name) + " " + text.Fit("KIND", c.kind) + " " + text.FitRight("SIZE", c.size) + " " + text.FitRight("AGE", c.age)
	if c.delta > 0 {
		head += " " + text.FitRight("CHECKPTD", c.delta) + " " + text.FitRight("FULL", c.full) + " " + text.FitRight("ON DISK", c.disk)
	}
	out = append(out, th.Column.Render(text.Fit(head, b.w)))
	switch {
	case b.err != nil && len(b.entries) == 0:
		out = append(out, th.Error.Render(text.Fit("  ✗ "+text.Sanitize(b.err.Error()), b.w)),
			th.Muted.Render("  ctrl+r retries · h goes to the parent · :browse URI opens another path"))
	case b.listing && len(b.entries) == 0:
		out = append(out, th.Muted.Render("  "+b.ctx.Spinner()+" listing "+text.Sanitize(b.uri)+" …"))
	case len(b.entries) == 0:
		out = append(out, th.Muted.Render("  (empty directory)"))
	case b.list.Len() == 0:
		out = append(out, th.Muted.Render("  no entry matches the filter"))
	default:
		out = append(out, b.list.View(func(i int, sel bool) string { return b.row(b.entries[i], sel, c) }))
	}
	if b.confirm != nil {
		e := b.confirm
		q := fmt.Sprintf("DELETE %s (%s)? y = delete, any other key = cancel", text.Sanitize(e.info.URI), text.Bytes(e.size))
		return form.OverlayBottom(strings.Join(out, "\n"), form.ConfirmRows(th, q, b.w), b.h)
	}
	if rows := b.copyRows(); rows != nil {
		return form.OverlayBottom(strings.Join(out, "\n"), rows, b.h)
	}
	return strings.Join(out, "\n")
}

func (b *Browse) jobSummary() string {
	th := b.ctx.Theme
	var total, complete int
	var latest int64 = -1
	var latestAny int64 = -1
	for _, e := range b.entries {
		if e.kind != layout.KindCheckpoint {
			continue
		}
		total++
		if e.chkID > latestAny {
			latestAny = e.chkID
		}
		if e.complete == format.Yes {
			complete++
			if e.chkID > latest {
				latest = e.chkID
			}
		}
	}
	s := fmt.Sprintf(" job: %s, %d complete", text.Plural(total, "chk dir"), complete)
	if latest >= 0 {
		s += fmt.Sprintf(" · latest complete chk-%d", latest)
	}
	st := th.Title
	if latestAny > latest && !b.probing() {
		// First, so it survives a narrow terminal: the newest chk-N is the
		// one a recovery script would pick, and it cannot be restored.
		s = fmt.Sprintf(" ⚠ newest chk-%d has no _metadata (running or failed; not restorable) ·%s", latestAny, strings.TrimPrefix(s, " job:"))
		st = th.Warn
	}
	return st.Render(text.Fit(s, b.w))
}

func (b *Browse) probing() bool {
	for _, e := range b.entries {
		if e.busy {
			return true
		}
	}
	return false
}

func (b *Browse) kindLabel(e *entry) (string, func(...string) string) {
	th := b.ctx.Theme
	switch e.kind {
	case layout.KindJob:
		return "JOB", th.Job.Render
	case layout.KindCheckpoint, layout.KindSavepoint:
		w := "CHK"
		st := th.Complete.Render
		if e.kind == layout.KindSavepoint {
			w = "SAVEPOINT"
		}
		switch e.complete {
		case format.Yes:
			return w + " ✓", st
		case format.No:
			return w + " ✗ partial", th.Partial.Render
		default:
			if e.busy {
				return w + " " + b.ctx.Spinner(), th.Muted.Render
			}
			return w + " ?", th.Muted.Render
		}
	case layout.KindShared:
		return "SHARED", th.Shared.Render
	case layout.KindTaskOwned:
		return "TASKOWNED", th.Shared.Render
	case layout.KindMetadata:
		return "METADATA", th.Savepoint.Render
	case layout.KindTemp:
		return "TEMP (unfinished)", th.Warn.Render
	case layout.KindDir:
		return "dir", th.Dir.Render
	}
	return "file", th.File.Render
}

func (b *Browse) row(e *entry, sel bool, c browseCols) string {
	th := b.ctx.Theme
	name := e.name
	if e.info.IsDir {
		name += "/"
	}
	kind, kst := b.kindLabel(e)
	size := text.Bytes(e.size)
	if e.busy && e.info.IsDir && e.size < 0 {
		size = b.ctx.Spinner()
	}
	age := text.Age(b.ctx.Now(), e.info.ModTime)
	mark := "  "
	if sel {
		mark = "> "
	}
	if b.ctx.Marked == e.info.URI {
		mark = "* "
	}
	cells := []string{
		text.Fit(name, c.name), text.Fit(kind, c.kind), text.FitRight(size, c.size), text.FitRight(age, c.age),
	}
	if c.delta > 0 {
		var d, f, k string
		switch {
		case e.sizes != nil:
			d, f, k = text.Bytes(e.sizes.Checkpointed), text.Bytes(e.sizes.Full), text.Bytes(e.sizes.OnDisk)
		case e.kind.SnapshotDir() && e.complete != format.No:
			d, f, k = "—", "—", "—"
		}
		cells = append(cells, text.FitRight(d, c.delta), text.FitRight(f, c.full), text.FitRight(k, c.disk))
	}
	if sel {
		return th.Selected.Render(text.Fit(mark+strings.Join(cells, " "), b.w))
	}
	nameSt := th.File.Render
	if e.info.IsDir {
		nameSt = th.Dir.Render
	}
	line := mark + nameSt(cells[0]) + " " + kst(cells[1]) + " " + th.Muted.Render(cells[2]+" "+cells[3])
	if len(cells) > 4 {
		line += " " + th.Shared.Render(strings.Join(cells[4:], " "))
	}
	return line
}

// Keymap is the screen's actions, for the declaration.
func Keymap(ctx *shell.Context) shell.Keymap { return newBrowseKeys(ctx).keymap() }

// Count is what the "/" filter shows of the rows (the status bar's
// "filter: x (3 of 40)").
func (b *Browse) Count() (shown, total int) { return b.list.Len(), b.list.Total() }
