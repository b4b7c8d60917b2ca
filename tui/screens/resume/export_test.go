package resume

import (
	"github.com/ckpt-dev/ckpt/tui/screens/routes"
	"github.com/ckpt-dev/ckpt/tui/shell"
)

// PickerOrder is the order in which the snapshot picker offers choices.
func PickerOrder(ctx *shell.Context, choices []routes.SnapRow) []string {
	p := newSnapshotPicker(ctx, 0, choices)
	out := make([]string, len(p.choices))
	for i, c := range p.choices {
		out[i] = c.Path
	}
	return out
}
