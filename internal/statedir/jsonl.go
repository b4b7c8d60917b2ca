package statedir

import (
	"bytes"
	"encoding/json"
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
