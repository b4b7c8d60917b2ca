package storage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/ckpt-dev/ckpt/internal/units"
)

// ErrNotRegular is matched by the error OpenRegular returns for a path that
// is not a regular file: a named pipe, a device (/dev/zero), a socket or a
// directory. Reading one can block forever or never end.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is matched by the error ReadRegular returns for a file above
// its bound.
var ErrTooLarge = errors.New("file too large")

// OpenRegular opens the local file at path for reading, refusing anything
// but a regular file — without blocking: a named pipe is opened
// non-blocking, so a FIFO with no writer is refused at once instead of
// hanging in open(2). A file (symbolic links followed) larger than max
// bytes is refused too (max ≤ 0: no bound). Errors name the path and say
// why: "open x: not a regular file (named pipe)", "open x: larger than
// 1 MiB (5 MiB)". Callers that read the file whole should read at most
// max bytes: a regular file can grow after the check (ReadRegular does).
func OpenRegular(path string, max int64) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil {
		// Checked before opening: open(2) of a device can itself have
		// effects (a tape rewinds, a tty becomes the controlling one).
		if err := checkRegular(path, fi, max); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|openNonBlock, 0)
	if err != nil {
		return nil, wrap("open", path, unwrapPathError(err))
	}
	// Checked again on what was opened: the path may have been replaced
	// between the two calls.
	fi, err := f.Stat()
	if err == nil {
		err = checkRegular(path, fi, max)
	} else {
		err = wrap("open", path, err)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadRegular reads the whole local regular file at path, at most max bytes
// (see OpenRegular; max must be positive).
func ReadRegular(path string, max int64) ([]byte, error) {
	f, err := OpenRegular(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, wrap("read", path, unwrapPathError(err))
	}
	if int64(len(b)) > max {
		return nil, &Error{Op: "read", URI: path, Err: fmt.Errorf("%w: larger than %s (it grew while read)", ErrTooLarge, units.Bytes(max))}
	}
	return b, nil
}

func checkRegular(path string, fi fs.FileInfo, max int64) error {
	if !fi.Mode().IsRegular() {
		return &Error{Op: "open", URI: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileType(fi.Mode()))}
	}
	if max > 0 && fi.Size() > max {
		return &Error{Op: "open", URI: path, Err: fmt.Errorf("%w: larger than %s (%s)", ErrTooLarge, units.Bytes(max), units.Bytes(fi.Size()))}
	}
	return nil
}

// fileType names a non-regular file type for messages.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return m.Type().String()
}

// FileTypeError is the error a caller holding a FileInfo (from Stat) gets
// for something that is not a regular file, worded as OpenRegular's.
func FileTypeError(uri string, mode fs.FileMode) error {
	if mode.IsRegular() {
		return nil
	}
	return &Error{Op: "open", URI: uri, Err: fmt.Errorf("%w (%s)", ErrNotRegular, fileType(mode))}
}
