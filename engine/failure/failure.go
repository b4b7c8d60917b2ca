// Package failure classifies why a job attempt failed, for the restart
// strategy: a deterministic failure (a corrupt or missing snapshot file, a
// handle escaping its snapshot, an operator configuration its Open
// refuses) fails the same way on every attempt, so the job fails at once
// with its message; anything else (storage unreachable, a timeout, an
// operator's error while running) may pass and follows the restart
// strategy.
//
// Errors are marked where they arise (Deterministic) and the job's
// restart loop asks IsDeterministic: one classification, in one place.
package failure

import "errors"

// deterministic marks an error no restart can cure.
type deterministic struct{ err error }

func (d *deterministic) Error() string { return d.err.Error() }
func (d *deterministic) Unwrap() error { return d.err }

// Deterministic marks err as a failure that every attempt would repeat
// (nil stays nil). The message is err's own.
func Deterministic(err error) error {
	if err == nil || IsDeterministic(err) {
		return err
	}
	return &deterministic{err}
}

// IsDeterministic reports whether err, or an error it wraps, was marked
// Deterministic.
func IsDeterministic(err error) bool {
	var d *deterministic
	return errors.As(err, &d)
}
