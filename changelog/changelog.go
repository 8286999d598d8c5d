// Package changelog reads CHANGELOG.md, kept in the Keep a Changelog 1.1.0 form
// (https://keepachangelog.com/en/1.1.0/) with semantic versions, for the release workflow
// (the notes of a release) and for the test that the READMEs name a released version.
package changelog

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Release is one "## [version] - date" section.
type Release struct {
	Version string    // semantic version without the v: "0.1.0"
	Date    time.Time // the day it was released
	Notes   string    // the section's body: its "### Added" and other groups
}

// Tag is the release's Git tag.
func (r Release) Tag() string { return "v" + r.Version }

// Changelog is the file's releases, newest first, and what is not released yet.
type Changelog struct {
	Unreleased string
	Releases   []Release
	links      map[string]string // "[0.1.0]: https://..." references, by label
}

// The change groups Keep a Changelog names, in its order.
var groups = []string{"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}

var (
	releaseHeading = regexp.MustCompile(`^## \[([^\]]+)\](?: - (\S+))?$`)
	linkReference  = regexp.MustCompile(`^\[([^\]]+)\]: (\S+)$`)
)

// ReadFile parses and checks a changelog file.
func ReadFile(path string) (*Changelog, error) {
	data, err := os.ReadFile(path) //nolint:gosec // the changelog its maintainer names on the command line
	if err != nil {
		return nil, err
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse reads a changelog and checks what a release relies on: an Unreleased section first,
// then releases with semantic versions, newest first, each dated (YYYY-MM-DD) no later than
// the one above it, each holding only Keep a Changelog's groups, and a link reference for
// every heading.
func Parse(data []byte) (*Changelog, error) {
	c := &Changelog{links: map[string]string{}}
	var (
		current *strings.Builder // the body being read
		heading string
		line    int
		seenAny bool
		bodies  = map[string]*strings.Builder{}
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), " \t")
		if m := linkReference.FindStringSubmatch(text); m != nil {
			c.links[m[1]] = m[2]
			current = nil
			continue
		}
		if strings.HasPrefix(text, "## ") {
			m := releaseHeading.FindStringSubmatch(text)
			if m == nil {
				return nil, fmt.Errorf("line %d: %q is not a release heading: want \"## [Unreleased]\" or \"## [1.2.3] - 2006-01-02\"", line, text)
			}
			heading = m[1]
			if !seenAny && heading != "Unreleased" {
				return nil, fmt.Errorf("line %d: the first section must be \"## [Unreleased]\", where changes gather until they are released", line)
			}
			seenAny = true
			current = &strings.Builder{}
			if heading == "Unreleased" {
				if m[2] != "" {
					return nil, fmt.Errorf("line %d: [Unreleased] has no date", line)
				}
				if bodies[heading] != nil {
					return nil, fmt.Errorf("line %d: a second [Unreleased] section", line)
				}
				bodies[heading] = current
				continue
			}
			r, err := release(heading, m[2])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", line, err)
			}
			if n := len(c.Releases); n > 0 {
				prev := c.Releases[n-1]
				if semver.Compare(r.Tag(), prev.Tag()) >= 0 {
					return nil, fmt.Errorf("line %d: %s comes after %s: releases go newest first, each version once", line, r.Version, prev.Version)
				}
				if r.Date.After(prev.Date) {
					return nil, fmt.Errorf("line %d: %s is dated after %s, which is above it", line, r.Version, prev.Version)
				}
			}
			c.Releases = append(c.Releases, r)
			bodies[heading] = current
			continue
		}
		if g, ok := strings.CutPrefix(text, "### "); ok && current != nil && !slices.Contains(groups, g) {
			return nil, fmt.Errorf("line %d: %q under [%s] is not a change group: use one of %s", line, g, heading, strings.Join(groups, ", "))
		}
		if current != nil {
			current.WriteString(text)
			current.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !seenAny {
		return nil, fmt.Errorf("no \"## [Unreleased]\" section and no release")
	}
	if b := bodies["Unreleased"]; b != nil {
		c.Unreleased = strings.TrimSpace(b.String())
	}
	for i := range c.Releases {
		r := &c.Releases[i]
		r.Notes = strings.TrimSpace(bodies[r.Version].String())
		if r.Notes == "" {
			return nil, fmt.Errorf("release %s has no notes", r.Version)
		}
	}
	for label := range bodies {
		if c.links[label] == "" {
			return nil, fmt.Errorf("the heading [%s] has no link reference: add \"[%s]: <URL of its release or comparison>\" at the end", label, label)
		}
	}
	return c, nil
}

func release(version, date string) (Release, error) {
	if !semver.IsValid("v"+version) || semver.Canonical("v"+version) != "v"+version {
		return Release{}, fmt.Errorf("%q is not a semantic version (MAJOR.MINOR.PATCH, no v)", version)
	}
	if date == "" {
		return Release{}, fmt.Errorf("release %s has no date: want \"## [%s] - YYYY-MM-DD\"", version, version)
	}
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return Release{}, fmt.Errorf("release %s: date %q is not YYYY-MM-DD", version, date)
	}
	return Release{Version: version, Date: d}, nil
}

// Latest is the newest release.
func (c *Changelog) Latest() (Release, error) {
	if len(c.Releases) == 0 {
		return Release{}, fmt.Errorf("the changelog has no release yet: move the Unreleased notes under \"## [0.1.0] - YYYY-MM-DD\"")
	}
	return c.Releases[0], nil
}

// Release finds a release by its version, with or without the v.
func (c *Changelog) Release(version string) (Release, error) {
	version = strings.TrimPrefix(version, "v")
	for _, r := range c.Releases {
		if r.Version == version {
			return r, nil
		}
	}
	return Release{}, fmt.Errorf("the changelog has no release %s", version)
}

// refPin is a module source pinned to a tag: "...?ref=v0.1.0".
var refPin = regexp.MustCompile(`[?&]ref=(v[0-9A-Za-z.+-]+)`)

// CheckPins reports every ?ref= in the files that does not name the newest release, so that
// what a reader copies is what was last released.
func (c *Changelog) CheckPins(files ...string) error {
	latest, err := c.Latest()
	if err != nil {
		return err
	}
	var errs []string
	found := 0
	for _, f := range files {
		data, err := os.ReadFile(f) //nolint:gosec // the READMEs its maintainer names on the command line
		if err != nil {
			return err
		}
		for i, l := range strings.Split(string(data), "\n") {
			for _, m := range refPin.FindAllStringSubmatch(l, -1) {
				found++
				if m[1] != latest.Tag() {
					errs = append(errs, fmt.Sprintf("%s:%d: ?ref=%s, but the newest release in the changelog is %s", f, i+1, m[1], latest.Tag()))
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s\n(name the newest release, or add the version to CHANGELOG.md)", strings.Join(errs, "\n"))
	}
	if found == 0 {
		return fmt.Errorf("no ?ref= pin in %s: the README shows how to pin a release", strings.Join(files, ", "))
	}
	return nil
}
