// Command proxysizer sizes Istio/Envoy sidecars from measurements: it load-tests
// a proxy at several concurrency and CPU settings, fits its cost, and turns the
// result into requests, limits, concurrency and HPA targets.
package main

import (
	"os"

	"github.com/proxysizer/proxysizer/cmd"
	"github.com/proxysizer/proxysizer/driver/local"
)

func main() {
	// A sweep's lab app runs as a child copy of this binary.
	local.RunLabAppIfChild()
	os.Exit(cmd.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
