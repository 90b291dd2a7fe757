package model

import "math"

// Finite, Positive and NonNegative are the checks every input of the model
// passes: NaN and the infinities are never a rate, a cost or a ratio.
func Finite(x float64) bool      { return !math.IsNaN(x) && !math.IsInf(x, 0) }
func Positive(x float64) bool    { return Finite(x) && x > 0 }
func NonNegative(x float64) bool { return Finite(x) && x >= 0 }
