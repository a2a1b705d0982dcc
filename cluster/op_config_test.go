package cluster

import (
	"slices"
	"strings"
	"testing"
)

func TestParseProperties(t *testing.T) {
	got, err := ParseProperties("# comment\n! also\n\nlog.retention.hours=24\nnum.partitions: 6\n  auto.create.topics.enable = false \n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"log.retention.hours": "24", "num.partitions": "6", "auto.create.topics.enable": "false"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	for _, bad := range []string{"novalue\n", "a=1\na=2\n", "=x\n"} {
		if _, err := ParseProperties(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// A configuration change is split into what applies at once (Kafka's
// cluster-wide dynamic keys) and what needs a rolling restart.
func TestConfigChanges(t *testing.T) {
	old := map[string]string{"log.cleaner.threads": "1", "num.partitions": "3", "log.retention.hours": "168"}
	next := map[string]string{"log.cleaner.threads": "2", "num.partitions": "3", "num.io.threads": "4"}
	changed := changedKeys(old, next)
	if want := []string{"log.cleaner.threads", "log.retention.hours", "num.io.threads"}; !slices.Equal(changed, want) {
		t.Fatalf("changed %v, want %v", changed, want)
	}
	dynamic, static := splitDynamic(changed)
	if !slices.Contains(dynamic, "log.cleaner.threads") || slices.Contains(static, "log.cleaner.threads") {
		t.Errorf("log.cleaner.threads (cluster-wide dynamic) in %v / %v", dynamic, static)
	}
	if len(static) == 0 {
		t.Errorf("no static key in %v", changed)
	}
	if err := checkOverrides(map[string]string{"log.retention.hour": "1"}); err == nil || !strings.Contains(err.Error(), "log.retention.hour") {
		t.Errorf("an unknown key: %v", err)
	}
}
