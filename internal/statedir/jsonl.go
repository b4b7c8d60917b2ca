package statedir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AppendJSONL appends one JSON line per value to the file at path in one
// write, creating it (0600) and its directory (0700) as needed, and syncs
// it: the history, the scheduler's journal and other notes ckpt keeps are
// all such files, read back line by line.
func AppendJSONL[T any](path string, values ...T) error {
	var b bytes.Buffer
	for _, v := range values {
		line, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadJSONL reads the JSON lines of the file at path (as AppendJSONL
// writes them), oldest first; a missing file has none. Blank lines are
// skipped. A last line that does not decode is one a crash cut short (a
// write is one append, so only the last can be torn): it is dropped, as
// what it would have said did not happen. Any other bad line is an error
// naming the file and line. lines counts every line read.
func ReadJSONL[T any](path string) (values []T, lines int, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		lines++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			if !sc.Scan() && sc.Err() == nil {
				break // the torn last line
			}
			return nil, lines, fmt.Errorf("%s:%d: %v", path, lines, err)
		}
		values = append(values, v)
	}
	if err := sc.Err(); err != nil {
		return nil, lines, fmt.Errorf("%s: %w", path, err)
	}
	return values, lines, nil
}
