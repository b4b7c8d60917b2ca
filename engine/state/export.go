package state

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ckpt-dev/ckpt/engine/keygroup"
)

// ExportKeyGroups writes the state of the Pebble database in dir (a local
// checkpoint) as ckpt's canonical savepoint stream: for each key group of r,
// at the returned offset, entries of
//
//	uvarint len(state name) | name | uvarint len(key) | key | uvarint len(value) | value
//
// ended by a zero name length. Keys are the user part (after key group and
// state id), so the stream does not depend on state ids or the database
// layout, and any key-group range can be read back (rescaling).
func ExportKeyGroups(dir string, r keygroup.Range) ([]byte, []int64, error) {
	db, err := openSnapshot(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("state: open %s to export: %w", dir, err)
	}
	defer db.Close()
	names := map[uint16]string{}
	reg, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{0xFF, 0xFF, 0, 0}, UpperBound: []byte{0xFF, 0xFF, 0, 1}})
	if err != nil {
		return nil, nil, err
	}
	for reg.First(); reg.Valid(); reg.Next() {
		v, _ := reg.ValueAndErr()
		if len(v) == 2 {
			names[binary.BigEndian.Uint16(v)] = string(reg.Key()[4:])
		}
	}
	reg.Close()
	var out []byte
	offsets := make([]int64, 0, r.Len())
	for kg := r.Start; kg <= r.End; kg++ {
		offsets = append(offsets, int64(len(out)))
		lo := binary.BigEndian.AppendUint16(nil, uint16(kg))
		hi := binary.BigEndian.AppendUint16(nil, uint16(kg+1))
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, nil, err
		}
		for it.First(); it.Valid(); it.Next() {
			k := it.Key()
			name, ok := names[binary.BigEndian.Uint16(k[2:4])]
			if !ok {
				it.Close()
				return nil, nil, fmt.Errorf("state: key of unregistered state id in %s", dir)
			}
			v, err := it.ValueAndErr()
			if err != nil {
				it.Close()
				return nil, nil, err
			}
			out = binary.AppendUvarint(out, uint64(len(name)))
			out = append(out, name...)
			out = binary.AppendUvarint(out, uint64(len(k)-4))
			out = append(out, k[4:]...)
			out = binary.AppendUvarint(out, uint64(len(v)))
			out = append(out, v...)
		}
		if err := it.Close(); err != nil {
			return nil, nil, err
		}
		out = binary.AppendUvarint(out, 0)
	}
	return out, offsets, nil
}

// ImportKeyGroups reads the key groups kgs (at offsets) of a canonical
// stream written by ExportKeyGroups into b.
func ImportKeyGroups(b *Backend, data []byte, kgs []int, offsets []int64) error {
	if err := b.waitInflight(); err != nil {
		return err
	}
	at := make(map[int]int64, len(kgs))
	for i, kg := range kgs {
		p := offsets[i]
		if p < 0 || p > int64(len(data)) {
			return fmt.Errorf("canonical savepoint: key group %d at offset %d outside a %d-byte stream", kg, p, len(data))
		}
		at[kg] = p
	}
	return b.importGroups(kgs, func(kg int, w *kvs) error {
		buf := data[at[kg]:]
		next := func() ([]byte, error) {
			n, k := binary.Uvarint(buf)
			if k <= 0 || uint64(len(buf)-k) < n {
				return nil, fmt.Errorf("canonical savepoint: corrupt entry in key group %d", kg)
			}
			v := buf[k : k+int(n)]
			buf = buf[k+int(n):]
			return v, nil
		}
		var lastName []byte
		var id uint16
		for {
			name, err := next()
			if err != nil {
				return err
			}
			if len(name) == 0 {
				return nil
			}
			key, err := next()
			if err != nil {
				return err
			}
			val, err := next()
			if err != nil {
				return err
			}
			if !bytes.Equal(name, lastName) {
				if id, err = b.sharedStateID(string(name)); err != nil {
					return err
				}
				lastName = name
			}
			x := kv{k0: len(w.arena), set: true}
			w.arena = append(w.arena, byte(kg>>8), byte(kg), byte(id>>8), byte(id))
			w.arena = append(w.arena, key...)
			x.k1 = len(w.arena)
			w.arena = append(w.arena, val...)
			x.v1 = len(w.arena)
			w.items = append(w.items, x)
		}
	})
}
