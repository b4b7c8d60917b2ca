package state

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/ckpt-dev/ckpt/snapshot/enginefmt"
	"github.com/ckpt-dev/ckpt/snapshot/keygroup"
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
	rlo, rhi := enginefmt.RegistrySpan()
	reg, err := src.NewIter(&pebble.IterOptions{LowerBound: rlo, UpperBound: rhi})
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
	// The states' schemas travel with them (those of a newer schema
	// version too: they are copied as they are).
	var serr error
	if err := loadSchemas(src, func(name string, enc []byte) {
		if serr == nil {
			serr = b.setSchema(name, enc)
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	kgs := make([]int, 0, r.Len())
	for kg := r.Start; kg <= r.End; kg++ {
		kgs = append(kgs, kg)
	}
	return b.importGroups(kgs, func(kg int, w *kvs) error {
		lo, hi := enginefmt.KeyGroupSpan(kg)
		it, err := src.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
		if err != nil {
			return err
		}
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
		return it.Close()
	})
}

// importGroups writes restored entries into b as new deltas of the
// chain, key group by key group: fill puts one key group's entries into w
// (in key order, normally: they come from a sorted source; otherwise they
// are sorted). Two goroutines share the key groups — a contiguous half
// each, into a table each, which do not overlap — so a restore uses two
// cores even when a job has a single task to restore.
// The first checkpoint uploads these deltas: a redistributed subtask's
// state is new to every earlier checkpoint. The caller waited for the
// inflight snapshot.
func (b *Backend) importGroups(kgs []int, fill func(kg int, w *kvs) error) error {
	if len(kgs) == 0 {
		return nil
	}
	halves := [][]int{kgs[:(len(kgs)+1)/2], kgs[(len(kgs)+1)/2:]}
	tables := make([]*tableWriter, len(halves))
	errs := make([]error, len(halves))
	var wg sync.WaitGroup
	for h, part := range halves {
		if len(part) == 0 {
			continue
		}
		seq := b.seq
		b.seq++
		tw, err := b.newTable(seq, true)
		if err != nil {
			return err
		}
		tables[h] = tw
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w kvs
			for _, kg := range part {
				w.reset()
				if err := fill(kg, &w); err != nil {
					errs[h] = err
					return
				}
				if !w.inOrder() {
					w.sort()
				}
				for _, x := range w.items {
					if err := tw.add(w.key(x), w.value(x), x.set); err != nil {
						errs[h] = err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	// The registry, complete now, goes last into the last table (its key
	// group 0xFFFF sorts after every real one).
	last := len(tables) - 1
	if tables[last] == nil { // one key group: the second half is empty
		last = 0
	}
	var reg kvs
	for n, id := range b.ids {
		reg.add(registryKey(n), enginefmt.EncodeID(id), true)
	}
	for n, enc := range b.schemas {
		reg.add(enginefmt.SchemaKey(n), enc, true)
	}
	reg.sort()
	for _, x := range reg.items {
		if errs[last] == nil {
			errs[last] = tables[last].add(reg.key(x), reg.value(x), true)
		}
	}
	b.regChanged = false
	var firstErr error
	for h, tw := range tables {
		if tw == nil {
			continue
		}
		err := errs[h]
		if err == nil {
			err = b.addTable(tw)
		} else {
			tw.abort()
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}
