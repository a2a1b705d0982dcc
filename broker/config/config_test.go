package config

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parse(t *testing.T, text string, overrides map[string]string) *Config {
	t.Helper()
	c, err := Parse(strings.NewReader(text), "test.properties", overrides)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func TestPropertiesSyntax(t *testing.T) {
	tests := []struct {
		name, text string
		want       map[string]string
	}{
		{"equals", "a=1\n", map[string]string{"a": "1"}},
		{"colon", "a: 1\n", map[string]string{"a": "1"}},
		{"space separator", "a 1\n", map[string]string{"a": "1"}},
		{"trim", "  a  =  1 2  \n", map[string]string{"a": "1 2"}},
		{"comments and blanks", "# x=1\n! y=2\n\n   \n  # z=3\na=1\n", map[string]string{"a": "1"}},
		{"continuation", "a=1,\\\n   2,\\\n\t3\nb=4\n", map[string]string{"a": "1,2,3", "b": "4"}},
		{"escaped backslash is not continuation", "a=x\\\\\nb=2\n", map[string]string{"a": `x\`, "b": "2"}},
		{"continuation at EOF", "a=1\\", map[string]string{"a": "1"}},
		{"comment not continued", "# c \\\na=1\n", map[string]string{"a": "1"}},
		{"escaped separator in key", "a\\=b=1\n", map[string]string{"a=b": "1"}},
		{"unicode escape", "a=\\u0041b\n", map[string]string{"a": "Ab"}},
		{"crlf", "a=1\r\nb=2\r\n", map[string]string{"a": "1", "b": "2"}},
		{"later wins", "a=1\na=2\n", map[string]string{"a": "2"}},
		{"empty value", "a=\n", map[string]string{"a": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := parseProperties(strings.NewReader(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, e := range entries {
				got[e.key] = e.value
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEntryLines(t *testing.T) {
	entries, err := parseProperties(strings.NewReader("# c\n\na=1,\\\n2\nb=3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].line != 3 || entries[1].line != 5 {
		t.Errorf("lines = %d, %d; want 3, 5", entries[0].line, entries[1].line)
	}
}

func TestDefaults(t *testing.T) {
	c := Default()
	want := []Listener{{Name: "PLAINTEXT", Port: 9092}}
	if !reflect.DeepEqual(c.Listeners, want) {
		t.Errorf("Listeners = %v", c.Listeners)
	}
	if got := c.AdvertisedListeners[0].Addr(); got != "localhost:9092" {
		t.Errorf("advertised = %s", got)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"NodeID", c.NodeID, int32(1)},
		{"LogDirs", c.LogDirs, []string{"./weir-data"}},
		{"NumPartitions", c.NumPartitions, int32(1)},
		{"MessageMaxBytes", c.MessageMaxBytes, int32(1048588)},
		{"FetchMaxBytes", c.FetchMaxBytes, int32(57671680)},
		{"ReplicaFetchWaitMax", c.ReplicaFetchWaitMax, 500 * time.Millisecond},
		{"ReplicaSocketTimeout", c.ReplicaSocketTimeout, 30 * time.Second},
		{"LogRetention", c.LogRetention, 168 * time.Hour},
		{"LogRetentionBytes", c.LogRetentionBytes, int64(-1)},
		{"LogSegmentBytes", c.LogSegmentBytes, int64(1073741824)},
		{"LogRoll", c.LogRoll, 168 * time.Hour},
		{"LogFlushIntervalMessages", c.LogFlushIntervalMessages, int64(math.MaxInt64)},
		{"LogFlushInterval", c.LogFlushInterval, time.Duration(0)},
		{"LogFlushSchedulerInterval", c.LogFlushSchedulerInterval, time.Duration(math.MaxInt64)},
		{"OffsetsTopicReplicationFactor", c.OffsetsTopicReplicationFactor, int16(3)},
		{"OffsetsRetention", c.OffsetsRetention, 10080 * time.Minute},
		{"GroupMaxSessionTimeout", c.GroupMaxSessionTimeout, 30 * time.Minute},
		{"ProcessRoles", c.ProcessRoles, []string{"broker", "controller"}},
		{"AdminListener", c.AdminListener, "127.0.0.1:9644"},
		{"AutoCreateTopics", c.AutoCreateTopics, true},
		{"UncleanLeaderElection", c.UncleanLeaderElection, false},
		{"LogCleanupPolicy", c.LogCleanupPolicy, "delete"},
		{"CompressionType", c.CompressionType, "producer"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestOverridesWin(t *testing.T) {
	c := parse(t, "num.partitions=3\nlog.dirs=/a\n", map[string]string{"num.partitions": "7", "broker.rack": "az1"})
	if c.NumPartitions != 7 || c.BrokerRack != "az1" || c.LogDirs[0] != "/a" {
		t.Errorf("got partitions %d rack %q dirs %v", c.NumPartitions, c.BrokerRack, c.LogDirs)
	}
	if c.Raw["num.partitions"] != "7" {
		t.Errorf("Raw = %v", c.Raw)
	}
}

func TestRetentionPrecedence(t *testing.T) {
	tests := []struct {
		text string
		want time.Duration
	}{
		{"log.retention.hours=2\n", 2 * time.Hour},
		{"log.retention.hours=2\nlog.retention.minutes=5\n", 5 * time.Minute},
		{"log.retention.hours=2\nlog.retention.minutes=5\nlog.retention.ms=700\n", 700 * time.Millisecond},
		{"log.retention.ms=-1\n", -time.Millisecond},
		{"log.retention.hours=-1\n", -time.Millisecond},
		{"log.roll.hours=3\n", 168 * time.Hour}, // roll does not affect retention
	}
	for _, tt := range tests {
		if got := parse(t, tt.text, nil).LogRetention; got != tt.want {
			t.Errorf("%q: LogRetention = %v, want %v", tt.text, got, tt.want)
		}
	}
	if got := parse(t, "log.roll.hours=3\nlog.roll.ms=100\n", nil).LogRoll; got != 100*time.Millisecond {
		t.Errorf("LogRoll = %v", got)
	}
	if got := parse(t, "log.roll.hours=3\n", nil).LogRoll; got != 3*time.Hour {
		t.Errorf("LogRoll = %v", got)
	}
}

func TestAdvertisedListeners(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"listeners=PLAINTEXT://:9092\n", "PLAINTEXT://localhost:9092"},
		{"listeners=PLAINTEXT://0.0.0.0:9092,internal://10.0.0.1:9093\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT\n",
			"PLAINTEXT://localhost:9092,INTERNAL://10.0.0.1:9093"},
		{"listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\nlistener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n",
			"PLAINTEXT://localhost:9092"},
		{"listeners=PLAINTEXT://:9092\nadvertised.listeners=PLAINTEXT://b1.example.com:19092\n", "PLAINTEXT://b1.example.com:19092"},
		{"listeners=PLAINTEXT://[::1]:9092\n", "PLAINTEXT://[::1]:9092"},
	}
	for _, tt := range tests {
		c := parse(t, tt.text, nil)
		if got := joinListeners(c.AdvertisedListeners); got != tt.want {
			t.Errorf("%q: advertised = %s, want %s", tt.text, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, text string
		overrides  map[string]string
		want       []string // substrings of the error
	}{
		{"unknown key with suggestion", "\n\nlog.retention.hourz=1\n", nil,
			[]string{`config: unknown key "log.retention.hourz" (line 3 of test.properties); did you mean log.retention.hours?`}},
		{"unknown key no suggestion", "completely.unrelated.thing=1\n", nil,
			[]string{`unknown key "completely.unrelated.thing" (line 1 of test.properties)`}},
		{"unknown override", "", map[string]string{"num.partition": "1"},
			[]string{`unknown key "num.partition" (command-line override); did you mean num.partitions?`}},
		{"zookeeper", "zookeeper.connect=localhost:2181\n", nil,
			[]string{"zookeeper.connect is not supported", "KRaft-style metadata"}},
		{"not an integer", "log.retention.hours=abc\n", nil,
			[]string{`config: log.retention.hours: "abc" is not an integer (line 1 of test.properties)`}},
		{"out of range", "num.partitions=99999999999\n", nil, []string{`num.partitions: "99999999999" is out of range for a int`}},
		{"not a bool", "delete.topic.enable=yes\n", nil, []string{`delete.topic.enable: "yes" is not true or false`}},
		{"not a listener", "listeners=PLAINTEXT//x\n", nil,
			[]string{`config: listeners: "PLAINTEXT//x" is not a listener (want NAME://host:port)`}},
		{"bad listener in list", "listeners=PLAINTEXT://:9092,bad\n", nil,
			[]string{`listeners: "PLAINTEXT://:9092,bad" has "bad", which is not a listener`}},
		{"bad port", "listeners=PLAINTEXT://:99999\n", nil, []string{`listeners: "PLAINTEXT://:99999" has a bad port`}},
		{"at least", "message.max.bytes=-5\n", nil, []string{`config: message.max.bytes: "-5" must be at least 0`}},
		{"segment minimum", "log.segment.bytes=13\n", nil, []string{`log.segment.bytes: "13" must be at least 14`}},
		{"negative open-file cap", "weir.log.max.open.files=-1\n", nil, []string{`weir.log.max.open.files: "-1" must be at least 0`}},
		{"open-file cap not a number", "weir.log.max.open.files=lots\n", nil, []string{`weir.log.max.open.files: "lots" is not an integer`}},
		{"negative provisioned storage", "weir.storage.provisioned.bytes=-1\n", nil, []string{`weir.storage.provisioned.bytes: "-1" must be at least 0`}},
		{"replica socket timeout under the fetch wait", "replica.fetch.wait.max.ms=1000\nreplica.socket.timeout.ms=999\n", nil,
			[]string{`config: replica.socket.timeout.ms: "999": must be at least replica.fetch.wait.max.ms (1000)`}},
		{"replica socket timeout zero", "replica.socket.timeout.ms=0\n", nil, []string{`replica.socket.timeout.ms: "0" must be at least 1`}},
		{"between", "log.cleaner.min.cleanable.ratio=1.5\n", nil, []string{`"1.5" must be at most 1`}},
		{"one of", "log.message.timestamp.type=Now\n", nil, []string{`log.message.timestamp.type: "Now" must be one of: CreateTime, LogAppendTime`}},
		{"list one of", "log.cleanup.policy=delete,zap\n", nil, []string{`log.cleanup.policy: "delete,zap" must be one of: compact, delete`}},
		{"duplicate port", "listeners=PLAINTEXT://:9092,SSL://:9092\n", nil,
			[]string{`config: listeners: "PLAINTEXT://:9092,SSL://:9092": port 9092 is used by both PLAINTEXT and SSL`}},
		{"duplicate name", "listeners=PLAINTEXT://:9092,PLAINTEXT://:9093\n", nil, []string{"listener name PLAINTEXT is used twice"}},
		{"advertised name not in listeners", "advertised.listeners=SSL://h:9093\n", nil,
			[]string{`config: advertised.listeners: "SSL://h:9093": listener name SSL is not in listeners`}},
		{"advertised wildcard", "advertised.listeners=PLAINTEXT://0.0.0.0:9092\n", nil, []string{"no routable host"}},
		{"unmapped listener", "listeners=INTERNAL://:9092\n", nil, []string{"listener name INTERNAL has no security protocol"}},
		{"inter broker listener", "inter.broker.listener.name=REPL\n", nil, []string{`inter.broker.listener.name: "REPL": is not the name of one of the listeners`}},
		{"broker.id mismatch", "node.id=1\nbroker.id=2\n", nil, []string{`broker.id: "2": does not match node.id 1`}},
		{"empty log.dirs", "log.dirs= , \n", nil, []string{`log.dirs: "," names no directory`}},
		{"dup log.dirs", "log.dirs=/a,/a\n", nil, []string{`log.dirs: "/a,/a" lists "/a" twice`}},
		{"roles", "process.roles=broker,zookeeper\n", nil, []string{`process.roles: "broker,zookeeper" must be one of: broker, controller`}},
		{"admin listener", "weir.admin.listener=nope\n", nil, []string{`weir.admin.listener: "nope" is not host:port`}},
		{"all errors reported", "a.b=1\nnum.partitions=x\n", nil, []string{`unknown key "a.b"`, `num.partitions: "x"`}},
		{"bad escape", "a=\\u00zz\n", nil, []string{`test.properties: line 1: malformed \uxxxx`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.text), "test.properties", tt.overrides)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestAcceptedKeys(t *testing.T) {
	text := `num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
num.recovery.threads.per.data.dir=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@localhost:9093
group.coordinator.threads=1
log.cleaner.threads=1
listener.name.plaintext.ssl.keystore.location=/x
weir.admin.listener=off
`
	c := parse(t, text, nil)
	if c.NumIOThreads != 8 || c.Raw["socket.send.buffer.bytes"] != "102400" || c.AdminListener != "" {
		t.Errorf("got %+v", c)
	}
	if c.ControllerQuorumVoters != "1@localhost:9093" || c.SecurityProtocol("controller") != "PLAINTEXT" {
		t.Errorf("voters %q protocol %q", c.ControllerQuorumVoters, c.SecurityProtocol("controller"))
	}
}

func TestBrokerKeys(t *testing.T) {
	keys := BrokerKeys()
	for i, k := range keys {
		if i > 0 && keys[i-1].Name >= k.Name {
			t.Errorf("not sorted or duplicate at %s", k.Name)
		}
		if k.Doc == "" || (k.Dynamic != ReadOnly && k.Dynamic != PerBroker && k.Dynamic != ClusterWide) || ConfigType(k.Type) == 0 {
			t.Errorf("incomplete row %+v", k)
		}
		if k.Default != "" {
			if err := ValidateBrokerConfig(k.Name, k.Default); err != nil {
				t.Errorf("default of %s is invalid: %v", k.Name, err)
			}
		}
	}
	for name := range fieldGetters {
		if _, ok := LookupBrokerKey(name); !ok {
			t.Errorf("getter for unknown key %s", name)
		}
	}
}

func TestReplicaTimeouts(t *testing.T) {
	c := parse(t, "replica.fetch.wait.max.ms=200\nreplica.socket.timeout.ms=3000\n", nil)
	if c.ReplicaFetchWaitMax != 200*time.Millisecond || c.ReplicaSocketTimeout != 3*time.Second {
		t.Errorf("fetch wait %v, socket timeout %v; want 200ms, 3s", c.ReplicaFetchWaitMax, c.ReplicaSocketTimeout)
	}
	if v, isDefault := c.Value("replica.socket.timeout.ms"); v != "3000" || isDefault {
		t.Errorf("Value %q (default %v), want 3000", v, isDefault)
	}
	// Equal is allowed, as in Kafka.
	if c := parse(t, "replica.fetch.wait.max.ms=700\nreplica.socket.timeout.ms=700\n", nil); c.ReplicaSocketTimeout != 700*time.Millisecond {
		t.Errorf("socket timeout %v, want 700ms", c.ReplicaSocketTimeout)
	}
}

func TestQuorumTimeouts(t *testing.T) {
	// Kafka's defaults.
	if c := parse(t, "", nil); c.QuorumElectionTimeout != time.Second || c.QuorumFetchTimeout != 2*time.Second {
		t.Errorf("defaults: election %v, fetch %v; want 1s, 2s", c.QuorumElectionTimeout, c.QuorumFetchTimeout)
	}
	c := parse(t, "controller.quorum.election.timeout.ms=500\ncontroller.quorum.fetch.timeout.ms=500\n", nil)
	if c.QuorumElectionTimeout != 500*time.Millisecond || c.QuorumFetchTimeout != 500*time.Millisecond {
		t.Errorf("election %v, fetch %v; want 500ms, 500ms", c.QuorumElectionTimeout, c.QuorumFetchTimeout)
	}
	if v, isDefault := c.Value("controller.quorum.fetch.timeout.ms"); v != "500" || isDefault {
		t.Errorf("Value %q (default %v), want 500", v, isDefault)
	}
	for _, bad := range []string{"controller.quorum.fetch.timeout.ms=5", "controller.quorum.election.timeout.ms=-1", "controller.quorum.fetch.timeout.ms=soon"} {
		_, err := Parse(strings.NewReader(bad+"\n"), "test.properties", nil)
		if err == nil || !strings.Contains(err.Error(), strings.Split(bad, "=")[0]) {
			t.Errorf("%s: error %v, want one naming the key", bad, err)
		}
	}
}

func TestStorageProvisionedBytes(t *testing.T) {
	if c := parse(t, "", nil); c.StorageProvisionedBytes != 0 {
		t.Errorf("default %d, want 0 (the filesystem's size)", c.StorageProvisionedBytes)
	}
	c := parse(t, "weir.storage.provisioned.bytes=1073741824\n", nil)
	if v, isDefault := c.Value("weir.storage.provisioned.bytes"); c.StorageProvisionedBytes != 1<<30 || v != "1073741824" || isDefault {
		t.Errorf("got %d, Value %q (default %v)", c.StorageProvisionedBytes, v, isDefault)
	}
	if k, _ := LookupBrokerKey("weir.storage.provisioned.bytes"); k.Dynamic != PerBroker || k.Type != TypeLong {
		t.Errorf("key %+v: want a per-broker dynamic long", k)
	}
	if err := ValidateBrokerConfig("weir.storage.provisioned.bytes", "-5"); err == nil {
		t.Error("a negative size is accepted by IncrementalAlterConfigs")
	}
}

func TestLogMaxOpenFiles(t *testing.T) {
	if c := parse(t, "", nil); c.LogMaxOpenFiles != 0 {
		t.Errorf("default %d, want 0 (75%% of the open-file limit)", c.LogMaxOpenFiles)
	}
	c := parse(t, "weir.log.max.open.files=5000\n", nil)
	if v, isDefault := c.Value("weir.log.max.open.files"); c.LogMaxOpenFiles != 5000 || v != "5000" || isDefault {
		t.Errorf("got %d, Value %q (default %v)", c.LogMaxOpenFiles, v, isDefault)
	}
	if k, _ := LookupBrokerKey("weir.log.max.open.files"); k.Dynamic != ReadOnly || k.Type != TypeInt {
		t.Errorf("key %+v: want a read-only int", k)
	}
}

func TestValue(t *testing.T) {
	c := parse(t, "log.retention.hours=2\nbroker.rack=r1\nssl.keystore.password=hunter2\n", nil)
	tests := []struct {
		name, want string
		isDefault  bool
	}{
		{"log.retention.hours", "2", false},
		{"log.retention.ms", "7200000", false},
		{"broker.rack", "r1", false},
		{"num.partitions", "1", true},
		{"log.cleaner.threads", "1", true},
		{"listeners", "PLAINTEXT://:9092", true},
		{"advertised.listeners", "PLAINTEXT://localhost:9092", true},
		{"log.dirs", "./weir-data", true},
		{"log.flush.interval.ms", "", true},
		{"ssl.keystore.password", "hunter2", false},
	}
	for _, tt := range tests {
		v, def := c.Value(tt.name)
		if v != tt.want || def != tt.isDefault {
			t.Errorf("Value(%s) = %q, %v; want %q, %v", tt.name, v, def, tt.want, tt.isDefault)
		}
	}
	k, _ := LookupBrokerKey("ssl.keystore.password")
	if !k.Sensitive {
		t.Error("ssl.keystore.password is not sensitive")
	}
	c.NumPartitions = 6 // set in code
	if v, def := c.Value("num.partitions"); v != "6" || def {
		t.Errorf("Value(num.partitions) = %q, %v after setting the field", v, def)
	}
}

func TestSuggest(t *testing.T) {
	tests := map[string]string{
		"log.retention.hourz":      "log.retention.hours",
		"log.dir.s":                "log.dirs",
		"auto.create.topic.enable": "auto.create.topics.enable",
		"listners":                 "listeners",
		"xyz":                      "",
	}
	for in, want := range tests {
		if got := suggest(in); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExampleServerProperties(t *testing.T) {
	path := filepath.Join("..", "..", "config", "server.properties")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.LogDirs[0] != "./weir-data" || c.Listeners[0].Addr() != ":9092" || c.AdminListener != "127.0.0.1:9644" {
		t.Errorf("got dirs %v listeners %v admin %q", c.LogDirs, c.Listeners, c.AdminListener)
	}
	if c.OffsetsTopicReplicationFactor != 1 || c.GroupInitialRebalanceDelay != 0 {
		t.Errorf("offsets rf %d delay %v", c.OffsetsTopicReplicationFactor, c.GroupInitialRebalanceDelay)
	}
}

func TestLoad(t *testing.T) {
	c, err := Load("", map[string]string{"node.id": "4"})
	if err != nil || c.NodeID != 4 {
		t.Fatalf("Load(\"\") = %v, %v", c, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.properties"), nil); err == nil || !strings.Contains(err.Error(), "missing.properties") {
		t.Errorf("missing file: %v", err)
	}
}

func TestPrepareLogDirs(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := &Config{LogDirs: []string{filepath.Join(root, "new"), root}}
	if err := ok.PrepareLogDirs(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(root, "new")); err != nil || !fi.IsDir() {
		t.Fatalf("new dir not created: %v", err)
	}
	missing := filepath.Join(root, "nope", "x")
	tests := []struct {
		dir, want string
	}{
		{missing, `config: log.dirs: "` + missing + `": parent directory "` + filepath.Join(root, "nope") + `" does not exist`},
		{file, `config: log.dirs: "` + file + `": is a file, not a directory`},
		{filepath.Join(file, "x"), `parent "` + file + `" is not a directory`},
	}
	for _, tt := range tests {
		err := (&Config{LogDirs: []string{tt.dir}}).PrepareLogDirs()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("PrepareLogDirs(%s) = %v, want %q", tt.dir, err, tt.want)
		}
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(root, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		err := (&Config{LogDirs: []string{ro}}).PrepareLogDirs()
		if err == nil || !strings.Contains(err.Error(), "is not writable") {
			t.Errorf("read-only dir: %v", err)
		}
	}
}
