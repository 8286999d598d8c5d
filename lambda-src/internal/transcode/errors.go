package transcode

import (
	"errors"
	"fmt"
	"syscall"
)

// PermanentError is a failure that no retry can fix: the original is not a decodable video
// or exceeds the limits. Reason is meant for the media's owner.
type PermanentError struct {
	Reason string
	Err    error
}

func (e *PermanentError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *PermanentError) Unwrap() error { return e.Err }

// TransientError is a failure that a later attempt may not meet: S3 or the network
// misbehaving, the deadline coming too close.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// ErrChunksDiffer: a media's chunks cannot be joined, because they were encoded by different
// ffmpeg builds (a runner updated while they ran): they must all be encoded again.
var ErrChunksDiffer = errors.New("the chunks were encoded by different ffmpeg builds")

// ErrDeadline: the work was stopped to report before the invocation's deadline.
var ErrDeadline = errors.New("stopped before the deadline")

// ErrNoSpace: the working folder is full (a function's ephemeral storage): the job may pass
// on a machine with more room, and always fails again on this one.
var ErrNoSpace = errors.New("no space left in the working folder")

// IsNoSpace reports whether err comes from a full working folder, seen by ffmpeg or by a
// write of the transcoder's own.
func IsNoSpace(err error) bool {
	return errors.Is(err, ErrNoSpace) || errors.Is(err, syscall.ENOSPC)
}

// minFreeBytes is the room below which a working folder counts as full.
const minFreeBytes = 1 << 20

// freeBytes is how much room the file system of dir has left for this process.
var freeBytes = func(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil //nolint:gosec // a block size is positive
}

// inFullFolder returns err as an ErrNoSpace when dir's file system is full. ffmpeg's segment
// muxers may drop what they cannot write and still exit 0, so that a full folder shows only as
// missing output ("ffmpeg wrote no segment"); the room left says what the failure was.
func inFullFolder(dir string, err error) error {
	if err == nil || IsNoSpace(err) {
		return err
	}
	if free, serr := freeBytes(dir); serr != nil || free >= minFreeBytes {
		return err
	}
	return transient(fmt.Errorf("%w (%s has less than %d bytes left): %w", ErrNoSpace, dir, minFreeBytes, err))
}

func permanent(reason string, err error) error { return &PermanentError{Reason: reason, Err: err} }

func permanentf(format string, args ...any) error {
	return &PermanentError{Reason: fmt.Sprintf(format, args...)}
}

func transient(err error) error { return &TransientError{Err: err} }

// IsPermanent reports whether err must not be retried. Anything not classified is retried:
// a wrong "transient" costs a retry, a wrong "permanent" loses a video.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}
