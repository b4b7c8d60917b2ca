package state

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
)

// ExportKeyGroups writes the state of the Pebble database in dir (a local
// checkpoint) as ckpt's canonical savepoint stream (its layout is in
// snapshot/enginefmt, canonical.go): the states' schemas, then for each key
// group of r, at the returned offset, its entries (state name, user key,
// value) ended by a zero name length. Keys are the user part (after key
// group and state id), so the stream does not depend on state ids or the
// database layout, and any key-group range can be read back (rescaling).
func ExportKeyGroups(dir string, r keygroup.Range) ([]byte, []int64, error) {
	var buf bytes.Buffer
	offsets, _, err := ExportKeyGroupsTo(dir, r, &buf)
	if err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), offsets, nil
}

// ExportKeyGroupsTo is ExportKeyGroups streaming into w (buffered here),
// returning the offsets and the stream's length. A savepoint of a
// gigabyte never sits whole in memory: growing one slice to that size
// cost more CPU (reallocations, copies, page faults) than reading the
// state.
func ExportKeyGroupsTo(dir string, r keygroup.Range, w io.Writer) ([]int64, int64, error) {
	offsets, _, n, err := ExportKeyGroupsSummed(dir, r, w)
	return offsets, n, err
}

// ExportKeyGroupsSummed is ExportKeyGroupsTo that also returns the
// CRC-32C of each key group's bytes (from its offset to the next key
// group's), so a restore that reads only some key groups can verify them
// (see EncodeGroupSums).
func ExportKeyGroupsSummed(dir string, r keygroup.Range, w io.Writer) ([]int64, []uint32, int64, error) {
	db, err := openSnapshot(dir)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("state: open %s to export: %w", dir, err)
	}
	defer db.Close()
	names := map[uint16]string{}
	lo, hi := enginefmt.RegistrySpan()
	reg, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, nil, 0, err
	}
	for reg.First(); reg.Valid(); reg.Next() {
		v, _ := reg.ValueAndErr()
		if id, ok := enginefmt.DecodeID(v); ok {
			names[id] = enginefmt.RegistryName(reg.Key())
		}
	}
	reg.Close()
	schemas := map[string][]byte{}
	if err := loadSchemas(db, func(name string, enc []byte) { schemas[name] = enc }); err != nil {
		return nil, nil, 0, err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	schemaNames := make([]string, 0, len(schemas))
	for name := range schemas {
		schemaNames = append(schemaNames, name)
	}
	sort.Strings(schemaNames)
	var hdr []byte
	var crc uint32 // of the current key group
	put := func(b []byte) error {
		hdr = binary.AppendUvarint(hdr[:0], uint64(len(b)))
		if _, err := bw.Write(hdr); err != nil {
			return err
		}
		_, err := bw.Write(b)
		n += int64(len(hdr) + len(b))
		crc = UpdateChecksum(UpdateChecksum(crc, hdr), b)
		return err
	}
	offsets := make([]int64, 0, r.Len())
	crcs := make([]uint32, 0, r.Len())
	for kg := r.Start; kg <= r.End; kg++ {
		offsets = append(offsets, n)
		crc = 0
		if kg == r.Start {
			// The schemas lead the first key group (covered by its
			// checksum; restores take them as schemas, not state).
			for _, name := range schemaNames {
				var err error
				for _, b := range [][]byte{[]byte(enginefmt.SchemaState), []byte(name), schemas[name]} {
					if err == nil {
						err = put(b)
					}
				}
				if err != nil {
					return nil, nil, 0, err
				}
			}
		}
		lo, hi := enginefmt.KeyGroupSpan(kg)
		it, err := db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return nil, nil, 0, err
		}
		var lastID uint16
		var name []byte
		for it.First(); it.Valid(); it.Next() {
			k := it.Key()
			if id := binary.BigEndian.Uint16(k[2:4]); name == nil || id != lastID {
				s, ok := names[id]
				if !ok {
					it.Close()
					return nil, nil, 0, fmt.Errorf("state: key of unregistered state id %d in %s", id, dir)
				}
				name, lastID = []byte(s), id
			}
			v, err := it.ValueAndErr()
			if err == nil {
				err = put(name)
			}
			if err == nil {
				err = put(k[4:])
			}
			if err == nil {
				err = put(v)
			}
			if err != nil {
				it.Close()
				return nil, nil, 0, err
			}
		}
		if err := it.Close(); err != nil {
			return nil, nil, 0, err
		}
		if err := bw.WriteByte(0); err != nil {
			return nil, nil, 0, err
		}
		n++
		crcs = append(crcs, UpdateChecksum(crc, []byte{0}))
	}
	if err := bw.Flush(); err != nil {
		return nil, nil, 0, err
	}
	return offsets, crcs, n, nil
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
		var lastName []byte
		var id uint16
		_, err := enginefmt.DecodeGroup(data[at[kg]:], func(name, key, val []byte) error {
			if string(name) == enginefmt.SchemaState {
				return b.recordSchemaEncoded(string(key), append([]byte(nil), val...))
			}
			if !bytes.Equal(name, lastName) {
				var err error
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
			return nil
		})
		var ge *enginefmt.GroupError
		if errors.As(err, &ge) {
			return fmt.Errorf("canonical savepoint: corrupt entry in key group %d (%v)", kg, ge)
		}
		return err
	})
}
