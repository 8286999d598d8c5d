// Package test holds the suites that deploy the stack's examples to a target and check,
// through the AWS APIs, what was really created.
package test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }

// standInZip is a small zip holding a shell bootstrap, deployed where a function or service
// artifact is required: these suites test the infrastructure, the code inside is tested with
// the code.
func standInZip(root string) string {
	return filepath.Join(root, "modules", "transcoder", "tests", "testdata", "function.zip")
}
