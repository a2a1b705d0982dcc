package config

// suggest returns the known broker key closest to name by edit distance, or
// "" when none is close enough to be a likely typo.
func suggest(name string) string {
	best, bestDist := "", len(name)/3+1
	if bestDist > 4 {
		bestDist = 4
	}
	for _, d := range brokerTable {
		if dist := editDistance(name, d.Name); dist <= bestDist && (best == "" || dist < bestDist) {
			best, bestDist = d.Name, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
