// Package bytesize reads and writes sizes the way Weir's flags, policy
// files and messages write them: binary units, B, KiB, MiB, GiB, TiB.
package bytesize

import (
	"fmt"
	"strconv"
	"strings"
)

// Units.
const (
	KiB int64 = 1 << 10
	MiB int64 = 1 << 20
	GiB int64 = 1 << 30
	TiB int64 = 1 << 40
)

var units = []struct {
	suffix string
	mult   int64
}{{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", 1}}

// Parse reads a size: a count of bytes or a number with B, KiB, MiB, GiB or
// TiB ("500MiB", "1.5GiB", "1048576").
func Parse(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*float64(mult) > float64(1<<62) {
		return 0, fmt.Errorf("%q is not a size (such as 500MiB, 100GiB, 1TiB)", s)
	}
	return int64(f * float64(mult)), nil
}

// Format writes n exactly, in the largest binary unit that divides it
// ("10GiB", "1536MiB", "1000B"): what Parse reads back to n.
func Format(n int64) string {
	for _, u := range units {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// Human writes n to three significant figures in the largest unit under
// it ("1.23 GiB", "512 B"), for figures that are measured, not set.
func Human(n int64) string {
	if n < 0 {
		return "-" + Human(-n)
	}
	for _, u := range units[:4] {
		if n >= u.mult {
			v := float64(n) / float64(u.mult)
			prec := 2
			switch {
			case v >= 100:
				prec = 0
			case v >= 10:
				prec = 1
			}
			return strconv.FormatFloat(v, 'f', prec, 64) + " " + u.suffix
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}
