package enginefmt

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// State kinds.
const (
	KindValue = "VALUE"
	KindList  = "LIST"
	KindMap   = "MAP"
)

// Types the engine's states hold (Schema.Key, Value, MapKey).
const (
	// TypeString: UTF-8 bytes as they are (every key of the engine).
	TypeString = "string"
	// TypeInt64: 8 bytes, big-endian two's complement.
	TypeInt64 = "int64"
	// TypeBytes: bytes without a structure the engine knows.
	TypeBytes = "bytes"
	// TypeWindowCounts: the open tumbling windows of a key, pairs of
	// int64 big-endian (window start in ms, count).
	TypeWindowCounts = "window-counts"
)

// Schema is what the engine records of a state next to its name: its
// kind and the types of its keys and values (for list state, of the
// elements; for map state, Value is the map value's and MapKey the map
// key's).
type Schema struct {
	Kind   string `json:"kind"`
	Key    string `json:"key"`
	Value  string `json:"value"`
	MapKey string `json:"map_key,omitempty"`
}

// schemaVersion is the encoding's version byte. A later version may add
// fields after the ones here: readers of this version ignore them.
const schemaVersion = 1

// Encode is the schema's stored form: a version byte, then kind, key,
// value and map-key type, each as uvarint length and bytes.
func (s Schema) Encode() []byte {
	b := []byte{schemaVersion}
	for _, f := range []string{s.Kind, s.Key, s.Value, s.MapKey} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// DecodeSchema reads Schema.Encode's bytes.
func DecodeSchema(b []byte) (Schema, error) {
	if len(b) == 0 {
		return Schema{}, errors.New("empty schema")
	}
	if b[0] != schemaVersion {
		return Schema{}, fmt.Errorf("schema version %d (this ckpt reads %d)", b[0], schemaVersion)
	}
	p := b[1:]
	var f [4]string
	for i := range f {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return Schema{}, fmt.Errorf("schema field %d at byte %d runs past its %d bytes", i, len(b)-len(p), len(b))
		}
		f[i] = string(p[k : k+int(n)])
		p = p[k+int(n):]
	}
	return Schema{Kind: f[0], Key: f[1], Value: f[2], MapKey: f[3]}, nil
}

// SplitList splits a list state's stored value into its elements.
func SplitList(v []byte) ([][]byte, error) {
	var out [][]byte
	for p := v; len(p) > 0; {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			return nil, fmt.Errorf("list element at byte %d runs past the value's %d bytes", len(v)-len(p), len(v))
		}
		out = append(out, p[k:k+int(n)])
		p = p[k+int(n):]
	}
	return out, nil
}

// AppendListElement appends one element to a list state's stored value
// (what a merge operand holds).
func AppendListElement(dst, e []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(e)))
	return append(dst, e...)
}
