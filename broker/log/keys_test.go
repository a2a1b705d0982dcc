package log

import (
	"errors"
	"testing"

	"github.com/weirhq/weir/broker/log/codec"
)

func TestCheckKeys(t *testing.T) {
	keyed := func(i int) []byte { return []byte{'k', byte('0' + i)} }
	for _, tc := range []struct {
		name string
		s    spec
		want error
	}{
		{"keyed", spec{n: 3, key: keyed}, nil},
		{"keyed zstd", spec{n: 3, key: keyed, compression: codec.Zstd}, nil},
		{"keyless", spec{n: 3}, ErrNoKey},
		{"keyless lz4", spec{n: 3, compression: codec.LZ4}, ErrNoKey},
		{"one keyless of three", spec{n: 3, key: func(i int) []byte {
			if i == 1 {
				return nil
			}
			return keyed(i)
		}}, ErrNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := batch(tc.s)
			hdrs, err := ValidateBatches(b, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := CheckKeys(b, hdrs[0]); !errors.Is(err, tc.want) {
				t.Fatalf("CheckKeys = %v, want %v", err, tc.want)
			}
		})
	}
}
