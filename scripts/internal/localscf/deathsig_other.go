//go:build !linux

package localscf

import "os/exec"

// setDeathSignal is a no-op where the kernel has no parent-death signal;
// the gateway still stops its functions on Ctrl-C.
func setDeathSignal(*exec.Cmd) {}
