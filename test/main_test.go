// Package test holds the suites that deploy the stack's examples to a target and check,
// through the AWS APIs, what was really created.
package test

import (
	"os"
	"testing"

	"github.com/mediastack/terraform-aws-mediastack/test/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.RunMain(m)) }
