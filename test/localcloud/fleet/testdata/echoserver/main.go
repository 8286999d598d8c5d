// Command echoserver is the service the fleet tests deploy: it answers every request with
// its environment and the request it saw (after ?sleep=<duration>, to keep a request in
// flight), has a /healthz that can be turned unhealthy, burns CPU for /burn?for=<duration>,
// and exits on request.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
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
	mux.HandleFunc("/burn", func(w http.ResponseWriter, r *http.Request) {
		d, _ := time.ParseDuration(r.URL.Query().Get("for"))
		n := 0
		for end := time.Now().Add(d); time.Now().Before(end); {
			n++
		}
		fmt.Fprintln(w, n)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(d)
		}
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
