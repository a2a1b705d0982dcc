package console

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// filter is the message search's predicate: a substring or an RE2
// regular expression (Go's regexp: linear time, no backtracking) over a
// record's key, value or headers. There is no scripting engine on
// purpose: kafbat's Groovy filters became a remote-code-execution CVE.
type filter struct {
	field  string // any, key, value, headers
	needle []byte
	re     *regexp.Regexp
}

// maxPattern bounds a search's pattern.
const maxPattern = 1024

// newFilter checks a search's pattern, mode and field.
func newFilter(q, mode, field string) (*filter, error) {
	if q == "" {
		return nil, badRequest("q: the text or pattern to search for is empty")
	}
	if len(q) > maxPattern {
		return nil, badRequest("q: at most %d bytes", maxPattern)
	}
	switch field {
	case "", "any":
		field = "any"
	case "key", "value", "headers":
	default:
		return nil, badRequest("field %q: want any, key, value or headers", field)
	}
	f := &filter{field: field}
	switch mode {
	case "", "substring":
		f.needle = []byte(q)
	case "regex":
		re, err := regexp.Compile(q)
		if err != nil {
			return nil, badRequest("q: not an RE2 regular expression: %v", err)
		}
		f.re = re
	default:
		return nil, badRequest("mode %q: want substring or regex", mode)
	}
	return f, nil
}

func (f *filter) matchBytes(b []byte) bool {
	if f.re != nil {
		return f.re.Match(b)
	}
	return bytes.Contains(b, f.needle)
}

// match reports whether the record matches.
func (f *filter) match(key, value []byte, headers []kgo.RecordHeader) bool {
	if (f.field == "any" || f.field == "key") && f.matchBytes(key) {
		return true
	}
	if (f.field == "any" || f.field == "value") && f.matchBytes(value) {
		return true
	}
	if f.field == "any" || f.field == "headers" {
		for _, h := range headers {
			if f.matchBytes([]byte(h.Key)) || f.matchBytes(h.Value) {
				return true
			}
		}
	}
	return false
}

// shown is a key, value or header as the viewer shows it.
type shown struct {
	Kind      string // null, text, json, avro, hex
	Note      string // why a value is shown as it is, when it is not as asked
	Text      string
	Size      int
	Truncated bool
}

// maxShown bounds what one field shows.
const maxShown = 64 << 10

// show renders b in format: auto and json (JSON when it parses, text when
// it is printable UTF-8, else a hex dump), text or hex (pure).
func show(b []byte, format string) shown {
	if b == nil {
		return shown{Kind: "null"}
	}
	s := shown{Size: len(b)}
	if len(b) > maxShown {
		b, s.Truncated = b[:maxShown], true
	}
	switch {
	case format == "hex":
	case format != "text" && !s.Truncated && isJSON(b): // auto, json
		var out bytes.Buffer
		json.Indent(&out, b, "", "  ")
		s.Kind, s.Text = "json", out.String()
		return s
	case format == "text" || printable(b): // text, or auto and json when it is not JSON
		s.Kind, s.Text = "text", strings.ToValidUTF8(string(b), "\uFFFD")
		return s
	}
	if len(b) > 4096 {
		b, s.Truncated = b[:4096], true
	}
	s.Kind, s.Text = "hex", hex.Dump(b)
	return s
}

func isJSON(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[') && json.Valid(t)
}

// printable is valid UTF-8 with no control characters but whitespace.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
