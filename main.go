// Command proxysizer sizes Istio/Envoy sidecars from measurements: it load-tests
// a proxy at several concurrency and CPU settings, fits its cost, and turns the
// result into requests, limits, concurrency and HPA targets.
package main

import (
	"os"

	"github.com/proxysizer/proxysizer/cmd"
)

func main() {
	os.Exit(cmd.Execute(os.Args[1:], os.Stdout, os.Stderr))
}
