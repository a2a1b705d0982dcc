package group

import (
	"slices"
	"testing"
)

// TestResolveRegexesMatchesWholeNames: a regex matches a topic only if it
// matches all of its name (RE2/J's matches()), with any alternative, not
// just the leftmost-first one Go's MatchString would stop at; Kafka's
// internal topics never match.
func TestResolveRegexesMatchesWholeNames(t *testing.T) {
	topics := []string{"a", "ab", "xab", "orders-1", "orders", "__consumer_offsets", "__transaction_state", "__share_group_state", "__weir_metrics"}
	for re, want := range map[string][]string{
		"a|ab":      {"a", "ab"},
		"orders-.*": {"orders-1"},
		"orders":    {"orders"},
		"(?i)AB":    {"ab"},
		".*":        {"__weir_metrics", "a", "ab", "orders", "orders-1", "xab"},
		"__.*":      {"__weir_metrics"},
		"^ab$":      {"ab"},
	} {
		if got := resolveRegexes([]string{re}, topics)[re]; !slices.Equal(got, want) {
			t.Errorf("%q matched %v, want %v", re, got, want)
		}
	}
}
