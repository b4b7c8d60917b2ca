package snapshot

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// DecodeError says what went wrong where: the file, the byte offset and
// what the decoder expected to find there.
type DecodeError struct {
	File   string // the `_metadata` URI, or "" for anonymous bytes
	Offset int64  // byte offset from the start of the file
	Want   string // what was expected at Offset
	Err    error  // what was found instead
}

func (e *DecodeError) Error() string {
	name := e.File
	if name == "" {
		name = "_metadata"
	}
	return fmt.Sprintf("%s: byte offset %d: expected %s: %v", name, e.Offset, e.Want, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// ErrLegacyVersion is wrapped by the error for files of format version 0
// or 1 (Flink ≤ 1.2), which current Flink cannot read either.
var ErrLegacyVersion = errors.New("legacy (Flink ≤ 1.2) format, unsupported")

// ErrTruncated is wrapped by errors for files that end too early.
var ErrTruncated = errors.New("truncated file")

// reader is a buffered big-endian reader that tracks the byte offset and,
// when the total size is known, refuses lengths the rest of the file
// cannot hold, so corrupt counts never turn into huge allocations.
type reader struct {
	src   io.Reader
	name  string
	buf   []byte
	pos   int   // next unread byte in buf
	end   int   // bytes valid in buf
	base  int64 // file offset of buf[0]
	size  int64 // total size, or -1 when unknown
	srcOK bool  // src may have more bytes
	depth int   // nesting of recursive handles

	strs stringTable

	// Slabs for the handles a large file holds by the million: one
	// allocation per 128 handles instead of one each.
	files     slab[FileHandle]
	relFiles  slab[RelativeFileHandle]
	inline    slab[ByteStreamHandle]
	incs      slab[IncrementalHandle]
	subtasks  slab[SubtaskState]
	opStreams slab[OperatorStreamHandle]
}

type slab[T any] struct{ free []T }

func (s *slab[T]) new() *T {
	if len(s.free) == 0 {
		s.free = make([]T, 128)
	}
	p := &s.free[0]
	s.free = s.free[1:]
	return p
}

const readBufSize = 256 << 10

func newReader(src io.Reader, name string, size int64) *reader {
	bufSize := readBufSize
	if size <= 0 {
		size = -1
	} else if size < readBufSize {
		bufSize = max(int(size)+8, 64) // small files: no 256 KB buffer
	}
	return &reader{src: src, name: name, buf: make([]byte, bufSize), size: size, srcOK: true}
}

// offset is the file offset of the next unread byte.
func (r *reader) offset() int64 { return r.base + int64(r.pos) }

// remaining is how many bytes are left, or -1 when unknown.
func (r *reader) remaining() int64 {
	if r.size < 0 {
		return -1
	}
	return r.size - r.offset()
}

func (r *reader) fail(at int64, want string, err error) error {
	return &DecodeError{File: r.name, Offset: at, Want: want, Err: err}
}

func (r *reader) failf(at int64, want, format string, a ...any) error {
	return r.fail(at, want, fmt.Errorf(format, a...))
}

// fill makes at least n bytes available in buf (n ≤ cap(buf)).
func (r *reader) fill(n int, want string) error {
	if r.end-r.pos >= n {
		return nil
	}
	if n > len(r.buf) {
		nb := make([]byte, n)
		copy(nb, r.buf[r.pos:r.end])
		r.buf = nb
	} else {
		copy(r.buf, r.buf[r.pos:r.end])
	}
	r.base += int64(r.pos)
	r.end -= r.pos
	r.pos = 0
	for r.end < n && r.srcOK {
		k, err := r.src.Read(r.buf[r.end:])
		r.end += k
		if err == io.EOF {
			r.srcOK = false
		} else if err != nil {
			return r.fail(r.offset(), want, err)
		} else if k == 0 {
			continue
		}
	}
	if r.end < n {
		// Name the field's own offset: that is where the reader was when it
		// needed bytes the file does not have.
		return r.fail(r.base, want, fmt.Errorf("%w: needs %d bytes, the file ends after %d", ErrTruncated, n, r.end))
	}
	return nil
}

func (r *reader) u8(want string) (byte, error) {
	if r.pos < r.end {
		c := r.buf[r.pos]
		r.pos++
		return c, nil
	}
	if err := r.fill(1, want); err != nil {
		return 0, err
	}
	c := r.buf[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) i32(want string) (int32, error) {
	if r.end-r.pos < 4 {
		if err := r.fill(4, want); err != nil {
			return 0, err
		}
	}
	v := int32(binary.BigEndian.Uint32(r.buf[r.pos:]))
	r.pos += 4
	return v, nil
}

func (r *reader) i64(want string) (int64, error) {
	if r.end-r.pos < 8 {
		if err := r.fill(8, want); err != nil {
			return 0, err
		}
	}
	v := int64(binary.BigEndian.Uint64(r.buf[r.pos:]))
	r.pos += 8
	return v, nil
}

// utf reads a Java writeUTF string.
func (r *reader) utf(want string) (string, error) {
	at := r.offset()
	if r.end-r.pos < 2 {
		if err := r.fill(2, want); err != nil {
			return "", err
		}
	}
	n := int(binary.BigEndian.Uint16(r.buf[r.pos:]))
	if r.end-r.pos < 2+n {
		if err := r.fill(2+n, want); err != nil {
			return "", err
		}
	}
	b := r.buf[r.pos+2 : r.pos+2+n]
	s, ok := r.strs.decode(b)
	if !ok {
		return "", r.failf(at, want, "malformed or non-canonical modified UTF-8 (%d bytes)", n)
	}
	r.pos += 2 + n
	return s, nil
}

// count reads a non-negative element count and checks that the rest of the
// file can hold that many elements of at least minSize bytes each.
func (r *reader) count(want string, minSize int64) (int, error) {
	at := r.offset()
	n, err := r.i32(want)
	if err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, r.failf(at, want, "negative count %d", n)
	}
	if err := r.check(at, want, int64(n), minSize); err != nil {
		return 0, err
	}
	return int(n), nil
}

// check verifies that n elements of minSize bytes fit in what is left.
func (r *reader) check(at int64, want string, n, minSize int64) error {
	if rem := r.remaining(); rem >= 0 && n*minSize > rem {
		return r.failf(at, want, "count %d needs at least %d bytes but only %d are left", n, n*minSize, rem)
	}
	return nil
}

// capFor is the initial capacity for n elements. Counts were already
// checked against the bytes left, but an element in memory can be several
// times its smallest encoding, so very large counts start smaller and grow
// as elements actually decode: a lying count never costs more than a few
// MB before the data runs out.
func (r *reader) capFor(n int) int {
	limit := 1 << 16
	if r.size < 0 {
		limit = 4096
	}
	return min(n, limit)
}

// bytes reads n raw bytes into a new slice.
func (r *reader) bytes(n int, want string) ([]byte, error) {
	at := r.offset()
	if n < 0 {
		return nil, r.failf(at, want, "negative length %d", n)
	}
	if err := r.check(at, want, int64(n), 1); err != nil {
		return nil, err
	}
	if n <= r.end-r.pos {
		out := make([]byte, n)
		copy(out, r.buf[r.pos:r.pos+n])
		r.pos += n
		return out, nil
	}
	// Grow with the data actually read, so a wrong length in a stream of
	// unknown size fails at EOF instead of allocating n bytes up front.
	out := make([]byte, 0, min(n, 1<<20))
	for len(out) < n {
		if r.pos == r.end {
			if err := r.fill(1, want); err != nil {
				return nil, r.failf(at, want, "%d bytes, file ends after %d", n, len(out))
			}
		}
		k := min(n-len(out), r.end-r.pos)
		out = append(out, r.buf[r.pos:r.pos+k]...)
		r.pos += k
	}
	return out, nil
}

// rest reads everything up to the end of the input (at most limit bytes).
func (r *reader) rest(limit int, want string) ([]byte, error) {
	at := r.offset()
	var out []byte
	for {
		out = append(out, r.buf[r.pos:r.end]...)
		r.pos = r.end
		if len(out) > limit {
			return nil, r.failf(at, want, "more than %d bytes", limit)
		}
		if !r.srcOK {
			return out, nil
		}
		if err := r.fill(1, want); err != nil {
			if errors.Is(err, ErrTruncated) {
				return out, nil
			}
			return nil, err
		}
	}
}

// atEOF reports whether the input is exhausted.
func (r *reader) atEOF() (bool, error) {
	if r.pos < r.end {
		return false, nil
	}
	err := r.fill(1, "end of file")
	if errors.Is(err, ErrTruncated) {
		return true, nil
	}
	return false, err
}

// stringTable turns modified-UTF-8 bytes into Go strings. Short strings
// that repeat (local file names like 000010.sst, state names) share one
// copy; the rest are carved out of large chunks instead of one allocation
// each, which keeps a 100 MB file's million strings cheap to build and to
// scan for the garbage collector. Strings are never modified after they
// are handed out, so sharing a chunk is safe.
type stringTable struct {
	m     map[string]string
	chunk []byte
}

const (
	internMax = 24
	chunkSize = 64 << 10
)

func (t *stringTable) decode(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", true
	}
	if len(b) <= internMax {
		if s, ok := t.m[string(b)]; ok { // no allocation for the lookup
			return s, true
		}
	}
	var s, key string
	if isPlainASCII(b) {
		s = t.store(b)
		key = s // the raw bytes and the string are the same
	} else {
		d, ok := decodeMUTF8(b)
		if !ok {
			return "", false
		}
		s = t.store(unsafe.Slice(unsafe.StringData(d), len(d)))
		key = string(b) // the table is keyed by the raw modified UTF-8
	}
	if len(b) <= internMax {
		if t.m == nil {
			t.m = make(map[string]string)
		}
		if len(t.m) < 1<<16 {
			t.m[key] = s
		}
	}
	return s, true
}

// store copies b into the current chunk and returns it as a string.
func (t *stringTable) store(b []byte) string {
	if len(b) > chunkSize/8 {
		return string(b)
	}
	if len(t.chunk) < len(b) {
		t.chunk = make([]byte, chunkSize)
	}
	n := copy(t.chunk, b)
	s := unsafe.String(&t.chunk[0], n)
	t.chunk = t.chunk[n:]
	return s
}

// isPlainASCII reports whether b holds only bytes 0x01..0x7F, where
// modified UTF-8 and Go strings agree; eight bytes at a time.
func isPlainASCII(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		// A high bit set, or a zero byte (the classic has-zero-byte test).
		if w&hi != 0 || (w-lo)&^w&hi != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return true
}
