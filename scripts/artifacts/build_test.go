package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFixture lays out a tiny module with two mains and one library package.
func writeFixture(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	files := map[string]string{
		"go.mod":           "module example.com/fixture\n\ngo 1.26\n",
		"hello/main.go":    "package main\n\nimport \"example.com/fixture/shared\"\n\nfunc main() { println(shared.Greeting) }\n",
		"worker/main.go":   "package main\n\nfunc main() { println(\"worker\") }\n",
		"shared/shared.go": "package shared\n\nconst Greeting = \"hello\"\n",
	}
	for name, body := range files {
		path := filepath.Join(src, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	}
	return src
}

func TestBuildIsDeterministicAndLambdaReady(t *testing.T) {
	src := writeFixture(t)
	ctx := context.Background()

	first, err := Build(ctx, Options{SourceRoot: src, OutDir: t.TempDir(), Arch: "amd64"})
	require.NoError(t, err)
	outDir := t.TempDir()
	second, err := Build(ctx, Options{SourceRoot: src, OutDir: outDir, Arch: "amd64"})
	require.NoError(t, err)

	require.Len(t, first.Artifacts, 2, "one artifact per main, none for the library")
	assert.Equal(t, first, second, "two builds of the same sources must give the same bytes")
	assert.Equal(t, "hello", first.Artifacts[0].Name)
	assert.Equal(t, "worker", first.Artifacts[1].Name)

	zr, err := zip.OpenReader(filepath.Join(outDir, "hello.zip"))
	require.NoError(t, err)
	defer zr.Close()
	require.Len(t, zr.File, 1)
	entry := zr.File[0]
	assert.Equal(t, "bootstrap", entry.Name, "the provided.al2023 runtime runs ./bootstrap")
	assert.Equal(t, os.FileMode(0o755), entry.Mode().Perm())
	assert.True(t, entry.Modified.Equal(zipEpoch), "entry time must not depend on the build time")

	rc, err := entry.Open()
	require.NoError(t, err)
	defer rc.Close()
	magic := make([]byte, 4)
	_, err = rc.Read(magic)
	require.NoError(t, err)
	assert.Equal(t, []byte("\x7fELF"), magic, "bootstrap must be a Linux executable")

	var manifest Manifest
	data, err := os.ReadFile(filepath.Join(outDir, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &manifest))
	assert.Equal(t, *second, manifest)
}

func TestBuildDoesNotRewriteUnchangedZips(t *testing.T) {
	src := writeFixture(t)
	out := t.TempDir()
	ctx := context.Background()
	_, err := Build(ctx, Options{SourceRoot: src, OutDir: out, Arch: "amd64"})
	require.NoError(t, err)

	zipPath := filepath.Join(out, "worker.zip")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, os.Chtimes(zipPath, old, old))
	_, err = Build(ctx, Options{SourceRoot: src, OutDir: out, Arch: "amd64"})
	require.NoError(t, err)
	info, err := os.Stat(zipPath)
	require.NoError(t, err)
	assert.True(t, info.ModTime().Equal(old), "an unchanged zip keeps its mtime")
}

func TestBuildArchitectures(t *testing.T) {
	src := writeFixture(t)
	ctx := context.Background()
	amd, err := Build(ctx, Options{SourceRoot: src, OutDir: t.TempDir(), Arch: "amd64"})
	require.NoError(t, err)
	arm, err := Build(ctx, Options{SourceRoot: src, OutDir: t.TempDir(), Arch: "arm64"})
	require.NoError(t, err)
	assert.NotEqual(t, amd.Artifacts[0].SHA256, arm.Artifacts[0].SHA256)
	assert.Equal(t, "arm64", arm.Artifacts[0].Arch)

	_, err = Build(ctx, Options{SourceRoot: src, OutDir: t.TempDir(), Arch: "386"})
	assert.ErrorContains(t, err, "use amd64 or arm64")
}

func TestBuildWithoutSources(t *testing.T) {
	out := t.TempDir()
	manifest, err := Build(context.Background(), Options{SourceRoot: filepath.Join(out, "absent"), OutDir: out, Arch: "amd64"})
	require.NoError(t, err)
	assert.Empty(t, manifest.Artifacts)
	data, err := os.ReadFile(filepath.Join(out, "manifest.json"))
	require.NoError(t, err)
	assert.True(t, bytes.Contains(data, []byte(`"artifacts": []`)))
}

func TestBuildReportsCompileErrors(t *testing.T) {
	src := writeFixture(t)
	require.NoError(t, os.WriteFile(filepath.Join(src, "worker", "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644))
	_, err := Build(context.Background(), Options{SourceRoot: src, OutDir: t.TempDir(), Arch: "amd64"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "example.com/fixture/worker")
	assert.Contains(t, err.Error(), "undefined")
}
