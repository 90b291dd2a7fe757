package loadgen

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Phase names the part of a run in progress.
type Phase string

// The phases of Run.
const (
	PhaseWarmup  Phase = "warm-up"
	PhaseMeasure Phase = "measure"
)

// Progress is a snapshot of a run in flight.
type Progress struct {
	Phase        Phase
	Elapsed      time.Duration
	Duration     time.Duration
	Calls        int64   // calls completed so far in this phase
	RequestedQPS float64 // 0 for max rate
}

// QPS is the rate achieved so far in this phase.
func (p Progress) QPS() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Calls) / p.Elapsed.Seconds()
}

// ProgressPrinter writes progress for a person: on a terminal one line that
// refreshes in place, otherwise a plain line at most every PlainEvery (logs
// and CI capture every byte, so they get fewer, whole lines).
type ProgressPrinter struct {
	mu         sync.Mutex
	w          io.Writer
	terminal   bool
	prefix     string
	lastPlain  time.Time
	drawn      bool
	PlainEvery time.Duration
}

// NewProgressPrinter prints to w; terminal selects the refreshing line.
func NewProgressPrinter(w io.Writer, terminal bool) *ProgressPrinter {
	return &ProgressPrinter{w: w, terminal: terminal, PlainEvery: 2 * time.Second}
}

// SetPrefix puts text (e.g. the search step) before every following line.
func (p *ProgressPrinter) SetPrefix(prefix string) {
	p.mu.Lock()
	p.prefix = prefix
	p.mu.Unlock()
}

// Update prints pr; it is an Options.Progress.
func (p *ProgressPrinter) Update(pr Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := "max"
	if pr.RequestedQPS > 0 {
		rate = fmt.Sprintf("%.0f", pr.RequestedQPS)
	}
	text := fmt.Sprintf("%s%s %4.1fs/%.0fs  %d calls  %.1f qps (requested %s)",
		p.prefix, pr.Phase, pr.Elapsed.Seconds(), pr.Duration.Seconds(), pr.Calls, pr.QPS(), rate)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", text)
		p.drawn = true
		return
	}
	now := time.Now()
	if now.Sub(p.lastPlain) < p.PlainEvery {
		return
	}
	p.lastPlain = now
	fmt.Fprintln(p.w, text)
}

// Println prints a whole line, clearing a refreshing line first.
func (p *ProgressPrinter) Println(text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
	fmt.Fprintln(p.w, text)
}

// Done clears the refreshing line so that results start on a clean line.
func (p *ProgressPrinter) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearLocked()
}

func (p *ProgressPrinter) clearLocked() {
	if p.terminal && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}
