package edge

import (
	"bytes"
	"container/list"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// entry is one cached origin response. Its body is in memory or, when large, in a file of
// the cache dir; entries are immutable once stored, except for expiry on a refresh.
type entry struct {
	key     string
	status  int
	header  http.Header
	body    []byte // in memory, or
	file    string // spilled to disk
	size    int64
	fetched time.Time // by the edge's clock, for Age
	expires time.Time
	elem    *list.Element
}

// open returns the body for reading; a spilled entry's file may have been evicted meanwhile.
func (e *entry) open() (io.ReadSeeker, io.Closer, error) {
	if e.file == "" {
		return bytes.NewReader(e.body), io.NopCloser(nil), nil
	}
	f, err := os.Open(e.file)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

// store is an LRU cache bounded by bytes, separately for memory and for disk.
type store struct {
	mu                sync.Mutex
	memMax, diskMax   int64
	memUsed, diskUsed int64
	evictions         int64
	lru               *list.List // front: most recently used
	items             map[string]*entry
}

// CacheStats describes what an edge holds.
type CacheStats struct {
	Objects     int
	MemoryBytes int64
	DiskBytes   int64
	Evictions   int64
}

func newStore(memMax, diskMax int64) *store {
	return &store{memMax: memMax, diskMax: diskMax, lru: list.New(), items: map[string]*entry{}}
}

func (s *store) get(key string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.items[key]
	if e != nil {
		s.lru.MoveToFront(e.elem)
	}
	return e
}

// fits reports whether an object of size could ever be stored in the tier it would go to.
func (s *store) fits(size int64, onDisk bool) bool {
	if onDisk {
		return size <= s.diskMax
	}
	return size <= s.memMax
}

// put stores e, replacing any entry of its key and evicting least recently used entries of
// the same tier until it fits. It returns how many entries were evicted.
func (s *store) put(e *entry) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.items[e.key]; old != nil {
		s.removeLocked(old)
	}
	if !s.fits(e.size, e.file != "") {
		discard(e)
		return 0
	}
	evicted := 0
	for el := s.lru.Back(); el != nil && s.over(e); {
		prev := el.Prev()
		if victim := el.Value.(*entry); (victim.file != "") == (e.file != "") {
			s.removeLocked(victim)
			evicted++
		}
		el = prev
	}
	s.evictions += int64(evicted)
	e.elem = s.lru.PushFront(e)
	s.items[e.key] = e
	if e.file != "" {
		s.diskUsed += e.size
	} else {
		s.memUsed += e.size
	}
	return evicted
}

func (s *store) over(e *entry) bool {
	if e.file != "" {
		return s.diskUsed+e.size > s.diskMax
	}
	return s.memUsed+e.size > s.memMax
}

// refresh gives an entry a new expiry after the origin confirmed it unchanged.
func (s *store) refresh(e *entry, now, expires time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.fetched, e.expires = now, expires
}

func (s *store) fresh(e *entry, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Before(e.expires)
}

func (s *store) age(e *entry, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return now.Sub(e.fetched)
}

func (s *store) remove(e *entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items[e.key] == e {
		s.removeLocked(e)
	}
}

func (s *store) removeLocked(e *entry) {
	delete(s.items, e.key)
	s.lru.Remove(e.elem)
	if e.file != "" {
		s.diskUsed -= e.size
	} else {
		s.memUsed -= e.size
	}
	discard(e)
}

// removeMatching drops every entry whose key matches, for invalidations.
func (s *store) removeMatching(match func(key string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.items {
		if match(k) {
			s.removeLocked(e)
			n++
		}
	}
	return n
}

func (s *store) clear() {
	s.removeMatching(func(string) bool { return true })
}

func (s *store) stats() CacheStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return CacheStats{Objects: len(s.items), MemoryBytes: s.memUsed, DiskBytes: s.diskUsed, Evictions: s.evictions}
}

// discard deletes a spilled body; a reader that still has it open keeps reading (POSIX).
func discard(e *entry) {
	if e.file != "" {
		os.Remove(e.file) // a failure leaves a file in the cache dir, removed at Stop
	}
}
