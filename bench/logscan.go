package bench

import (
	"bufio"
	"os"
	"regexp"
	"strings"
)

// LogDigest is what a server's log said that a reader of a benchmark should
// see: how many warnings and errors, and the first few distinct ones.
type LogDigest struct {
	Path     string      `json:"path"`
	Warnings int         `json:"warnings"`
	Errors   int         `json:"errors"` // ERROR lines, panics and fatal errors
	Samples  []LogSample `json:"samples,omitempty"`
}

// LogSample is one kind of warning or error (lines with the same msg) and
// how often it came.
type LogSample struct {
	Count int    `json:"count"`
	First string `json:"first"` // the first such line
}

// maxLogSamples bounds the distinct lines a digest quotes.
const maxLogSamples = 8

// msgPattern finds the msg of a slog text line, for telling lines apart.
var msgPattern = regexp.MustCompile(`msg="?([^"=]*)`)

// DigestLogs digests each log; a log that cannot be read gets an empty
// digest.
func DigestLogs(paths []string) []LogDigest {
	out := make([]LogDigest, 0, len(paths))
	for _, p := range paths {
		out = append(out, digestLog(p))
	}
	return out
}

func digestLog(path string) LogDigest {
	d := LogDigest{Path: path}
	f, err := os.Open(path)
	if err != nil {
		return d
	}
	defer f.Close()
	seen := map[string]int{} // msg -> index in Samples
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, "level=WARN"):
			d.Warnings++
		case strings.Contains(line, "level=ERROR"), strings.HasPrefix(line, "panic:"), strings.HasPrefix(line, "fatal error:"):
			d.Errors++
		default:
			continue
		}
		key := line
		if m := msgPattern.FindStringSubmatch(line); m != nil {
			key = m[1]
		}
		if i, ok := seen[key]; ok {
			d.Samples[i].Count++
		} else if len(d.Samples) < maxLogSamples {
			seen[key] = len(d.Samples)
			d.Samples = append(d.Samples, LogSample{Count: 1, First: line})
		}
	}
	return d
}
