package localscf

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the function when the gateway dies,
// however it dies, so no function outlives it.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
