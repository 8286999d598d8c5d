package changelog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The repository's own changelog is well formed, and every pin that its READMEs show names
// its newest release, so that the line a reader copies resolves to a tag.
func TestTheRepositoryPinsItsNewestRelease(t *testing.T) {
	c, err := ReadFile("../CHANGELOG.md")
	require.NoError(t, err)
	latest, err := c.Latest()
	require.NoError(t, err)
	readmes, err := filepath.Glob("../modules/*/README.md")
	require.NoError(t, err)
	assert.NoError(t, c.CheckPins(append([]string{"../README.md"}, readmes...)...))
	assert.NotEmpty(t, latest.Notes)
}

const good = `# Changelog

Preamble.

## [Unreleased]

### Fixed

- Something after 1.1.0.

## [1.1.0] - 2026-12-03

### Added

- A module.

## [1.0.0] - 2026-11-30

### Added

- Everything.

[Unreleased]: https://example.test/compare/v1.1.0...HEAD
[1.1.0]: https://example.test/releases/tag/v1.1.0
[1.0.0]: https://example.test/releases/tag/v1.0.0
`

func TestParse(t *testing.T) {
	c, err := Parse([]byte(good))
	require.NoError(t, err)
	assert.Equal(t, "### Fixed\n\n- Something after 1.1.0.", c.Unreleased)
	require.Len(t, c.Releases, 2)
	latest, err := c.Latest()
	require.NoError(t, err)
	assert.Equal(t, "v1.1.0", latest.Tag())
	assert.Equal(t, "### Added\n\n- A module.", latest.Notes)
	r, err := c.Release("v1.0.0")
	require.NoError(t, err)
	assert.Equal(t, "### Added\n\n- Everything.", r.Notes, "the link references are not notes")
	_, err = c.Release("2.0.0")
	assert.EqualError(t, err, "the changelog has no release 2.0.0")
}

func TestParseSaysWhatIsWrong(t *testing.T) {
	for name, c := range map[string]struct{ text, err string }{
		"no unreleased first":   {"## [1.0.0] - 2026-01-01\n### Added\n- x\n[1.0.0]: u\n", `line 1: the first section must be "## [Unreleased]"`},
		"not semver":            {"## [Unreleased]\n## [1.0] - 2026-01-01\n### Added\n- x\n", `line 2: "1.0" is not a semantic version`},
		"with a v":              {"## [Unreleased]\n## [v1.0.0] - 2026-01-01\n### Added\n- x\n", `"v1.0.0" is not a semantic version`},
		"undated":               {"## [Unreleased]\n## [1.0.0]\n### Added\n- x\n", `release 1.0.0 has no date`},
		"bad date":              {"## [Unreleased]\n## [1.0.0] - 03/12/2026\n### Added\n- x\n", `date "03/12/2026" is not YYYY-MM-DD`},
		"oldest first":          {"## [Unreleased]\n## [1.0.0] - 2026-01-01\n### Added\n- x\n## [1.1.0] - 2026-02-01\n### Added\n- y\n", "line 5: 1.1.0 comes after 1.0.0: releases go newest first"},
		"a version twice":       {"## [Unreleased]\n## [1.0.0] - 2026-01-01\n### Added\n- x\n## [1.0.0] - 2026-01-01\n### Added\n- y\n", "each version once"},
		"dated after the newer": {"## [Unreleased]\n## [1.1.0] - 2026-01-01\n### Added\n- x\n## [1.0.0] - 2026-02-01\n### Added\n- y\n", "1.0.0 is dated after 1.1.0"},
		"unknown group":         {"## [Unreleased]\n## [1.0.0] - 2026-01-01\n### Features\n- x\n", `"Features" under [1.0.0] is not a change group`},
		"empty release":         {"## [Unreleased]\n## [1.0.0] - 2026-01-01\n\n[Unreleased]: u\n[1.0.0]: u\n", "release 1.0.0 has no notes"},
		"no link":               {"## [Unreleased]\n## [1.0.0] - 2026-01-01\n### Added\n- x\n[Unreleased]: u\n", "the heading [1.0.0] has no link reference"},
		"bad heading":           {"## [Unreleased]\n## 1.0.0\n", `line 2: "## 1.0.0" is not a release heading`},
		"empty":                 {"# Changelog\n", `no "## [Unreleased]" section`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.err)
		})
	}
}

func TestCheckPins(t *testing.T) {
	c, err := Parse([]byte(good))
	require.NoError(t, err)
	write := func(text string) string {
		f := filepath.Join(t.TempDir(), "README.md")
		require.NoError(t, os.WriteFile(f, []byte(text), 0o644))
		return f
	}
	assert.NoError(t, c.CheckPins(write(`source = "git::https://x.test/r.git//modules/a?ref=v1.1.0"`)))
	err = c.CheckPins(write("a\n" + `source = "git::https://x.test/r.git//modules/a?ref=v1.0.0"`))
	assert.ErrorContains(t, err, "README.md:2: ?ref=v1.0.0, but the newest release in the changelog is v1.1.0")
	assert.ErrorContains(t, c.CheckPins(write("no pin here")), "no ?ref= pin")
	_, err = (&Changelog{}).Latest()
	assert.ErrorContains(t, err, "no release yet")
}
