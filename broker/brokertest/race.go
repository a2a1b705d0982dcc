//go:build race

package brokertest

// raceEnabled builds the broker with -race when the tests run with -race.
const raceEnabled = true
