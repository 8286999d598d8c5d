// Command echoserver is the service the fleet tests deploy: it answers every request with
// its environment and the request it saw, has a /healthz that can be turned unhealthy, and
// exits on request.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
)

func main() {
	var unhealthy atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if unhealthy.Load() {
			http.Error(w, "unhealthy on request", http.StatusInternalServerError)
			return
		}
		w.Write([]byte("ok"))
	})
	mux.HandleFunc("POST /healthz", func(w http.ResponseWriter, r *http.Request) {
		unhealthy.Store(r.URL.Query().Get("status") == "fail")
	})
	mux.HandleFunc("POST /crash", func(w http.ResponseWriter, r *http.Request) {
		os.Exit(3)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		wd, _ := os.Getwd()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"listen":  os.Getenv("LISTEN_ADDR"),
			"env":     env,
			"dir":     wd,
			"host":    r.Host,
			"uri":     r.RequestURI,
			"headers": r.Header,
		})
	})
	log.Fatal(http.ListenAndServe(os.Getenv("LISTEN_ADDR"), mux))
}
