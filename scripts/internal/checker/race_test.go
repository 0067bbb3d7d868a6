//go:build race

package checker_test

// raceDetector says the tests run under the race detector, which makes
// the embedded database in this process several times slower.
const raceDetector = true
