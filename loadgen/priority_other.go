//go:build !linux

package loadgen

// raiseThread does nothing where there are no event loops.
func raiseThread() (restore func(), raised bool) { return func() {}, false }
