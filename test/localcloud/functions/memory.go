package functions

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
)

var pageSize = int64(os.Getpagesize())

// groupRSS returns the resident memory, in bytes, of all processes in process group pgid:
// the bootstrap and whatever it started (ffmpeg, shells), which is what Lambda's memory
// limit covers. It reads /proc/<pid>/stat directly because no library here offers a
// by-group view, and a process that exits mid-scan is simply skipped.
func groupRSS(pgid int) int64 {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total int64
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// The command name in parentheses may contain spaces; fields follow the last ')'.
		i := bytes.LastIndexByte(data, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(data[i+1:])
		// After the name: state(0) ppid(1) pgrp(2) ... rss(21), see proc(5).
		if len(f) < 22 {
			continue
		}
		if g, _ := strconv.Atoi(string(f[2])); g != pgid {
			continue
		}
		pages, _ := strconv.ParseInt(string(f[21]), 10, 64)
		total += pages * pageSize
	}
	return total
}
