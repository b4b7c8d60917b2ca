package state

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Compact prints a decoded value on one line, the way `ckpt state` and the
// TUI's state screen show it: JSON, with records (Tuple, Row, POJO) as
// their field values in parentheses, a Row prefixed by its kind.
func Compact(v Value) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case *Record:
		var parts []string
		for _, f := range v.Fields {
			parts = append(parts, Compact(f.Value))
		}
		if v.Kind != "" {
			return v.Kind + "(" + strings.Join(parts, ", ") + ")"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case string:
		b, _ := json.Marshal(v)
		return string(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
