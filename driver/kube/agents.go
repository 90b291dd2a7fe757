package kube

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/proxysizer/proxysizer/loadgen"
)

// The load generator pods run proxysizer's own engine behind its agent
// (loadgen.Agent, `proxysizer load --serve`), driven with loadgen's
// AgentClient through the API server's pod proxy. Each returns a whole
// loadgen.Result, intended-start histogram and schedule counts included,
// so the merged run (loadgen.MergeResults) is judged exactly as a local
// one: the achieved and behind-schedule gates, the intended-start latency,
// the generators' CPU.

// agentMargin is how much longer than its load a run may take before its
// call is abandoned: the agent's connection check and the reply's way back
// through the API server.
const agentMargin = time.Minute

// agent is the client of one load pod's agent.
func (p podProxy) agent(pod string) *loadgen.AgentClient {
	return &loadgen.AgentClient{BaseURL: p.baseURL(pod, agentPort), Transport: apiStatusErrors{p.transport}}
}

// share is generator i's part of a run of o split across n generators:
// the rate divided evenly, the connections too (rounded up; left to the
// engine's sizing for the generator's own rate when o leaves them to it).
// A given seed differs per generator: one seed everywhere would give every
// generator the same Poisson schedule, n calls at once.
func share(o loadgen.Options, n, i int) loadgen.Options {
	o.QPS /= float64(n)
	if o.Connections > 0 {
		o.Connections = max(1, int(math.Ceil(float64(o.Connections)/float64(n))))
	}
	if o.Seed != 0 {
		o.Seed += uint64(i)
	}
	o.Progress = nil // the agents report only when done
	return o
}

// runGenerators runs o, split evenly, on every generator pod at once and
// returns their results in pod order. When one fails, the others are
// stopped and the failures returned, each naming its pod; on cancellation
// every generator is told to stop.
func (p podProxy) runGenerators(ctx context.Context, pods []string, o loadgen.Options) ([]*loadgen.Result, error) {
	n := len(pods)
	if n == 0 {
		return nil, errors.New("no load generator pods")
	}
	// The run is synchronous: bound it by its length plus a margin.
	runCtx, cancel := context.WithTimeout(ctx, o.Warmup+o.Duration+agentMargin)
	defer cancel()
	results := make([]*loadgen.Result, n)
	errs := make([]error, n)
	var failed sync.Once
	var wg sync.WaitGroup
	for i, pod := range pods {
		wg.Go(func() {
			results[i], errs[i] = p.agent(pod).Run(runCtx, share(o, n, i))
			if errs[i] != nil && runCtx.Err() == nil {
				// One generator short is a different load: stop the rest.
				failed.Do(cancel)
			}
		})
	}
	wg.Wait()
	if ctx.Err() != nil || errors.Join(errs...) != nil {
		p.stopGenerators(ctx, pods)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err := p.generatorErrors(pods, errs); err != nil {
		return nil, err
	}
	return results, nil
}

// generatorError is one generator's failure, naming its pod.
type generatorError struct {
	pod, msg string
	err      error
}

func (e *generatorError) Error() string { return "load generator pod " + e.pod + ": " + e.msg }
func (e *generatorError) Unwrap() error { return e.err }

// generatorErrors names each generator that failed on its own; those
// stopped because another failed are listed, not counted as failures.
func (p podProxy) generatorErrors(pods []string, errs []error) error {
	var own []error
	var stopped []string
	for i, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			stopped = append(stopped, pods[i])
		default:
			// The pod is named once, not also in the proxy's long URL.
			msg := strings.TrimPrefix(err.Error(), "load agent "+p.baseURL(pods[i], agentPort)+": ")
			own = append(own, &generatorError{pod: pods[i], msg: msg, err: err})
		}
	}
	switch {
	case len(own) == 0 && len(stopped) == 0:
		return nil
	case len(own) == 0:
		return fmt.Errorf("load generator pod(s) %s stopped before their results", strings.Join(stopped, ", "))
	case len(stopped) > 0:
		own = append(own, fmt.Errorf("the other load generator pod(s) stopped: %s", strings.Join(stopped, ", ")))
	}
	return failures(own)
}

// failures are several errors on one line (a step's reason is one line).
type failures []error

func (f failures) Error() string {
	msgs := make([]string, len(f))
	for i, err := range f {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (f failures) Unwrap() []error { return f }

// stopGenerators asks every generator to stop its run: the API server's
// pod proxy need not pass a cancelled call on to the pod.
func (p podProxy) stopGenerators(parent context.Context, pods []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, pod := range pods {
		wg.Go(func() { _ = p.agent(pod).Stop(ctx) })
	}
	wg.Wait()
}

// mergeGenerators merges the generators' results of one run of o and
// judges it as a local run is judged. Each generator whose own run failed
// a gate is named in a warning: the merged figures can pass while one
// node's generator fell behind.
func mergeGenerators(o loadgen.Options, pods []string, parts []*loadgen.Result) (*loadgen.Result, error) {
	res, err := loadgen.MergeResults(loadgen.RemoteRun{URL: o.URL, Protocol: o.Protocol, Labels: o.Labels,
		Warmup: o.Warmup, QPS: o.QPS, Arrival: o.Arrival, Limits: o.Limits}, parts)
	if err != nil {
		return nil, err
	}
	s := &res.Summary
	for i, part := range parts {
		if !part.Summary.Valid {
			s.Warnings = append(s.Warnings, fmt.Sprintf("load generator pod %s: its own share was invalid: %s",
				pods[i], strings.Join(part.Summary.InvalidReasons, "; ")))
		}
	}
	if realtimeApplies(o) && !s.GeneratorRealtime {
		s.Warnings = append(s.Warnings, "the load agents' event loops ran at normal priority: real-time priority needs CAP_SYS_NICE, "+
			"which the load pods do not have; calls go out late when other processes hold the node's CPU, which the behind-schedule gate shows")
	}
	return res, nil
}

// realtimeApplies says whether the engine would raise a run of o to
// real-time priority where allowed: a fixed-rate HTTP/1.1 run.
func realtimeApplies(o loadgen.Options) bool {
	return o.QPS > 0 && !o.NoRealtime && (o.Protocol == "" || o.Protocol == loadgen.HTTP1)
}
