package unpack

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func zipOf(t *testing.T, files map[string]os.FileMode) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, mode := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		f, err := w.CreateHeader(h)
		require.NoError(t, err)
		_, err = f.Write([]byte("content of " + name))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestZipKeepsModes(t *testing.T) {
	dir := t.TempDir()
	data := zipOf(t, map[string]os.FileMode{"bootstrap": 0o755, "lib/data.txt": 0o644})
	require.NoError(t, Zip(bytes.NewReader(data), int64(len(data)), dir))
	info, err := os.Stat(filepath.Join(dir, "bootstrap"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), info.Mode().Perm(), "bootstrap must stay executable")
	got, err := os.ReadFile(filepath.Join(dir, "lib", "data.txt"))
	require.NoError(t, err)
	assert.Equal(t, "content of lib/data.txt", string(got))
}

func TestZipRefusesEntriesOutsideTheFolder(t *testing.T) {
	dir := t.TempDir()
	data := zipOf(t, map[string]os.FileMode{"../escape": 0o644})
	assert.Error(t, Zip(bytes.NewReader(data), int64(len(data)), filepath.Join(dir)))
	_, err := os.Stat(filepath.Join(filepath.Dir(dir), "escape"))
	assert.True(t, os.IsNotExist(err), "nothing may be written outside the folder")
}

func TestZipFile(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(t.TempDir(), "code.zip")
	require.NoError(t, os.WriteFile(zipPath, zipOf(t, map[string]os.FileMode{"bootstrap": 0o755}), 0o644))
	require.NoError(t, ZipFile(zipPath, dir))
	assert.FileExists(t, filepath.Join(dir, "bootstrap"))
}
