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

// readJSON reads one JSON object of at most limit bytes into v. When the body cannot be
// read it answers 400 (413 when too large) saying why, and returns false.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	status, msg := decodeJSON(w, r, limit, v)
	if status != 0 {
		writeError(w, r, status, "%s", msg)
		return false
	}
	return true
}

// decodeJSON reads one JSON object of at most limit bytes into v; status is 0 when it could.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) (status int, msg string) {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		var syntax *json.SyntaxError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit)
		case errors.Is(err, io.EOF):
			return http.StatusBadRequest, "request body is empty: send a JSON object"
		case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
			return http.StatusBadRequest, "request body is not valid JSON"
		case errors.As(err, &typeErr):
			return http.StatusBadRequest, fmt.Sprintf("field %q must be a %s", typeErr.Field, typeErr.Type.String())
		}
		return http.StatusBadRequest, "request body is not a JSON object: " + err.Error()
	}
	if dec.More() {
		return http.StatusBadRequest, "request body holds more than one JSON value"
	}
	return 0, ""
}
