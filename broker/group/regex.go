package group

import (
	"maps"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Regex subscriptions (KIP-848's SubscribedTopicRegex), as Kafka 4.0's
// GroupMetadataManager resolves them: the group keeps, for every regex a
// member subscribes with, the topics it matched at the last refresh; a
// member's subscription is its explicit topic names plus its regex's
// topics (Kafka accepts both fields in one heartbeat and takes the union).
// Refreshes are rate-limited per group: at most one every
// RegexRefreshInterval (Kafka's REGEX_BATCH_REFRESH_MIN_INTERVAL_MS, 10s),
// driven by heartbeats and the coordinator's clock. Kafka refreshes when
// a regex is unresolved, the metadata image has new topics, or its refresh
// interval passed; without an image version here every allowed refresh
// rescans the topic list (topics × regexes matches, cheap). A refresh that
// changes what some regex matches bumps the group epoch, so members get
// new assignments. Deleted topics drop out of the subscription at once
// (refreshTopics finds them gone), without waiting for a refresh.
//
// Matching: Kafka compiles with Google's RE2/J and asks
// Pattern.matcher(topic).matches(), a match of the whole name, so the
// regex is anchored here ("^(?:re)$"). Go's regexp is RE2 as well: the
// same syntax (no backreferences, no lookaround), linear-time matching;
// their Unicode class tables may differ by version, which cannot change a
// match on a topic name (ASCII letters, digits, '.', '_', '-').
// Kafka's internal topics (Topic.isInternal) never match.

// defaultRegexRefreshInterval is Kafka's REGEX_BATCH_REFRESH_MIN_INTERVAL_MS.
const defaultRegexRefreshInterval = 10 * time.Second

// internalTopics are Kafka's Topic.INTERNAL_TOPICS.
var internalTopics = map[string]bool{
	"__consumer_offsets": true, "__transaction_state": true, "__share_group_state": true,
}

// compileTopicRegex compiles a SubscribedTopicRegex for whole-name
// matches, or returns Kafka's INVALID_REGULAR_EXPRESSION refusal.
func compileTopicRegex(re string) (*regexp.Regexp, *hbError) {
	if _, err := syntax.Parse(re, syntax.Perl); err != nil {
		desc := err.Error()
		if se, ok := err.(*syntax.Error); ok {
			desc = string(se.Code) + ": `" + se.Expr + "`"
		}
		return nil, fail(kerr.InvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %s.", re, desc)
	}
	return regexp.MustCompile("^(?:" + re + ")$"), nil
}

// resolveRegexes matches each regex against the topic names.
func resolveRegexes(regexes []string, topics []string) map[string][]string {
	out := make(map[string][]string, len(regexes))
	for _, re := range regexes {
		out[re] = []string{}
		rx, e := compileTopicRegex(re)
		if e != nil {
			continue // validated on arrival; ignored here, as Kafka does
		}
		for _, t := range topics {
			if !internalTopics[t] && rx.MatchString(t) {
				out[re] = append(out[re], t)
			}
		}
		slices.Sort(out[re])
	}
	return out
}

// regexes is the set of regexes the members subscribe with, sorted.
func (cg *consumerGroup) regexes() []string {
	set := map[string]bool{}
	for _, m := range cg.members {
		if m.regex != "" {
			set[m.regex] = true
		}
	}
	return sortedKeys(set)
}

// refreshRegexes re-resolves the group's regexes if the rate limit allows
// and reports whether what they match changed (the group epoch must then
// bump). Resolutions no member uses any more are dropped.
func (g *Group) refreshRegexes(cg *consumerGroup) bool {
	regexes := cg.regexes()
	for re := range cg.resolved {
		if !slices.Contains(regexes, re) {
			delete(cg.resolved, re)
		}
	}
	if len(regexes) == 0 {
		return false
	}
	now := g.now()
	if !cg.regexRefreshed.IsZero() && !now.After(cg.regexRefreshed.Add(g.c.cfg.RegexRefreshInterval)) {
		return false
	}
	cg.regexRefreshed = now
	resolved := resolveRegexes(regexes, g.c.topicNames())
	if maps.EqualFunc(resolved, cg.resolved, slices.Equal) {
		return false
	}
	g.c.logger.Info("regular expressions resolved", "group", g.id, "regexes", strings.Join(regexes, " "))
	cg.resolved = resolved
	return true
}

// subscription is the member's subscribed topics: its names and what its
// regex matched at the group's last refresh, sorted.
func (cg *consumerGroup) subscription(m *consumerMember) []string {
	if m.regex == "" || len(cg.resolved[m.regex]) == 0 {
		return m.topics
	}
	return sortedUnique(append(slices.Clone(m.topics), cg.resolved[m.regex]...))
}
