// Command stamp applies, plans or destroys one platform across many regions, a Terraform
// state each, as the stamp file says (see package stamp and examples/multi-region):
//
//	stamp [-f stamp.hcl] [-regions us-east-1,eu-west-1] apply|plan|destroy
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/mediastack/terraform-aws-mediastack/stamp"
)

func main() {
	file := flag.String("f", "stamp.hcl", "the stamp file")
	regions := flag.String("regions", "", "comma-separated regions, replacing the file's (the home among them)")
	binary := flag.String("terraform", envOr("MEDIASTACK_TF_BINARY", "terraform"), "the Terraform or OpenTofu executable")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: stamp [flags] apply|plan|destroy\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	log.SetFlags(log.Ltime)

	cfg, err := stamp.ReadFile(*file)
	if err != nil {
		log.Fatal(err)
	}
	if *regions != "" {
		cfg.Regions = nil
		for _, r := range strings.Split(*regions, ",") {
			if r = strings.TrimSpace(r); r != "" {
				cfg.Regions = append(cfg.Regions, r)
			}
		}
		// The file's settings of the regions left out are kept for when they come back.
		for r := range cfg.RegionVars {
			if !slices.Contains(cfg.Regions, r) {
				delete(cfg.RegionVars, r)
			}
		}
	}
	cfg.Binary, cfg.Logf = *binary, log.Printf
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch flag.Arg(0) {
	case "apply":
		out, err := stamp.Apply(ctx, cfg)
		if err != nil {
			log.Fatal(err)
		}
		printJSON(out)
	case "plan":
		plans, err := stamp.Plan(ctx, cfg)
		if err != nil {
			log.Fatal(err)
		}
		for state, p := range plans {
			changes := 0
			for _, rc := range p.ResourceChanges {
				if !rc.Change.Actions.NoOp() && !rc.Change.Actions.Read() {
					changes++
				}
			}
			fmt.Printf("%s: %d to change\n", state, changes)
		}
	case "destroy":
		if err := stamp.Destroy(ctx, cfg); err != nil {
			log.Fatal(err)
		}
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func printJSON(out stamp.Outputs) {
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
