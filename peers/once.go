package peers

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
)

// oncePeer is a peer started on first use, once per test binary: every
// test of the binary gets the same one, or the same reason it is missing.
type oncePeer[T any] struct {
	once sync.Once
	peer *T
	skip string // why it is unavailable (skip, or fail under Required)
	err  error  // it should have run but failed to start
}

// get returns the peer, starting it on first use. what names it in
// messages ("S3"); external is the variable that names a peer already
// running elsewhere, which -short uses instead of starting one ("" if
// none). start returns the peer, or why it cannot run here, or an error.
func (o *oncePeer[T]) get(t testing.TB, what, external string, start func() (*T, string, error)) *T {
	t.Helper()
	if testing.Short() && (external == "" || os.Getenv(external) == "") {
		t.Skipf("SKIPPING: real %s not started in -short mode", what)
	}
	o.once.Do(func() { o.peer, o.skip, o.err = start() })
	if o.skip != "" {
		Unavailable(t, "%s: %s", what, o.skip)
	}
	if o.err != nil {
		t.Fatalf("real %s peer failed: %v", what, o.err)
	}
	return o.peer
}

// testPrefix is a fresh name for t's files on a shared peer:
// test-<test name>-<random>.
func testPrefix(t testing.TB) string {
	var b [4]byte
	rand.Read(b[:])
	name := unsafeName.ReplaceAllString(t.Name(), "_")
	if len(name) > 60 {
		name = name[:60]
	}
	return "test-" + name + "-" + hex.EncodeToString(b[:])
}
