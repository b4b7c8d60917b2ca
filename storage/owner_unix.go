//go:build unix

package storage

import (
	"io/fs"
	"os/user"
	"strconv"
	"sync"
	"syscall"
)

// ownerNames caches uid/gid → name lookups; a listing of thousands of files
// usually has one or two owners.
var ownerNames sync.Map // "u123" / "g123" → name

func lookupName(kind byte, id uint32) string {
	key := string(kind) + strconv.FormatUint(uint64(id), 10)
	if v, ok := ownerNames.Load(key); ok {
		return v.(string)
	}
	name := strconv.FormatUint(uint64(id), 10)
	if kind == 'u' {
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
	} else if g, err := user.LookupGroupId(name); err == nil {
		name = g.Name
	}
	ownerNames.Store(key, name)
	return name
}

// fileOwner names a local file's owner and group.
func fileOwner(fi fs.FileInfo) (owner, group string) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", ""
	}
	return lookupName('u', st.Uid), lookupName('g', st.Gid)
}
