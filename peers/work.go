package peers

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// workMarker is the file makeWork leaves in every per-binary work folder:
// pruneStaleWork removes only folders that carry it, so a folder the
// harness did not make is never removed, whatever its name.
const workMarker = ".ckpt-peer-work"

// makeWork makes this test binary's work folder, <root>/<prefix><pid>,
// marked as the harness's own.
func makeWork(root, prefix string) (string, error) {
	work := filepath.Join(root, prefix+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(work, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(work, workMarker), nil, 0o644); err != nil {
		return "", err
	}
	return work, nil
}

// pruneStaleWork removes the work folders (<prefix><pid>, marked by
// makeWork) of test binaries that are gone and whose server (its pid in
// pidFile) is gone too, so per-binary peers do not pile up. The whole
// folder goes: the harness made it and everything in it (logs, the
// server's data); an unmarked folder is left alone.
func pruneStaleWork(root, prefix, pidFile string) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), prefix))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) || err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // that binary is still running
		}
		dir := filepath.Join(root, e.Name())
		if fi, err := os.Lstat(filepath.Join(dir, workMarker)); err != nil || !fi.Mode().IsRegular() {
			continue // not made by makeWork
		}
		if b, err := os.ReadFile(filepath.Join(dir, pidFile)); err == nil {
			if spid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && syscall.Kill(spid, 0) == nil {
				continue // its server is still shutting down
			}
		}
		os.RemoveAll(dir)
	}
}
