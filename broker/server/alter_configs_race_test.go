package server

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
)

// IncrementalAlterConfigs requests that change different keys of one
// resource at the same time all take effect: each handler edits the
// configs it read, and the apply refuses an edit whose base changed
// since (the handler reads again and edits again), as Kafka's controller
// applies each request to the state the previous one left. Before, each
// committed its whole edited set, so all were told it worked and the
// last one erased the others' keys (the collector's executor sets the
// two replication throttle rates of a broker this way). The check is
// written from weir.metadata.version 2, where a fresh cluster starts.
func TestIncrementalAlterConfigsAtOnceKeepEveryKey(t *testing.T) {
	b := startBroker(t, nil)
	createTopic(t, b, "cfg", 1, nil)
	topicKeys := map[string]string{
		"retention.ms": "3600000", "retention.bytes": "1048576", "segment.ms": "600000",
		"segment.bytes": "1048576", "max.message.bytes": "65536", "delete.retention.ms": "1000",
		"file.delete.delay.ms": "1000", "min.compaction.lag.ms": "1000",
	}
	brokerKeys := map[string]string{
		"leader.replication.throttled.rate": "1000000", "follower.replication.throttled.rate": "2000000",
	}
	id := strconv.Itoa(int(b.cfg.NodeID))
	for round := range 3 {
		var wg sync.WaitGroup
		start := make(chan struct{})
		alter := func(what string, do func(*kadm.Client) error) {
			adm := kadm.NewClient(b.client(t)) // one connection each: handled at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := do(adm); err != nil {
					t.Errorf("round %d, %s: %v", round, what, err)
				}
			}()
		}
		for k, v := range topicKeys {
			v += strconv.Itoa(round)
			alter(k, func(adm *kadm.Client) error {
				resp, err := adm.AlterTopicConfigs(context.Background(), []kadm.AlterConfig{{Name: k, Value: &v}}, "cfg")
				if err == nil {
					err = resp[0].Err
				}
				return err
			})
		}
		for k, v := range brokerKeys {
			v += strconv.Itoa(round)
			alter(k, func(adm *kadm.Client) error {
				resp, err := adm.AlterBrokerConfigs(context.Background(), []kadm.AlterConfig{{Name: k, Value: &v}}, b.cfg.NodeID)
				if err == nil {
					err = resp[0].Err
				}
				return err
			})
		}
		close(start)
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		img := b.node.Image()
		tp, _ := img.Topic("cfg")
		for k, v := range topicKeys {
			if got := tp.Configs[k]; got != v+strconv.Itoa(round) {
				t.Errorf("round %d: topic config %s is %q, want %q (all %v)", round, k, got, v+strconv.Itoa(round), tp.Configs)
			}
		}
		for k, v := range brokerKeys {
			if got := img.PerBrokerConfigs[b.cfg.NodeID][k]; got != v+strconv.Itoa(round) {
				t.Errorf("round %d: broker %s config %s is %q, want %q", round, id, k, got, v+strconv.Itoa(round))
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}
