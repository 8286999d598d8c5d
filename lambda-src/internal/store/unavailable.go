package store

import (
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err says that the database cannot be reached right now (it
// refuses connections, is restarting or failing over, or dropped the connection) rather than
// that the request or the data is wrong: the same call may succeed shortly. The upload API
// answers such errors 503, and a transcode job that meets one is retried.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	var netErr net.Error
	switch {
	case errors.As(err, &pgErr):
		// Class 08 is connection exceptions; 57P01-03 are an administrator's or a crash's
		// shutdown, and a server still starting up.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	// A connection pgx closed after a failure, or one that failed before sending anything.
	return errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err)
}
