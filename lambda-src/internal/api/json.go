package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// writeJSON writes v, never to be stored by any cache: most answers are one caller's.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeJSONCached(w, status, v, "private, no-store")
}

func writeJSONCached(w http.ResponseWriter, status int, v any, cacheControl string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheControl)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to tell it
}

// decodeError is a request body that could not be read; Status is 400 or 413.
type decodeError struct {
	Status int
	Msg    string
}

func (e *decodeError) Error() string { return e.Msg }

// decodeJSON reads one JSON object of at most limit bytes into v.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return &decodeError{http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit)}
		case errors.Is(err, io.EOF):
			return &decodeError{http.StatusBadRequest, "request body is empty: send a JSON object"}
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
			return &decodeError{http.StatusBadRequest, "request body is not valid JSON"}
		case errors.As(err, &typeErr):
			return &decodeError{http.StatusBadRequest, fmt.Sprintf("field %q must be a %s", typeErr.Field, typeErr.Type.String())}
		}
		return &decodeError{http.StatusBadRequest, "request body is not a JSON object: " + err.Error()}
	}
	if dec.More() {
		return &decodeError{http.StatusBadRequest, "request body holds more than one JSON value"}
	}
	return nil
}
