package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is one refusal: the file, the line, the key and the rule it breaks.
type Error struct {
	File string
	Line int
	Key  string
	Rule string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Rule)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Rule)
}

// The file as written; sizes and durations stay strings until validated.
type file struct {
	Storage *storageFile `yaml:"storage"`
	Brokers *brokersFile `yaml:"brokers"`
}

type storageFile struct {
	TargetUtilization *float64 `yaml:"target_utilization"`
	MaxSize           string   `yaml:"max_size"`
	ScaleOutStep      string   `yaml:"scale_out_step"`
	Cooldown          string   `yaml:"cooldown"`
	PerBroker         bool     `yaml:"per_broker"`
}

type brokersFile struct {
	MinBrokers       *int           `yaml:"min_brokers"`
	MaxBrokers       *int           `yaml:"max_brokers"`
	Targets          *targetsFile   `yaml:"targets"`
	Window           string         `yaml:"window"`
	Tolerance        *float64       `yaml:"tolerance"`
	ScaleInBelow     *float64       `yaml:"scale_in_below"`
	ScaleOutStep     *int           `yaml:"scale_out_step"`
	ScaleInStep      *int           `yaml:"scale_in_step"`
	ScaleOutCooldown string         `yaml:"scale_out_cooldown"`
	ScaleInCooldown  string         `yaml:"scale_in_cooldown"`
	Stabilization    string         `yaml:"scale_down_stabilization"`
	Timezone         string         `yaml:"timezone"`
	Schedules        []scheduleFile `yaml:"schedules"`
}

type targetsFile struct {
	CPUPercent       *float64 `yaml:"cpu_percent"`
	NetworkIn        string   `yaml:"network_in_per_second"`
	NetworkOut       string   `yaml:"network_out_per_second"`
	Partitions       *int     `yaml:"partitions_per_broker"`
	Leaders          *int     `yaml:"leaders_per_broker"`
	StorageAtMaximum bool     `yaml:"storage_at_maximum"`
}

type scheduleFile struct {
	Name       string   `yaml:"name"`
	Days       []string `yaml:"days"`
	Start      string   `yaml:"start"`
	End        string   `yaml:"end"`
	MinBrokers *int     `yaml:"min_brokers"`
}

// Load reads and validates the policy file at path.
func Load(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy file: %w", err)
	}
	return Parse(data, path)
}

// Reload loads path; when the new file is bad it returns last, the policy
// still in force, with the error, so a running autoscaler keeps its last
// good policy.
func Reload(path string, last *Policy) (*Policy, error) {
	p, err := Load(path)
	if err != nil {
		return last, err
	}
	return p, nil
}

// Parse validates a policy file's contents; name is used in errors. Every
// refusal is an *Error; several are joined.
func Parse(data []byte, name string) (*Policy, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, yamlError(name, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: max(root.Line, 1), Rule: "a policy file is a mapping with storage and/or brokers"}
	}
	doc := root.Content[0]
	if errs := unknownKeys(name, doc, reflect.TypeFor[file](), ""); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var f file
	if err := doc.Decode(&f); err != nil {
		return nil, yamlError(name, err)
	}
	v := &validator{file: name, root: doc}
	p := v.policy(&f)
	if len(v.errs) > 0 {
		return nil, errors.Join(v.errs...)
	}
	return p, nil
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// yamlError turns yaml.v3's "yaml: line 3: ..." into file:line: rule.
func yamlError(name string, err error) error {
	var errs []error
	for _, msg := range strings.Split(strings.TrimPrefix(err.Error(), "yaml: unmarshal errors:\n"), "\n") {
		msg = strings.TrimSpace(strings.TrimPrefix(msg, "yaml: "))
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			errs = append(errs, &Error{File: name, Line: line, Rule: m[2]})
		} else if msg != "" {
			errs = append(errs, &Error{File: name, Line: 1, Rule: msg})
		}
	}
	return errors.Join(errs...)
}

// unknownKeys refuses every mapping key the struct type t has no yaml tag for.
func unknownKeys(name string, n *yaml.Node, t reflect.Type, path string) []error {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode {
			var errs []error
			for i, item := range n.Content {
				errs = append(errs, unknownKeys(name, item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
			}
			return errs
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return nil
	}
	fields := map[string]reflect.Type{}
	var known []string
	for i := range t.NumField() {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		fields[tag] = t.Field(i).Type
		known = append(known, tag)
	}
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			errs = append(errs, &Error{File: name, Line: k.Line, Key: join(path, k.Value),
				Rule: "unknown key (known: " + strings.Join(known, ", ") + ")"})
			continue
		}
		errs = append(errs, unknownKeys(name, n.Content[i+1], ft, join(path, k.Value))...)
	}
	return errs
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
