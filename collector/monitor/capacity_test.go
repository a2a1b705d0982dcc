package monitor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirhq/weir/agent/samples"
	"github.com/weirhq/weir/collector/model"
)

// Cruise Control's sample files (config/capacity.json, capacityCores.json,
// capacityJBOD.json), shortened.
const (
	ccCapacity = `{
  "brokerCapacities":[
    {"brokerId": "-1", "capacity": {"DISK": "100000", "CPU": "100", "NW_IN": "10000", "NW_OUT": "10000"},
     "doc": "This is the default capacity. Capacity unit used for disk is in MB, cpu is in percentage, network throughput is in KB."},
    {"brokerId": "0", "capacity": {"DISK": "500000", "CPU": "100", "NW_IN": "50000", "NW_OUT": "50000"},
     "doc": "This overrides the capacity for broker 0."}
  ]
}`
	ccCores = `{"brokerCapacities":[
    {"brokerId": "-1", "capacity": {"DISK": "100000", "CPU": {"num.cores": "8"}, "NW_IN": "10000", "NW_OUT": "10000"}, "doc": "default"},
    {"brokerId": "0", "capacity": {"DISK": "100000", "CPU": {"num.cores": "16"}, "NW_IN": "10000", "NW_OUT": "10000"}}]}`
	ccJBOD = `{"brokerCapacities":[
    {"brokerId": "-1", "capacity": {"DISK": {"/tmp/kafka-logs-1": "100000", "/tmp/kafka-logs-2": "100000"},
      "CPU": "100", "NW_IN": "10000", "NW_OUT": "10000"}, "doc": "default"},
    {"brokerId": "0", "capacity": {"DISK": {"/tmp/kafka-logs": "500000"}, "CPU": "50", "NW_IN": 50000, "NW_OUT": 50000}}]}`
)

func TestParseCapacity(t *testing.T) {
	const mb, kb = 1 << 20, 1 << 10
	for _, tc := range []struct {
		name      string
		file      string
		id        int32
		agentCore float64
		want      model.Load
	}{
		{"default entry", ccCapacity, 7, 4, model.Load{4, 10000 * kb, 10000 * kb, 100000 * mb}},
		{"own entry, percent of the agent's cores", ccCapacity, 0, 2, model.Load{2, 50000 * kb, 50000 * kb, 500000 * mb}},
		{"percent without an agent: default cores", ccCapacity, 0, 0, model.Load{1, 50000 * kb, 50000 * kb, 500000 * mb}},
		{"num.cores", ccCores, 0, 4, model.Load{16, 10000 * kb, 10000 * kb, 100000 * mb}},
		{"num.cores default", ccCores, 3, 4, model.Load{8, 10000 * kb, 10000 * kb, 100000 * mb}},
		{"JBOD summed", ccJBOD, 1, 4, model.Load{4, 10000 * kb, 10000 * kb, 200000 * mb}},
		{"JBOD own, numbers", ccJBOD, 0, 4, model.Load{2, 50000 * kb, 50000 * kb, 500000 * mb}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseCapacity([]byte(tc.file))
			if err != nil {
				t.Fatal(err)
			}
			f, ok := c.lookup(tc.id)
			if got := f.load(tc.agentCore, 1); !ok || got != tc.want {
				t.Errorf("broker %d: %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}

func TestParseCapacityErrors(t *testing.T) {
	entry := func(id, cap string) string {
		return `{"brokerCapacities":[{"brokerId":` + id + `,"capacity":` + cap + `}]}`
	}
	good := `{"DISK":"1","CPU":"100","NW_IN":"1","NW_OUT":"1"}`
	for _, tc := range []struct{ file, want string }{
		{`{`, "not Cruise Control's capacity JSON"},
		{`{"brokerCapacities":[]}`, `no "brokerCapacities"`},
		{entry(`"x"`, good), `brokerId: "x" is not a broker id`},
		{entry(`"-2"`, good), `"-2" is not a broker id`},
		{entry(`"1"`, `{"DISK":"1","CPU":"100","NW_IN":"1"}`), "broker 1: capacity has no NW_OUT"},
		{entry(`"1"`, `{"DISK":"lots","CPU":"100","NW_IN":"1","NW_OUT":"1"}`), `broker 1: DISK: "lots" is not a non-negative number`},
		{entry(`"1"`, `{"DISK":"1","CPU":"-5","NW_IN":"1","NW_OUT":"1"}`), `broker 1: CPU: "-5"`},
		{entry(`"1"`, `{"DISK":"1","CPU":{"cores":"4"},"NW_IN":"1","NW_OUT":"1"}`), `broker 1: CPU: want a percent or {"num.cores": N}`},
		{entry(`"1"`, `{"DISK":{"/d":"x"},"CPU":"1","NW_IN":"1","NW_OUT":"1"}`), `broker 1: DISK: log dir /d: "x"`},
		{entry(`"1"`, `{"DISK":"1","CPU":"1","NW_IN":"1","NW_OUT":"1","GPU":"1"}`), `unknown resource "GPU"`},
		{`{"brokerCapacities":[{"brokerId":"1","capacity":` + good + `},{"brokerId":1,"capacity":` + good + `}]}`, "broker 1 listed twice"},
	} {
		_, err := parseCapacity([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.file, err, tc.want)
		}
	}
}

// TestNewRejectsABadCapacityFile: the error names the file and the reason.
func TestNewRejectsABadCapacityFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "capacity.json")
	if err := os.WriteFile(path, []byte(`{"brokerCapacities":[{"brokerId":"1","capacity":{}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.CapacityFile = path
	_, err := New(nil, cfg, nil, nil)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "capacity has no DISK") {
		t.Fatalf("New: %v", err)
	}
	cfg.CapacityFile = filepath.Join(t.TempDir(), "missing.json")
	if _, err := New(nil, cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Fatalf("New with a missing file: %v", err)
	}
}

// TestModelCapacity: file over agent over default; provisioned storage
// caps the disk; a file naming an unknown broker fails the model.
func TestModelCapacity(t *testing.T) {
	cfg := testConfig()
	cfg.MinSamplesPerPartitionWindow = 1
	now := base.Add(15 * time.Second)
	w := newWindows(cfg)
	w.addPartition(psample(0, 1e9, 1), now)
	w.addPartition(psample(1, 1e9, 1), now)
	rack := "r2"
	w.addBroker(&samples.BrokerLoad{Time: base, BrokerID: 2, CPUCores: 6, DiskCapacityBytes: 1e12, ProvisionedStorageBytes: i64(5e11),
		NetworkCapacityBytesPerSec: f64(1.25e9), Rack: &rack}, now)
	in := modelInput{cfg: cfg, now: now, meta: testMeta(), win: w}
	c, err := buildModel(in)
	if err != nil {
		t.Fatal(err)
	}
	b2 := c.Broker(2)
	if b2.CapacitySource != SourceAgent || b2.Capacity != (model.Load{6, 1.25e9, 1.25e9, 5e11}) || b2.Rack != "r2" {
		t.Errorf("broker 2 from its agent: %+v", b2)
	}
	if b1 := c.Broker(1); b1.CapacitySource != SourceDefault || b1.Capacity != (model.Load{1, 125e6, 125e6, 0}) {
		t.Errorf("broker 1 without samples: %+v", b1)
	}
	in.capacity, _ = parseCapacity([]byte(`{"brokerCapacities":[{"brokerId":"2","capacity":{"DISK":"1","CPU":"50","NW_IN":"1","NW_OUT":"2"}}]}`))
	c, err = buildModel(in)
	if err != nil {
		t.Fatal(err)
	}
	if b2 := c.Broker(2); b2.CapacitySource != SourceFile || b2.Capacity != (model.Load{3, 1024, 2048, 1 << 20}) {
		t.Errorf("broker 2 from the file: %+v", b2)
	}
	in.capacity, _ = parseCapacity([]byte(`{"brokerCapacities":[{"brokerId":"9","capacity":{"DISK":"1","CPU":"50","NW_IN":"1","NW_OUT":"2"}},
		{"brokerId":"8","capacity":{"DISK":"1","CPU":"50","NW_IN":"1","NW_OUT":"2"}}]}`))
	in.capacity.path = "cap.json"
	if _, err := buildModel(in); err == nil || !strings.Contains(err.Error(), "cap.json names brokers the cluster does not have: [8 9]") {
		t.Errorf("unknown brokers: %v", err)
	}
}
