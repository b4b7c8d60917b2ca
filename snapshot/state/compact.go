package state

import "fmt"

// Compact prints a decoded value on one line, the way `ckpt state` and the
// TUI's state screen show it: JSON, with records (Tuple, Row, POJO) as
// their field values in parentheses, a Row prefixed by its kind.
func Compact(v Value) string { return string(AppendCompact(nil, v)) }

// AppendCompact appends Compact(v) to b.
func AppendCompact(b []byte, v Value) []byte {
	if r, ok := v.(*Record); ok && r != nil {
		b = append(b, r.Kind...)
		b = append(b, '(')
		for i, f := range r.Fields {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = AppendCompact(b, f.Value)
		}
		return append(b, ')')
	}
	out, err := AppendJSON(b, v)
	if err != nil {
		return append(b, fmt.Sprint(v)...)
	}
	return out
}
