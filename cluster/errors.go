package cluster

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Kinds of error, matched with errors.Is. The REST server turns them into
// Flink's status codes (404, 400, 409, 501) and the client turns those
// status codes back into them.
var (
	// ErrNotFound: unknown job, checkpoint, vertex, trigger or artifact.
	ErrNotFound = errors.New("not found")
	// ErrBadRequest: a malformed request (bad job ID, bad enum value,
	// missing target directory with no default).
	ErrBadRequest = errors.New("bad request")
	// ErrConflict: the request does not fit the job's state (cancelling a
	// job that already finished).
	ErrConflict = errors.New("conflict")
	// ErrNotSupported: the cluster cannot do this (yet).
	ErrNotSupported = errors.New("not supported")
	// ErrUnreachable: the cluster did not answer (connection refused,
	// timeout).
	ErrUnreachable = errors.New("unreachable")
	// ErrDenied: the target (or a proxy in front of it) refused who we are
	// — HTTP 401/403 — or the TLS handshake failed (an untrusted or
	// mismatching certificate, a client certificate required).
	ErrDenied = errors.New("access denied")
)

// Error is a failed call: which operation, what kind of failure and the
// cluster's message.
type Error struct {
	// Kind is one of the Err* sentinels, or nil for an internal error.
	Kind error
	// Op names the call, e.g. "GET http://jm:8081/jobs/abc" or "cancel job abc".
	Op string
	// Status is the HTTP status when the call went over REST (0 otherwise).
	Status int
	// Message is what the cluster said, without Java stack traces.
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.Status)
	}
	if e.Message != "" {
		b.WriteString(e.Message)
	} else if e.Kind != nil {
		b.WriteString(e.Kind.Error())
	} else {
		b.WriteString("failed")
	}
	return b.String()
}

// Is matches the error's kind.
func (e *Error) Is(target error) bool { return e.Kind != nil && target == e.Kind }

// Errorf makes an *Error of kind with a formatted message.
func Errorf(kind error, format string, a ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, a...)}
}

// JobNotFound is the error for an unknown job ID.
func JobNotFound(jobID string) *Error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf("Job %s not found", jobID)}
}

// Failure is why an asynchronous operation failed, as Flink reports it
// (failure-cause / failureCause): the Java exception class and its stack
// trace, whose lines without "at ..." frames are the chain of causes.
type Failure struct {
	Class      string
	StackTrace string
}

// Causes is the chain of "class: message" lines, outermost first.
func (f *Failure) Causes() []string {
	var out []string
	for _, l := range strings.Split(f.StackTrace, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "...") {
			continue
		}
		t = strings.TrimPrefix(t, "Caused by: ")
		out = append(out, t)
	}
	if len(out) == 0 && f.Class != "" {
		out = append(out, f.Class)
	}
	return out
}

// Error is the outermost cause and, when different, the root cause: the
// two lines an operator needs.
func (f *Failure) Error() string {
	c := f.Causes()
	switch len(c) {
	case 0:
		return "operation failed"
	case 1:
		return c[0]
	}
	return c[0] + " (caused by " + c[len(c)-1] + ")"
}

// savepointCreatedRE is Flink's StopWithSavepointStoppingException: the
// savepoint completed, then the job failed while stopping.
var savepointCreatedRE = regexp.MustCompile(`A savepoint has been created at: (\S+), but the corresponding job`)

// SavepointLocation is the savepoint a failed stop-with-savepoint still
// wrote — complete and consistent, only its transactions may be
// uncommitted — found in the failure's text ("" when there is none). Flink
// reports it only there; a tool that treats the stop as failed would lose
// a valid savepoint.
func (f *Failure) SavepointLocation() string {
	if f == nil {
		return ""
	}
	for _, s := range []string{f.StackTrace, f.Class} {
		if m := savepointCreatedRE.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}

// IsJobID reports whether s is a job ID: 32 hexadecimal digits.
func IsJobID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
