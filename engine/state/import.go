package state

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ckpt-dev/ckpt/engine/keygroup"
)

// Import copies the state of the key groups in r from the Pebble database
// in srcDir (another subtask's restored checkpoint files) into b: one
// span scan per key-group range, state ids remapped by name, written as one
// sorted, ingested SST. This is how keyed state is redistributed when the
// parallelism changes: every key lands on the one new subtask whose range
// holds its key group.
func (b *Backend) Import(srcDir string, r keygroup.Range) error {
	if r.Len() == 0 {
		return nil
	}
	if err := b.waitInflight(); err != nil {
		return err
	}
	src, err := openSnapshot(srcDir)
	if err != nil {
		return fmt.Errorf("state: open %s to import: %w", srcDir, err)
	}
	defer src.Close()
	remap := map[uint16][2]byte{}
	reg, err := src.NewIter(&pebble.IterOptions{LowerBound: []byte{0xFF, 0xFF, 0, 0}, UpperBound: []byte{0xFF, 0xFF, 0, 1}})
	if err != nil {
		return err
	}
	for reg.First(); reg.Valid(); reg.Next() {
		v, err := reg.ValueAndErr()
		if err != nil || len(v) != 2 {
			reg.Close()
			return fmt.Errorf("state: registry of %s is corrupt", srcDir)
		}
		id, err := b.stateID(string(reg.Key()[4:]))
		if err != nil {
			reg.Close()
			return err
		}
		remap[binary.BigEndian.Uint16(v)] = [2]byte{byte(id >> 8), byte(id)}
	}
	if err := reg.Close(); err != nil {
		return err
	}
	lo := binary.BigEndian.AppendUint16(nil, uint16(r.Start))
	hi := binary.BigEndian.AppendUint16(nil, uint16(r.End+1))
	if r.End+1 > 0xFFFF {
		hi = []byte{0xFF, 0xFF}
	}
	it, err := src.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return err
	}
	var w kvs
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 4 {
			continue
		}
		id, ok := remap[binary.BigEndian.Uint16(k[2:4])]
		if !ok {
			it.Close()
			return fmt.Errorf("state: %s holds keys of an unregistered state id %d", srcDir, binary.BigEndian.Uint16(k[2:4]))
		}
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		x := kv{k0: len(w.arena), set: true}
		w.arena = append(w.arena, k[0], k[1], id[0], id[1])
		w.arena = append(w.arena, k[4:]...)
		x.k1 = len(w.arena)
		w.arena = append(w.arena, v...)
		x.v1 = len(w.arena)
		w.items = append(w.items, x)
	}
	if err := it.Close(); err != nil {
		return err
	}
	return b.writeImported(&w)
}

// writeImported writes restored entries as a delta of the chain (the
// caller waited for the inflight snapshot). The first checkpoint uploads
// it: a rescaled subtask's state is new to every earlier checkpoint.
func (b *Backend) writeImported(w *kvs) error {
	if len(w.items) == 0 {
		return nil
	}
	for n, id := range b.ids {
		w.add(registryKey(n), binary.BigEndian.AppendUint16(nil, id), true)
	}
	b.regChanged = false
	seq := b.seq
	b.seq++
	return b.appendDelta(seq, w)
}
