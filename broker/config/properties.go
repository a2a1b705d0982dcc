package config

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// entry is one key=value pair read from a properties file.
type entry struct {
	key, value string
	line       int // 1-based line where the logical line starts
}

// parseProperties reads the Java properties format: "key=value", "key: value"
// or "key value"; '#' and '!' start comment lines; a line ending in an odd
// number of backslashes continues on the next line (whose leading whitespace
// is dropped); \t \n \r \f \uXXXX and \<char> escapes are decoded. Keys and
// values are trimmed of surrounding whitespace. Later duplicates win when the
// entries are applied in order.
func parseProperties(r io.Reader) ([]entry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var out []entry
	var buf strings.Builder
	start, lineNo, continuing := 0, 0, false
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if !continuing {
			line = strings.TrimLeft(line, " \t\f")
			if line == "" || line[0] == '#' || line[0] == '!' {
				continue
			}
			start = lineNo
			buf.Reset()
		} else {
			line = strings.TrimLeft(line, " \t\f")
		}
		line, continuing = cutContinuation(line)
		buf.WriteString(line)
		if continuing {
			continue
		}
		e, err := splitEntry(buf.String(), start)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading line %d: %w", lineNo+1, err)
	}
	if continuing {
		e, err := splitEntry(buf.String(), start)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// cutContinuation strips a trailing continuation backslash: a line ends in
// one when it ends in an odd number of backslashes.
func cutContinuation(line string) (string, bool) {
	n := len(line) - len(strings.TrimRight(line, `\`))
	if n%2 == 1 {
		return line[:len(line)-1], true
	}
	return line, false
}

// splitEntry splits a logical line into key and value at the first unescaped
// '=', ':' or whitespace, skipping whitespace and one separator after it.
func splitEntry(s string, line int) (entry, error) {
	i := keyEnd(s)
	rawKey, rest := s[:i], s[i:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = rest[1:]
	}
	key, err := unescape(rawKey)
	if err != nil {
		return entry{}, fmt.Errorf("line %d: %w", line, err)
	}
	value, err := unescape(strings.TrimLeft(rest, " \t\f"))
	if err != nil {
		return entry{}, fmt.Errorf("line %d: %w", line, err)
	}
	return entry{key: strings.TrimSpace(key), value: strings.TrimSpace(value), line: line}, nil
}

// keyEnd returns the index of the first unescaped separator in s.
func keyEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '=', ':', ' ', '\t', '\f':
			return i
		}
	}
	return len(s)
}

// unescape decodes the escapes of the properties format.
func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
