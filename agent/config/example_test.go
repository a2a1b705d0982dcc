package config

import "testing"

// The commented example in config/agent.yaml must stay valid.
func TestExampleConfig(t *testing.T) {
	c, err := Load("../../config/agent.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Prometheus == nil || c.TopicFilter.Match("__consumer_offsets") || !c.TopicFilter.Match("orders") {
		t.Fatalf("example config parsed as %+v", c)
	}
}
