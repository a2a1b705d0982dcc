package kafkaclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	props, err := Read(strings.NewReader("# c\n! c\na = 1\nb:2\nc=x\\\n  y\nd=p\\:q\\\\\nsasl.jaas.config=m required username=\"u\" password=\"p\";\n"))
	if err != nil || props["a"] != "1" || props["b"] != "2" || props["c"] != "xy" || props["d"] != `p:q\` {
		t.Fatalf("%q %v", props, err)
	}
}

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		conf string
		opts int
		err  string
	}{
		{"", 0, ""},
		{"security.protocol=PLAINTEXT\n", 0, ""},
		{"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=x required username=\"u\" password=\"p\";\n", 1, ""},
		{"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.username=u\nsasl.password=p\n", 1, ""},
		{"security.protocol=KERBEROS\n", 0, "want PLAINTEXT"},
		{"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n", 0, "needs a user and password"},
		{"security.protocol=SASL_PLAINTEXT\nsasl.mechanism=GSSAPI\nsasl.username=a\nsasl.password=b\n", 0, "GSSAPI"},
		{"security.protocol=SSL\nssl.truststore.type=JKS\nssl.truststore.location=/x.jks\n", 0, "JKS"},
	} {
		props, _ := Read(strings.NewReader(tc.conf))
		opts, err := Options(props)
		if tc.err == "" && (err != nil || len(opts) != tc.opts) {
			t.Errorf("%q: %d options, %v; want %d", tc.conf, len(opts), err, tc.opts)
		}
		if tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %v, want an error with %q", tc.conf, err, tc.err)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	if opts, err := Load(""); err != nil || opts != nil {
		t.Fatalf("Load(\"\") = %v, %v", opts, err)
	}
	path := filepath.Join(t.TempDir(), "c.properties")
	os.WriteFile(path, []byte("security.protocol=NOPE\n"), 0o600)
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Load = %v, want the file named", err)
	}
	if _, err := Load(path + ".missing"); err == nil {
		t.Fatal("a missing file loaded")
	}
}
