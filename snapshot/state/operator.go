package state

import "fmt"

// ReadOperatorState decodes the elements of one operator state from its
// file's bytes: b holds the whole file (operator state files are small),
// offsets come from the handle (snapshot.NamedOperatorState). List states
// (split or union) yield one value per offset; a broadcast state yields
// MapEntry values from its one offset. Compressed operator state (1.18+)
// is not decoded yet: the error says so.
func ReadOperatorState(p *OperatorProxy, m *Meta, b []byte, offsets []int64, file string) ([]Value, error) {
	if p.Compression {
		return nil, &Error{File: file, Offset: p.End, Want: "operator state elements", Err: fmt.Errorf("%w: compressed operator state", ErrUnsupported)}
	}
	vs := m.Serializers[RoleValue]
	if vs == nil {
		return nil, &Error{File: file, Offset: 0, Want: fmt.Sprintf("state %q value serializer", m.Name), Err: fmt.Errorf("the proxy names none")}
	}
	var out []Value
	for i, off := range offsets {
		if off < p.End || off > int64(len(b)) {
			return nil, &Error{File: file, Offset: off, Want: fmt.Sprintf("state %q element %d", m.Name, i), Err: fmt.Errorf("offset outside the data (%d..%d)", p.End, len(b))}
		}
		end := int64(len(b))
		if i+1 < len(offsets) && offsets[i+1] >= off {
			end = offsets[i+1]
		}
		if m.Type == Broadcast {
			d := newDecoder(b[off:], file, off)
			n, err := d.count(fmt.Sprintf("broadcast state %q size", m.Name), 1)
			if err != nil {
				return nil, err
			}
			for range n {
				k, err := d.value(m.Serializers[RoleKey], "broadcast key", 0)
				if err != nil {
					return nil, err
				}
				v, err := d.value(vs, "broadcast value", 0)
				if err != nil {
					return nil, err
				}
				out = append(out, MapEntry{k, v})
			}
			continue
		}
		if !vs.Decodable() {
			out = append(out, rawOf(vs, b[off:end]))
			continue
		}
		d := newDecoder(b[off:end], file, off)
		v, err := d.value(vs, fmt.Sprintf("state %q element %d", m.Name, i), 0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
