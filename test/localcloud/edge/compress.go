package edge

import (
	"compress/gzip"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// CloudFront compresses an answer when the behaviour says compress, the viewer accepts gzip
// and the answer is a whole object of a compressible type, 1,000 to 10,000,000 bytes long by
// its Content-Length, not already encoded ("Serve compressed files", CloudFront Developer
// Guide). Brotli, which CloudFront prefers when the viewer accepts it, is not made here:
// the standard library has no encoder, and gzip is what every viewer accepts.
const (
	minCompressed = 1000
	maxCompressed = 10_000_000
)

// compressedTypes are the content types CloudFront compresses (the guide's list, in part).
var compressedTypes = map[string]bool{
	"application/dash+xml": true, "application/javascript": true, "application/json": true,
	"application/vnd.apple.mpegurl": true, "application/x-mpegurl": true, "application/xml": true,
	"image/svg+xml": true, "text/css": true, "text/html": true, "text/javascript": true,
	"text/plain": true, "text/vtt": true, "text/xml": true,
}

// withCompression gzips what is written through w when CloudFront would.
func withCompression(w http.ResponseWriter, r *http.Request, b *behaviour) (http.ResponseWriter, func()) {
	if !b.compress || r.Method != http.MethodGet || r.Header.Get("Range") != "" || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return w, func() {}
	}
	cw := &compressWriter{ResponseWriter: w}
	return cw, cw.close
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a weight above zero.
func acceptsGzip(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, _ = strconv.ParseFloat(v, 64)
		}
		return q > 0
	}
	return false
}

type compressWriter struct {
	http.ResponseWriter
	gz    *gzip.Writer
	wrote bool
}

func (w *compressWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	w.wrote = true
	h := w.Header()
	size, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	mediaType, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if status == http.StatusOK && err == nil && size >= minCompressed && size <= maxCompressed &&
		h.Get("Content-Encoding") == "" && compressedTypes[mediaType] {
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		w.gz = gzip.NewWriter(w.ResponseWriter)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *compressWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return w.gz.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *compressWriter) close() {
	if w.gz != nil {
		w.gz.Close()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *compressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
