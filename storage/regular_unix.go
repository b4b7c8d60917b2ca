//go:build unix

package storage

import "syscall"

// openNonBlock keeps open(2) of a named pipe without a writer from blocking
// (it has no effect on a regular file's reads).
const openNonBlock = syscall.O_NONBLOCK
