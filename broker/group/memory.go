package group

import "github.com/weirhq/weir/broker/internaltopic"

// MemoryStorage is a Storage in memory (internaltopic.MemoryStorage).
// Tests restart a coordinator on the same MemoryStorage to check what it
// reloads; its Fail makes appends fail.
type MemoryStorage = internaltopic.MemoryStorage

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage() *MemoryStorage { return internaltopic.NewMemoryStorage() }
