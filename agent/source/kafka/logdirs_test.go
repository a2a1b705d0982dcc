package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func logDirsResponse(dirs ...kmsg.DescribeLogDirsResponseDir) *kmsg.DescribeLogDirsResponse {
	r := kmsg.NewPtrDescribeLogDirsResponse()
	r.Dirs = dirs
	return r
}

func dir(name string, total, usable int64, code int16) kmsg.DescribeLogDirsResponseDir {
	d := kmsg.NewDescribeLogDirsResponseDir()
	d.Dir, d.TotalBytes, d.UsableBytes, d.ErrorCode = name, total, usable, code
	return d
}

func TestLogDirs(t *testing.T) {
	for _, c := range []struct {
		name              string
		resp              *kmsg.DescribeLogDirsResponse
		known             bool
		used, provisioned int64
		pct               float64
	}{
		{"two dirs (Weir's provisioned size, or Kafka 3.3+'s filesystems)",
			logDirsResponse(dir("/b", 1000, 250, 0), dir("/a", 3000, 2750, 0)), true, 1000, 4000, 25},
		{"an offline dir is left out", logDirsResponse(dir("/a", 1000, 500, 0), dir("/b", 1000, 0, kerr.KafkaStorageError.Code)),
			true, 500, 1000, 50},
		{"Kafka before 3.3 answers -1", logDirsResponse(dir("/a", -1, -1, 0)), false, 0, 0, 0},
		{"no dir answered", logDirsResponse(dir("/a", 1000, 0, kerr.KafkaStorageError.Code)), false, 0, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := LogDirs(3, c.resp)
			if err != nil {
				t.Fatal(err)
			}
			pct, ok := b.UsedPercent()
			if b.BrokerID != 3 || b.Known() != c.known || ok != c.known || b.UsedBytes() != c.used || b.ProvisionedBytes() != c.provisioned || pct != c.pct {
				t.Fatalf("%+v: known %v used %d provisioned %d pct %v", b, b.Known(), b.UsedBytes(), b.ProvisionedBytes(), pct)
			}
			if b.LogDirs[0].Dir > b.LogDirs[len(b.LogDirs)-1].Dir {
				t.Fatalf("dirs not sorted: %+v", b.LogDirs)
			}
		})
	}
	r := logDirsResponse()
	r.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	if _, err := LogDirs(1, r); err == nil {
		t.Fatal("a refused request answered")
	}
}
