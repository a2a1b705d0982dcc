package console

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/weirhq/weir/internal/atomicfile"
	"github.com/weirhq/weir/internal/vfs"
)

// The action log file is JSON lines, one Action each, appended as actions
// happen; at start the last maxActions are read back (and the file cut to
// them when it has grown past twice that), so the operations page shows
// what was done through the console before a collector restart.

// loadActions reads the action log; a missing file is an empty log.
func loadActions(path string) ([]Action, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the console's action log: %w", err)
	}
	var out []Action
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		var a Action
		if json.Unmarshal(sc.Bytes(), &a) != nil {
			continue // a torn last line, after a crash mid-append
		}
		out = append(out, a)
	}
	if len(out) > maxActions {
		out = out[len(out)-maxActions:]
	}
	if lines > 2*maxActions {
		if err := atomicfile.Write(vfs.Default, path, encodeActions(out)); err != nil {
			return out, fmt.Errorf("trimming the console's action log: %w", err)
		}
	}
	return out, nil
}

func encodeActions(as []Action) []byte {
	var buf bytes.Buffer
	for _, a := range as {
		line, _ := json.Marshal(a)
		buf.Write(line)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// appendAction adds one line to the action log.
func appendAction(path string, a Action) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("opening the console's action log: %w", err)
	}
	_, err = f.Write(encodeActions([]Action{a}))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the console's action log: %w", err)
	}
	return nil
}
