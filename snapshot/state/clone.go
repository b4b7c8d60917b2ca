package state

import "strings"

// Clone is e with every value copied out of the memory a ScanKeyed entry
// borrows: what a ScanKeyed callback keeps (a pager's page, a TUI row)
// stays valid after the call. Entries from ReadKeyed need no cloning.
func (e *Entry) Clone() Entry {
	c := *e
	c.State = strings.Clone(e.State)
	c.Key = CloneValue(e.Key)
	c.Namespace = CloneValue(e.Namespace)
	c.UserKey = CloneValue(e.UserKey)
	c.Value = CloneValue(e.Value)
	return c
}

// CloneValue is a deep copy of v in plain Go memory: strings copied,
// numbers boxed anew, Records, lists and maps rebuilt.
func CloneValue(v Value) Value {
	switch x := v.(type) {
	case nil:
		return nil
	case int64:
		return x // boxing x anew: the interface no longer points into an arena
	case int32:
		return x
	case float64:
		return x
	case string:
		return strings.Clone(x)
	case *Record:
		if x == nil {
			return x
		}
		r := &Record{Class: strings.Clone(x.Class), Kind: x.Kind}
		if x.Fields != nil {
			r.Fields = make([]NamedItem, len(x.Fields))
			for i, f := range x.Fields {
				r.Fields[i] = NamedItem{Name: f.Name, Value: CloneValue(f.Value)}
			}
		}
		return r
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = CloneValue(y)
		}
		return out
	case []MapEntry:
		if x == nil {
			return x
		}
		out := make([]MapEntry, len(x))
		for i, y := range x {
			out[i] = MapEntry{Key: CloneValue(y.Key), Value: CloneValue(y.Value)}
		}
		return out
	case *TTLValue:
		if x == nil {
			return x
		}
		return &TTLValue{LastAccess: x.LastAccess, Value: CloneValue(x.Value)}
	case Timer:
		return Timer{Timestamp: x.Timestamp, Key: CloneValue(x.Key), Namespace: CloneValue(x.Namespace)}
	case []byte:
		if x == nil {
			return x
		}
		return append([]byte{}, x...)
	}
	// The other kinds (small numbers, bool, Window, Raw) are values of
	// their own or plain allocations: never arena memory.
	return v
}
