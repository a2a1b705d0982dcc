package samples

// Test helpers for the external tests (broker_test.go).
var (
	TestSnapshot = testSnapshot
	CheckRecords = checkRecords
)
