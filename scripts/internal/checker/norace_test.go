//go:build !race

package checker_test

const raceDetector = false
