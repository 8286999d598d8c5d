package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Options says what to build and where.
type Options struct {
	SourceRoot string // folder searched for Go mains
	OutDir     string // folder the zips and the manifest go to
	Arch       string // GOARCH: amd64 or arm64
}

// Artifact describes one built zip.
type Artifact struct {
	Name       string `json:"name"`        // folder name of the main, e.g. "transcoder"
	Package    string `json:"package"`     // Go import path of the main
	Zip        string `json:"zip"`         // path of the zip, relative to the output folder
	Arch       string `json:"arch"`        // GOARCH the executable was built for
	SHA256     string `json:"sha256"`      // hex sha256 of the zip
	CodeSha256 string `json:"code_sha256"` // base64 sha256, as Lambda's GetFunction reports it
	Size       int64  `json:"size"`
}

// Manifest lists the artifacts of one build, sorted by name.
type Manifest struct {
	Artifacts []Artifact `json:"artifacts"`
}

// zipEpoch is the modification time written for every zip entry: the zip format's own
// epoch, so that the bytes do not depend on when the build ran.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Build compiles every main under opts.SourceRoot and writes the zips and manifest.json.
func Build(ctx context.Context, opts Options) (*Manifest, error) {
	if opts.Arch != "amd64" && opts.Arch != "arm64" {
		return nil, fmt.Errorf("unsupported architecture %q: use amd64 or arm64", opts.Arch)
	}
	if err := os.MkdirAll(opts.OutDir, 0o750); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	mains, err := findMains(ctx, opts.SourceRoot)
	if err != nil {
		return nil, err
	}
	manifest := &Manifest{Artifacts: []Artifact{}}
	for _, m := range mains {
		a, err := buildOne(ctx, m, opts)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", m.importPath, err)
		}
		manifest.Artifacts = append(manifest.Artifacts, a)
	}
	data, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := writeIfChanged(filepath.Join(opts.OutDir, "manifest.json"), append(data, '\n'), 0o644); err != nil {
		return nil, err
	}
	return manifest, nil
}

type mainPackage struct {
	name       string
	importPath string
	dir        string
}

// findMains lists the main packages below root with `go list`, so build tags and
// test-only folders are treated exactly as the go command treats them.
func findMains(ctx context.Context, root string) ([]mainPackage, error) {
	if !hasGoFiles(root) {
		return nil, nil
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-f", "{{.Name}}\t{{.ImportPath}}\t{{.Dir}}", "./...")
	cmd.Dir = abs
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list packages in %s: %w: %s", root, err, strings.TrimSpace(stderr.String()))
	}
	var mains []mainPackage
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) != 3 || f[0] != "main" {
			continue
		}
		rel, err := filepath.Rel(abs, f[2])
		if err != nil {
			return nil, err
		}
		mains = append(mains, mainPackage{
			name:       strings.ReplaceAll(filepath.ToSlash(rel), "/", "-"),
			importPath: f[1],
			dir:        f[2],
		})
	}
	sort.Slice(mains, func(i, j int) bool { return mains[i].name < mains[j].name })
	return mains, nil
}

func hasGoFiles(root string) bool {
	found := false
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || found {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			found = true
		}
		return nil
	})
	return found
}

func buildOne(ctx context.Context, m mainPackage, opts Options) (Artifact, error) {
	tmp, err := os.MkdirTemp("", "artifact-*")
	if err != nil {
		return Artifact{}, err
	}
	defer os.RemoveAll(tmp)

	exe := filepath.Join(tmp, "bootstrap")
	// -trimpath and an empty build id keep machine paths and build ids out of the binary;
	// -buildvcs=false keeps the commit out, so a rebuild after a commit is byte-identical.
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", //nolint:gosec // go build with the arguments of this build
		"-tags", "lambda.norpc", "-ldflags", "-s -w -buildid=", "-o", exe, ".")
	cmd.Dir = m.dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+opts.Arch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return Artifact{}, fmt.Errorf("go build: %w: %s", err, strings.TrimSpace(stderr.String()))
	}

	data, err := zipExecutable(exe)
	if err != nil {
		return Artifact{}, err
	}
	zipName := m.name + ".zip"
	if err := writeIfChanged(filepath.Join(opts.OutDir, zipName), data, 0o644); err != nil {
		return Artifact{}, err
	}
	sum := sha256.Sum256(data)
	return Artifact{
		Name:       m.name,
		Package:    m.importPath,
		Zip:        zipName,
		Arch:       opts.Arch,
		SHA256:     hex.EncodeToString(sum[:]),
		CodeSha256: base64.StdEncoding.EncodeToString(sum[:]),
		Size:       int64(len(data)),
	}, nil
}

// zipExecutable returns a zip holding exe as "bootstrap", mode 0755, with fixed metadata.
func zipExecutable(exe string) ([]byte, error) {
	f, err := os.Open(exe) //nolint:gosec // a file this build wrote
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipEpoch}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(w, f); err != nil {
		return nil, fmt.Errorf("zip %s: %w", exe, err)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIfChanged replaces path atomically, and only when its content differs.
func writeIfChanged(path string, data []byte, mode os.FileMode) error {
	old, err := os.ReadFile(path) //nolint:gosec // a file this build wrote
	if err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
