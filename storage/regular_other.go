//go:build !unix

package storage

const openNonBlock = 0
