package restserver

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ckpt-dev/ckpt/cluster"
)

// Limits bound what clients can hold of the process: connections (each a
// file descriptor the running jobs' checkpoints need too) and how long a
// connection may sit idle or take to send a request.
type Limits struct {
	// MaxConns bounds open connections (default 128); past it new
	// connections wait in the kernel's backlog, holding no descriptor here.
	MaxConns int
	// ReadHeaderTimeout bounds sending a request's header (default 10 s);
	// a connection that sends nothing is closed after it.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, upload included (default 5 min).
	ReadTimeout time.Duration
	// WriteTimeout bounds handling a request and writing its answer (default 5 min).
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long (default 30 s).
	IdleTimeout time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.MaxConns <= 0 {
		l.MaxConns = 128
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = 10 * time.Second
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 5 * time.Minute
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 5 * time.Minute
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = 30 * time.Second
	}
	return l
}

// HTTPServer is an http.Server for h with l's timeouts, and ln wrapped to
// hold at most l.MaxConns connections: serve with srv.Serve(ln).
func HTTPServer(h http.Handler, ln net.Listener, l Limits) (*http.Server, *LimitListener) {
	l = l.withDefaults()
	srv := &http.Server{Handler: h, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: 64 << 10}
	return srv, NewLimitListener(ln, l.MaxConns)
}

// LimitListener accepts at most n connections at a time: Accept waits
// until one of them is closed.
type LimitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	open      atomic.Int64
	peak      atomic.Int64
}

// NewLimitListener wraps ln.
func NewLimitListener(ln net.Listener, n int) *LimitListener {
	return &LimitListener{Listener: ln, sem: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept implements net.Listener.
func (l *LimitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	n := l.open.Add(1)
	for {
		p := l.peak.Load()
		if n <= p || l.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &limitedConn{Conn: c, release: func() { l.open.Add(-1); <-l.sem }}, nil
}

// Close implements net.Listener.
func (l *LimitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Open is the number of connections open now; Peak the most at once.
func (l *LimitListener) Open() int { return int(l.open.Load()) }

// Peak is the most connections open at once so far.
func (l *LimitListener) Peak() int { return int(l.peak.Load()) }

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// pool bounds the operations a kind of request starts: each holds a slot
// until it has finished, also after its request was answered, so requests
// that block (a restore path that is a FIFO, a disposal on a hung mount)
// cannot pile up goroutines and threads past the bound.
type pool struct {
	name  string
	slots chan struct{}
}

func newPool(name string, n int) *pool {
	return &pool{name: name, slots: make(chan struct{}, n)}
}

// acquire takes a slot, waiting at most wait; false means all are busy.
func (p *pool) acquire(ctx context.Context, wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case p.slots <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (p *pool) release() { <-p.slots }

func (p *pool) busy() error {
	return &statusError{code: http.StatusServiceUnavailable, msg: "ckpt serve is busy: " + strconv.Itoa(cap(p.slots)) + " " + p.name +
		" operations are in progress; retry later"}
}

// statusError is an answer with its own status code.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// callBounded runs f in one of p's slots and waits for it up to timeout;
// f goes on in its slot after a timeout (its request is then answered 504)
// and the slot frees when it returns.
func callBounded[T any](s *Server, r *http.Request, p *pool, f func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	if !p.acquire(r.Context(), s.opts.QueueWait) {
		return zero, p.busy()
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.opts.CallTimeout)
	go func() {
		defer p.release()
		defer cancel()
		v, err := f(ctx)
		done <- result{v, err}
	}()
	t := time.NewTimer(s.opts.CallTimeout)
	defer t.Stop()
	select {
	case res := <-done:
		return res.v, res.err
	case <-t.C:
		return zero, &statusError{code: http.StatusGatewayTimeout,
			msg: "the operation did not finish within " + s.opts.CallTimeout.String() + "; it may still complete (see GET /jobs)"}
	}
}

// holdUntilDone keeps a slot of p until the asynchronous operation t has
// completed (polled in memory, with backoff), so background operations are
// bounded like synchronous ones.
func (s *Server) holdUntilDone(p *pool, t cluster.Trigger) {
	go func() {
		defer p.release()
		delay := 20 * time.Millisecond
		for {
			op, err := s.c.Poll(context.Background(), t)
			if err != nil || op.Status == cluster.Completed {
				return
			}
			select {
			case <-time.After(delay):
			case <-s.closed:
				return
			}
			delay = min(2*delay, time.Second)
		}
	}()
}
