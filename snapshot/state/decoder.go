package state

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/ckpt-dev/ckpt/snapshot"
)

// Error says what could not be read where: the state file, the byte
// offset in it and what was expected there.
type Error struct {
	File   string
	Offset int64
	Want   string
	Err    error
}

func (e *Error) Error() string {
	name := e.File
	if name == "" {
		name = "state bytes"
	}
	return fmt.Sprintf("%s: byte offset %d: expected %s: %v", name, e.Offset, e.Want, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrTruncated is wrapped when the bytes end before what they announce.
var ErrTruncated = errors.New("truncated")

// ErrUnsupported is wrapped for serializers and formats ckpt recognises
// but cannot decode (Kryo, Java serialization, legacy forms).
var ErrUnsupported = errors.New("unsupported")

// decoder reads big-endian Java DataOutput values from an in-memory slice
// (one proxy, one key-group region, one key or value). base is the file
// offset of b[0], so errors name real file positions.
type decoder struct {
	b    []byte
	pos  int
	base int64
	file string
	a    *arena // where the fast path puts values (nil: plain boxing)
}

func newDecoder(b []byte, file string, base int64) *decoder {
	return &decoder{b: b, file: file, base: base}
}

func (d *decoder) offset() int64 { return d.base + int64(d.pos) }
func (d *decoder) left() int     { return len(d.b) - d.pos }

func (d *decoder) errAt(at int, want string, err error) error {
	return &Error{File: d.file, Offset: d.base + int64(at), Want: want, Err: err}
}

func (d *decoder) errf(at int, want, format string, a ...any) error {
	return d.errAt(at, want, fmt.Errorf(format, a...))
}

func (d *decoder) take(n int, want string) ([]byte, error) {
	if n < 0 || d.left() < n {
		return nil, d.errf(d.pos, want, "%w: %d bytes needed, %d left", ErrTruncated, n, d.left())
	}
	b := d.b[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *decoder) u8(want string) (byte, error) {
	b, err := d.take(1, want)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (d *decoder) boolean(want string) (bool, error) {
	at := d.pos
	b, err := d.u8(want)
	if err != nil {
		return false, err
	}
	if b > 1 {
		return false, d.errf(at, want, "boolean byte %#02x", b)
	}
	return b == 1, nil
}

func (d *decoder) u16(want string) (uint16, error) {
	b, err := d.take(2, want)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b), nil
}

func (d *decoder) i32(want string) (int32, error) {
	b, err := d.take(4, want)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

func (d *decoder) i64(want string) (int64, error) {
	b, err := d.take(8, want)
	if err != nil {
		return 0, err
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// count reads an i32 count of items each at least minSize bytes long and
// refuses counts the remaining bytes cannot hold (a corrupt count never
// becomes a huge allocation).
func (d *decoder) count(want string, minSize int) (int, error) {
	at := d.pos
	n, err := d.i32(want)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, d.errf(at, want, "negative count %d", n)
	}
	if minSize > 0 && int64(n)*int64(minSize) > int64(d.left()) {
		return 0, d.errf(at, want, "%w: count %d needs at least %d bytes, %d left", ErrTruncated, n, int64(n)*int64(minSize), d.left())
	}
	return int(n), nil
}

// utf reads DataOutput.writeUTF: u16 length + modified UTF-8.
func (d *decoder) utf(want string) (string, error) {
	n, err := d.u16(want)
	if err != nil {
		return "", err
	}
	at := d.pos
	b, err := d.take(int(n), want)
	if err != nil {
		return "", err
	}
	s, ok := snapshot.DecodeModifiedUTF8(b)
	if !ok {
		return "", d.errf(at, want, "malformed modified UTF-8")
	}
	return s, nil
}

// leb reads an unsigned LEB128 value of at most 5 bytes (StringValue).
func (d *decoder) leb(want string) (uint32, error) {
	var v uint32
	at := d.pos
	for shift := 0; shift < 35; shift += 7 {
		c, err := d.u8(want)
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7F) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, d.errf(at, want, "varint longer than 5 bytes")
}

// stringValue reads Flink's StringValue encoding: LEB128 (UTF-16 units+1,
// 0 = null), then each UTF-16 unit as LEB128. ok is false for null.
func (d *decoder) stringValue(want string) (s string, ok bool, err error) {
	at := d.pos
	l, err := d.leb(want)
	if err != nil {
		return "", false, err
	}
	if l == 0 {
		return "", false, nil
	}
	n := int(l - 1)
	if n > d.left() {
		return "", false, d.errf(at, want, "%w: string of %d UTF-16 units, %d bytes left", ErrTruncated, n, d.left())
	}
	units := make([]uint16, n)
	for i := range units {
		u, err := d.leb(want)
		if err != nil {
			return "", false, err
		}
		if u > 0xFFFF {
			return "", false, d.errf(at, want, "UTF-16 unit %#x out of range", u)
		}
		units[i] = uint16(u)
	}
	return utf16String(units), true, nil
}

func utf16String(units []uint16) string {
	out := make([]rune, 0, len(units))
	for i := 0; i < len(units); i++ {
		u := rune(units[i])
		if u >= 0xD800 && u < 0xDC00 && i+1 < len(units) {
			if v := rune(units[i+1]); v >= 0xDC00 && v < 0xE000 {
				out = append(out, 0x10000+(u-0xD800)<<10+(v-0xDC00))
				i++
				continue
			}
		}
		out = append(out, u) // lone surrogates become U+FFFD when printed
	}
	return string(out)
}

func (d *decoder) f64(want string) (float64, error) {
	v, err := d.i64(want)
	return math.Float64frombits(uint64(v)), err
}

func (d *decoder) f32(want string) (float32, error) {
	v, err := d.i32(want)
	return math.Float32frombits(uint32(v)), err
}
