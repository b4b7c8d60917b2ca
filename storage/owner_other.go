//go:build !unix

package storage

import "io/fs"

func fileOwner(fs.FileInfo) (owner, group string) { return "", "" }
