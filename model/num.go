package model

import "math"

func finite(x float64) bool            { return !math.IsNaN(x) && !math.IsInf(x, 0) }
func finiteNonNegative(x float64) bool { return finite(x) && x >= 0 }
