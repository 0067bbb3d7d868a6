package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wxauth/scf-auth/pkg/embeddeddb"
)

// database is the embedded database running as a process of its own.
type database struct {
	uri  string
	pid  int
	stop func()
}

// startDatabase runs `bench db <dir>` (this same program) and waits for the
// URI it prints.
func startDatabase(dir string) (*database, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "db", dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("embedded database did not start: %w", err)
	}
	stop := func() {
		_ = in.Close() // the server stops when its stdin closes
		_ = cmd.Wait()
	}
	return &database{uri: strings.TrimSpace(line), pid: cmd.Process.Pid, stop: stop}, nil
}

// serveDatabase is the `db <dir>` subcommand: it serves the embedded
// database until its stdin closes or it is interrupted.
func serveDatabase(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: bench db <dir>")
	}
	db, err := embeddeddb.Start(args[0], nil)
	if err != nil {
		return err
	}
	defer db.Stop()
	fmt.Println(db.URI)
	done := make(chan struct{})
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		close(done)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case <-done:
	case <-sig:
	}
	return nil
}
