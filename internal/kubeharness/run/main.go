// Command run starts the test harness's control plane and keeps it up until
// interrupted (or -for elapses), printing the admin kubeconfig's path: for
// poking at the harness by hand.
//
//	go run ./internal/kubeharness/run -for 10m [-autoscaling]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/proxysizer/proxysizer/internal/kubeharness"
)

func main() {
	d := flag.Duration("for", 10*time.Minute, "stop after this long")
	autoscaling := flag.Bool("autoscaling", false, "also run the HPA controller, metrics-server and kwok's resource metrics (the tests' settings)")
	flag.Parse()
	o := kubeharness.Options{Build: true, Log: os.Stderr}
	if *autoscaling {
		a := kubeharness.TestAutoscaling()
		o.Autoscaling = &a
	}
	h, err := kubeharness.Start(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer h.Stop()
	fmt.Printf("export KUBECONFIG=%s\n", h.Kubeconfig)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(*d):
	}
}
