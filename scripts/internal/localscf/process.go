package localscf

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
)

// Process is one running function, reached over the SCF Go runtime's RPC
// protocol. It is safe for concurrent use; a process that died is started
// again on the next invocation.
type Process struct {
	Name   string
	Binary string
	Env    []string
	// Logs receives each line the function writes, prefixed by its name.
	Logs io.Writer
	// Timeout is each invocation's deadline, as a function's timeout is.
	Timeout time.Duration

	mu     sync.Mutex
	cmd    *exec.Cmd
	client *rpc.Client
	exited chan struct{}
	// ColdStart is how long the last start took from exec to the first
	// answered invocation (set after that invocation).
	ColdStart   time.Duration
	started     time.Time
	firstDone   bool
	Invocations int
}

// Start launches the process and waits until its RPC server answers.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.startLocked(ctx)
}

func (p *Process) startLocked(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(p.Binary)
	cmd.Env = append(append(os.Environ(), p.Env...), "_LAMBDA_SERVER_PORT="+strconv.Itoa(port))
	setDeathSignal(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	exited := make(chan struct{})
	go func() {
		p.copyLogs(out)
		_ = cmd.Wait()
		close(exited)
	}()
	client, err := dialRPC(ctx, "localhost:"+strconv.Itoa(port), exited)
	if err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("%s did not start: %w", p.Name, err)
	}
	p.cmd, p.client, p.exited, p.firstDone = cmd, client, exited, false
	return nil
}

func dialRPC(ctx context.Context, addr string, exited <-chan struct{}) (*rpc.Client, error) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			client := rpc.NewClient(conn)
			if err = client.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err == nil {
				return client, nil
			}
			client.Close()
		}
		select {
		case <-exited:
			return nil, errors.New("process exited")
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, err
		}
	}
}

// Invocation is what the platform sends a function for one event.
type Invocation struct {
	RequestID string
	Payload   []byte
	// Environment is the invocation's context, such as a wx.cloud caller's
	// WX_ keys. The platform sends it as InvokeRequest.Environment, a JSON
	// object of strings, which scf-go-lib hands to the function as
	// functioncontext's Environment (and copies into the process
	// environment). Nil sends none.
	Environment map[string]string
}

// Invoke sends one event and returns the function's answer.
func (p *Process) Invoke(ctx context.Context, requestID string, payload []byte) ([]byte, error) {
	return p.InvokeWith(ctx, Invocation{RequestID: requestID, Payload: payload})
}

// InvokeWith sends one invocation, context included, as the platform
// does, and returns the function's answer.
func (p *Process) InvokeWith(ctx context.Context, inv Invocation) ([]byte, error) {
	var environment string
	if inv.Environment != nil {
		raw, err := json.Marshal(inv.Environment)
		if err != nil {
			return nil, err
		}
		environment = string(raw)
	}
	client, err := p.running(ctx)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(p.timeout())
	req := &messages.InvokeRequest{
		Payload:         inv.Payload,
		RequestId:       inv.RequestID,
		Deadline:        messages.InvokeRequest_Timestamp{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
		FunctionName:    p.Name,
		FunctionVersion: "$LATEST",
		Namespace:       "default",
		MemoryLimitInMb: 128,
		TimeLimitInMs:   int32(p.timeout().Milliseconds()),
		Environment:     environment,
	}
	var resp messages.InvokeResponse
	call := client.Go("Function.Invoke", req, &resp, nil)
	select {
	case <-call.Done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if call.Error != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, call.Error)
	}
	p.mu.Lock()
	p.Invocations++
	if !p.firstDone {
		p.firstDone = true
		p.ColdStart = time.Since(p.started)
	}
	p.mu.Unlock()
	if resp.Error != nil {
		return nil, fmt.Errorf("%s returned an error to the runtime (%s): %s", p.Name, resp.Error.Type, resp.Error.Message)
	}
	return resp.Payload, nil
}

// running returns the RPC client, restarting the process if it died.
func (p *Process) running(ctx context.Context) (*rpc.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		select {
		case <-p.exited:
			p.client.Close()
			p.client = nil
		default:
			return p.client, nil
		}
	}
	if err := p.startLocked(ctx); err != nil {
		return nil, err
	}
	return p.client, nil
}

// PID is the process id, or 0 when not running.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Stop ends the process: politely, then firmly.
func (p *Process) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	if p.client != nil {
		p.client.Close()
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.exited:
	case <-time.After(2 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd, p.client = nil, nil
}

func (p *Process) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return 10 * time.Second
}

func (p *Process) copyLogs(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if p.Logs != nil {
			fmt.Fprintf(p.Logs, "[%s] %s\n", p.Name, sc.Text())
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
