package bytesize

import "testing"

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int64
		back string
	}{
		{"1048576", MiB, "1MiB"},
		{"500MiB", 500 * MiB, "500MiB"},
		{"1.5GiB", 3 * GiB / 2, "1536MiB"},
		{" 2 TiB ", 2 * TiB, "2TiB"},
		{"1000B", 1000, "1000B"},
		{"0", 0, "0B"},
	} {
		n, err := Parse(tc.in)
		if err != nil || n != tc.n {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, n, err, tc.n)
		}
		if got := Format(n); got != tc.back {
			t.Errorf("Format(%d) = %q, want %q", n, got, tc.back)
		}
	}
	for _, bad := range []string{"", "ten", "-1GiB", "1PiB", "1e30TiB"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

func TestHuman(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 512: "512 B", 1536: "1.50 KiB", 12 * MiB: "12.0 MiB",
		300 * GiB: "300 GiB", 1234567890: "1.15 GiB", -2 * KiB: "-2.00 KiB",
	} {
		if got := Human(n); got != want {
			t.Errorf("Human(%d) = %q, want %q", n, got, want)
		}
	}
}
