// Package unpack extracts the zips the local cloud runs (Lambda code, fleet services) the
// way their AWS counterparts do: every entry under one folder, file modes kept, so that
// bootstrap stays executable.
package unpack

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path"
)

// Zip extracts the zip read from r (size bytes) under dir. Entries that would land
// outside dir are refused (os.Root).
func Zip(r io.ReaderAt, size int64, dir string) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	for _, zf := range zr.File {
		name := path.Clean(zf.Name)
		if zf.FileInfo().IsDir() {
			if err := root.MkdirAll(name, 0o755); err != nil {
				return err
			}
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return err
			}
		}
		if err := extract(root, zf, name); err != nil {
			return fmt.Errorf("%s: %w", zf.Name, err)
		}
	}
	return nil
}

// ZipFile is Zip for a zip file on disk.
func ZipFile(zipPath, dir string) error {
	f, err := os.Open(zipPath)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	return Zip(f, info.Size(), dir)
}

func extract(root *os.Root, zf *zip.File, name string) error {
	src, err := zf.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	mode := zf.Mode().Perm()
	if mode == 0 {
		mode = 0o644
	}
	dst, err := root.OpenFile(name, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil { //nolint:gosec // the project's own artifacts, read as the instance role
		dst.Close()
		return err
	}
	return dst.Close()
}
