// Command bench is the load-test harness: it drives a Colibri2 bridge (ours, started on
// loopback, or any bridge of a deployment, Jitsi Videobridge included) with synthetic Jitsi
// Meet endpoints and writes a results folder. All logic lives in package bench.
//
//	bench --scenario meeting-10
//	bench capacity --scenario lecture --bridge-cpus 1 --generator-cpus 0
//	bench compare A/result.json B/result.json
package main

import (
	"os"

	"github.com/cityjitsi/videobridge/bench"
)

func main() {
	os.Exit(bench.Main(os.Args[1:], os.Stdout, os.Stderr))
}
