package storage

import (
	"errors"
	"io"
	"io/fs"
	"sync"
)

// rangedFile is a File over an object store's ranged reads, shared by
// every object-store backend (S3, and Azure and GCS through objectFS):
// ReadAt is one ranged read; sequential reads go through a buffer of
// chunk bytes, so a decoder reading a few bytes at a time costs one request
// per chunk, and reads at least a chunk long skip the buffer.
type rangedFile struct {
	uri   string
	size  int64
	chunk int
	// fetch reads exactly len(dst) bytes at off (one ranged request,
	// pinned to the version opened).
	fetch func(dst []byte, off int64) error

	mu     sync.Mutex // guards the sequential state below
	pos    int64
	buf    []byte
	bufOff int64
	closed bool
}

func (f *rangedFile) Size() int64 { return f.size }

func (f *rangedFile) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, &Error{Op: "read", URI: f.uri, Err: errors.New("negative offset")}
	}
	if off >= f.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), f.size-off))
	if n > 0 {
		if err := f.fetch(b[:n], off); err != nil {
			return 0, err
		}
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (f *rangedFile) Read(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, &Error{Op: "read", URI: f.uri, Err: fs.ErrClosed}
	}
	if len(b) == 0 {
		return 0, nil
	}
	if f.pos >= f.size {
		return 0, io.EOF
	}
	if f.pos < f.bufOff || f.pos >= f.bufOff+int64(len(f.buf)) {
		if len(b) >= f.chunk {
			n, err := f.ReadAt(b, f.pos)
			f.pos += int64(n)
			if err == io.EOF && n > 0 {
				err = nil
			}
			return n, err
		}
		n := int(min(int64(f.chunk), f.size-f.pos))
		if cap(f.buf) < n {
			f.buf = make([]byte, n)
		}
		f.buf = f.buf[:n]
		if err := f.fetch(f.buf, f.pos); err != nil {
			f.buf = f.buf[:0]
			return 0, err
		}
		f.bufOff = f.pos
	}
	n := copy(b, f.buf[f.pos-f.bufOff:])
	f.pos += int64(n)
	return n, nil
}

func (f *rangedFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.pos + offset
	case io.SeekEnd:
		abs = f.size + offset
	default:
		return 0, &Error{Op: "seek", URI: f.uri, Err: errors.New("invalid whence")}
	}
	if abs < 0 {
		return 0, &Error{Op: "seek", URI: f.uri, Err: errors.New("negative position")}
	}
	f.pos = abs
	return abs, nil
}

func (f *rangedFile) Close() error {
	f.mu.Lock()
	f.closed = true
	f.buf = nil
	f.mu.Unlock()
	return nil
}
