package browse

import (
	"github.com/ckpt-dev/ckpt/inspector"
	"github.com/ckpt-dev/ckpt/tui/components/progress"
)

// What the external tests (package browse_test, which open the screen by
// name through tui's declaration) read of the screen.

// Entry is a listed entry as the tests see it.
type Entry struct {
	Name, Kind string
	Size       int64
	Sizes      *inspector.Sizes
}

// Entries are the listed entries, in order, with the kind label drawn.
func Entries(b *Browse) []Entry {
	var out []Entry
	for _, e := range b.entries {
		label, _ := b.kindLabel(e)
		out = append(out, Entry{Name: e.info.Name, Kind: label, Size: e.size, Sizes: e.sizes})
	}
	return out
}

// Find is the entry of uri (nil: not listed).
func Find(b *Browse, uri string) *Entry {
	e := b.find(uri)
	if e == nil {
		return nil
	}
	label, _ := b.kindLabel(e)
	return &Entry{Name: e.info.Name, Kind: label, Size: e.size, Sizes: e.sizes}
}

// Rows is how many rows the (filtered) list shows.
func Rows(b *Browse) int { return b.list.Len() }

// ShowCopyProgress puts the screen in the middle of a copy of src to dst
// at p: what the progress bar draws (a real copy is over before a frame).
func ShowCopyProgress(b *Browse, src, dst string, p progress.State) {
	b.cp.running, b.cp.src, b.cp.dst, b.cp.prog = true, src, dst, p
}
