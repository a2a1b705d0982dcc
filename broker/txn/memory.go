package txn

import "github.com/weirhq/weir/broker/internaltopic"

// MemoryStorage is a Storage in memory (internaltopic.MemoryStorage).
// Tests start a second coordinator on the same MemoryStorage to check
// what it loads.
type MemoryStorage = internaltopic.MemoryStorage

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return internaltopic.NewMemoryStorage() }
