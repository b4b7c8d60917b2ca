package shell

import (
	"context"
	"sync"
	"time"
)

// screenIDs tell apart messages of screens of the same type.
var screenIDs struct {
	sync.Mutex
	n int
}

// NewScreenID gives a screen its identity: the messages its commands
// send name it, so two screens of one kind never take each other's.
func NewScreenID() int {
	screenIDs.Lock()
	defer screenIDs.Unlock()
	screenIDs.n++
	return screenIDs.n
}

// WithTimeout bounds ctx by d; d <= 0 only makes it cancellable.
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
