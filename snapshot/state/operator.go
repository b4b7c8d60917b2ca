package state

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/golang/snappy"
)

// ReadOperatorState decodes the elements of one operator state from its
// file's bytes: b holds the whole file (operator state files are small),
// offsets come from the handle (snapshot.NamedOperatorState). List states
// (split or union) yield one value per offset; a broadcast state yields
// MapEntry values from its one offset. With compression (1.18+) the data
// after the proxy is one Snappy framed stream whose writer ends a chunk at
// every offset: each element is decoded from the chunks at its offset.
func ReadOperatorState(p *OperatorProxy, m *Meta, b []byte, offsets []int64, file string) ([]Value, error) {
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
		data, base := b[off:end], off
		if m.Type == Broadcast {
			data = b[off:]
		}
		if p.Compression {
			var err error
			if data, err = snappyChunks(data, file, off); err != nil {
				return nil, err
			}
			base = -1
		}
		d := newDecoder(data, file, max(base, 0))
		if m.Type == Broadcast {
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
			out = append(out, rawOf(vs, data))
			continue
		}
		v, err := d.value(vs, fmt.Sprintf("state %q element %d", m.Name, i), 0)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// snappyChunks decodes the chunks of a Snappy framed stream in b (no
// stream identifier needed; one is skipped where met), each checked
// against its masked CRC-32C, until b ends. base is b's file offset.
func snappyChunks(b []byte, file string, base int64) ([]byte, error) {
	var out []byte
	for p := 0; p < len(b); {
		bad := func(format string, a ...any) error {
			return &Error{File: file, Offset: base + int64(p), Want: "a Snappy framed chunk", Err: fmt.Errorf(format, a...)}
		}
		if len(b)-p < 4 {
			return nil, bad("%w: %d bytes left", ErrTruncated, len(b)-p)
		}
		typ := b[p]
		n := int(b[p+1]) | int(b[p+2])<<8 | int(b[p+3])<<16
		if n > len(b)-p-4 {
			return nil, bad("%w: chunk of %d bytes, %d left", ErrTruncated, n, len(b)-p-4)
		}
		body := b[p+4 : p+4+n]
		switch {
		case typ == 0xFF:
			if string(body) != "sNaPpY" {
				return nil, bad("stream identifier %q", body)
			}
		case typ == 0x00 || typ == 0x01:
			if n < 4 {
				return nil, bad("chunk of %d bytes has no checksum", n)
			}
			data := body[4:]
			if typ == 0x00 {
				l, err := snappy.DecodedLen(data)
				if err != nil || l > 1<<16 || len(out)+l > maxRegion {
					return nil, bad("compressed chunk of %d bytes: %v", l, err)
				}
				if data, err = snappy.Decode(nil, data); err != nil {
					return nil, bad("%v", err)
				}
			}
			c := crc32.Checksum(data, castagnoli)
			if want := binary.LittleEndian.Uint32(body); (c>>15|c<<17)+0xa282ead8 != want {
				return nil, bad("checksum mismatch")
			}
			out = append(out, data...)
		case typ >= 0x80:
			// padding and skippable chunks
		default:
			return nil, bad("reserved chunk type %#02x", typ)
		}
		p += 4 + n
	}
	return out, nil
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)
