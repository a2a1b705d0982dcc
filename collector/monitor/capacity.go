package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/weirhq/weir/collector/model"
)

// Cruise Control's capacity units, 1024-based as Cruise Control counts
// them (and as collector/api renders them).
const (
	bytesPerMB = 1 << 20
	bytesPerKB = 1 << 10
)

// Capacity sources, model.Broker.CapacitySource.
const (
	SourceAgent   = "agent"
	SourceFile    = "file"
	SourceDefault = "default"
)

// fileCapacity is one entry of a capacity file, in base units.
type fileCapacity struct {
	disk, nwIn, nwOut float64 // bytes, bytes/s
	cores             float64 // the {"num.cores": N} form; 0 if not used
	cpuPercent        float64 // the "CPU": "100" form: percent of the broker's cores
}

// load is the entry as a model capacity; agentCores are the broker's cores
// as its agent reports them (0: unknown, then defaultCores), which the
// percent form of CPU is a share of.
func (f fileCapacity) load(agentCores, defaultCores float64) model.Load {
	cores := f.cores
	if cores == 0 {
		if agentCores <= 0 {
			agentCores = defaultCores
		}
		cores = f.cpuPercent / 100 * agentCores
	}
	return model.Load{model.CPU: cores, model.NetworkIn: f.nwIn, model.NetworkOut: f.nwOut, model.Disk: f.disk}
}

// capacityFile is a parsed capacity.json or capacityJBOD.json.
type capacityFile struct {
	path    string
	brokers map[int32]fileCapacity
	def     *fileCapacity // brokerId -1
}

// lookup returns the entry for a broker: its own, else the default.
func (c *capacityFile) lookup(id int32) (fileCapacity, bool) {
	if c == nil {
		return fileCapacity{}, false
	}
	if f, ok := c.brokers[id]; ok {
		return f, true
	}
	if c.def != nil {
		return *c.def, true
	}
	return fileCapacity{}, false
}

// unknownBrokers lists the brokers the file names that are not in ids.
func (c *capacityFile) unknownBrokers(known func(int32) bool) []int32 {
	if c == nil {
		return nil
	}
	var out []int32
	for id := range c.brokers {
		if !known(id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

type rawCapacityFile struct {
	BrokerCapacities []struct {
		BrokerID json.RawMessage            `json:"brokerId"`
		Capacity map[string]json.RawMessage `json:"capacity"`
		Doc      string                     `json:"doc"`
	} `json:"brokerCapacities"`
}

// loadCapacityFile reads and parses a capacity file.
func loadCapacityFile(path string) (*capacityFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the capacity file: %w", err)
	}
	c, err := parseCapacity(data)
	if err != nil {
		return nil, fmt.Errorf("capacity file %s: %w", path, err)
	}
	c.path = path
	return c, nil
}

// parseCapacity parses Cruise Control's capacity format: DISK in MB (or a
// map of log dir to MB, summed: capacityJBOD.json), CPU in percent (or
// {"num.cores": N}), NW_IN and NW_OUT in KB/s; brokerId -1 is the default.
func parseCapacity(data []byte) (*capacityFile, error) {
	var raw rawCapacityFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("not Cruise Control's capacity JSON: %w", err)
	}
	if len(raw.BrokerCapacities) == 0 {
		return nil, errors.New(`no "brokerCapacities"`)
	}
	c := &capacityFile{brokers: map[int32]fileCapacity{}}
	for i, e := range raw.BrokerCapacities {
		id, err := parseBrokerID(e.BrokerID)
		if err != nil {
			return nil, fmt.Errorf("brokerCapacities[%d]: brokerId: %w", i, err)
		}
		f, err := parseEntry(e.Capacity)
		if err != nil {
			return nil, fmt.Errorf("broker %d: %w", id, err)
		}
		if err := c.add(id, f); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *capacityFile) add(id int32, f fileCapacity) error {
	if _, dup := c.brokers[id]; dup || (id == -1 && c.def != nil) {
		return fmt.Errorf("broker %d listed twice", id)
	}
	if id == -1 {
		c.def = &f
		return nil
	}
	c.brokers[id] = f
	return nil
}

func parseBrokerID(raw json.RawMessage) (int32, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < -1 {
		return 0, fmt.Errorf("%q is not a broker id (or -1 for the default)", s)
	}
	return int32(n), nil
}

func parseEntry(cap map[string]json.RawMessage) (fileCapacity, error) {
	var f fileCapacity
	for _, key := range []string{"DISK", "CPU", "NW_IN", "NW_OUT"} {
		if _, ok := cap[key]; !ok {
			return f, fmt.Errorf("capacity has no %s", key)
		}
	}
	for key := range cap {
		if !slices.Contains([]string{"DISK", "CPU", "NW_IN", "NW_OUT"}, key) {
			return f, fmt.Errorf("unknown resource %q (DISK, CPU, NW_IN, NW_OUT)", key)
		}
	}
	var err error
	if f.disk, err = parseDisk(cap["DISK"]); err != nil {
		return f, fmt.Errorf("DISK: %w", err)
	}
	if f.cores, f.cpuPercent, err = parseCPU(cap["CPU"]); err != nil {
		return f, fmt.Errorf("CPU: %w", err)
	}
	if f.nwIn, err = number(cap["NW_IN"]); err != nil {
		return f, fmt.Errorf("NW_IN: %w", err)
	}
	if f.nwOut, err = number(cap["NW_OUT"]); err != nil {
		return f, fmt.Errorf("NW_OUT: %w", err)
	}
	f.disk *= bytesPerMB
	f.nwIn *= bytesPerKB
	f.nwOut *= bytesPerKB
	return f, nil
}

// parseDisk reads "MB" or {"logdir": "MB", …} (JBOD), summed.
func parseDisk(raw json.RawMessage) (float64, error) {
	var dirs map[string]json.RawMessage
	if json.Unmarshal(raw, &dirs) != nil {
		return number(raw)
	}
	if len(dirs) == 0 {
		return 0, errors.New("no log dirs")
	}
	var sum float64
	for dir, v := range dirs {
		mb, err := number(v)
		if err != nil {
			return 0, fmt.Errorf("log dir %s: %w", dir, err)
		}
		sum += mb
	}
	return sum, nil
}

// parseCPU reads "percent" or {"num.cores": "N"}.
func parseCPU(raw json.RawMessage) (cores, percent float64, err error) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		percent, err = number(raw)
		return 0, percent, err
	}
	v, ok := obj["num.cores"]
	if !ok || len(obj) != 1 {
		return 0, 0, errors.New(`want a percent or {"num.cores": N}`)
	}
	if cores, err = number(v); err == nil && cores == 0 {
		err = errors.New("num.cores is 0")
	}
	return cores, 0, err
}

// number reads a JSON string or number holding a non-negative number.
func number(raw json.RawMessage) (float64, error) {
	s, err := scalar(raw)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a non-negative number", s)
	}
	return f, nil
}

// scalar is a JSON string's value or a JSON number's text.
func scalar(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("%s is neither a string nor a number", raw)
}
