package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary properties text to Parse: it must not panic, and
// a config it accepts must hold only known keys and at least one listener.
// Seeds: testdata/fuzz/FuzzParse and the example server.properties.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("..", "..", "config", "server.properties")); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := Parse(strings.NewReader(text), "fuzz", nil)
		if err != nil {
			return
		}
		for k := range c.Raw {
			if problem, _ := knownKey(k); problem != "" {
				t.Fatalf("accepted %q: %s", k, problem)
			}
		}
		if len(c.Listeners) == 0 || len(c.LogDirs) == 0 {
			t.Fatalf("accepted a config without listeners or log dirs: %+v", c)
		}
		c.EffectiveTopicConfig(nil, c.Raw)
	})
}
