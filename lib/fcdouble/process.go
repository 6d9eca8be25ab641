package fcdouble

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Values of the FC_* environment StartFunction sets before the caller's env,
// the ones FC itself gives every instance. Tests compare against them.
const (
	DefaultRegion       = "cn-hangzhou"
	DefaultAccountID    = "1234567890123456"
	DefaultFunctionName = "ecs-reaper"
	DefaultHandler      = "main"
	DefaultMemoryMB     = "128"
)

// Build compiles the main package pkg (a path go build accepts, resolved
// from the current directory) into dir and returns the binary's path. It
// builds for the host with CGO_ENABLED=0, as the deployment build does
// apart from GOOS/GOARCH, so the tested binary is the same program. flags
// go to go build before pkg (e.g. s.yaml's -ldflags for a local build).
func Build(ctx context.Context, pkg, dir string, flags ...string) (string, error) {
	out := filepath.Join(dir, "main")
	args := append(append([]string{"build", "-o", out}, flags...), pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("fcdouble: go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// Built builds a package once per test binary and removes it at the end,
// for test suites whose tests share one function binary.
type Built struct {
	// Flags go to go build (e.g. "-tags", "fc" for the deployed build).
	Flags []string
	once  sync.Once
	dir   string
	path  string
	err   error
}

// Path builds pkg on the first call and returns the binary's path.
func (b *Built) Path(ctx context.Context, pkg string) (string, error) {
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "ecs-reaper-build-")
		if b.err == nil {
			b.path, b.err = Build(ctx, pkg, b.dir, b.Flags...)
		}
	})
	return b.path, b.err
}

// Remove deletes the build directory; call it from TestMain after m.Run.
func (b *Built) Remove() {
	if b.dir != "" {
		_ = os.RemoveAll(b.dir)
	}
}

// Process is a function binary running against a Server.
type Process struct {
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	all    syncBuffer

	done    chan struct{}
	waitErr error
	stop    sync.Once
}

// StartFunction runs binaryPath with FC_RUNTIME_API pointing at srv and the
// FC_* variables FC sets (region, account, function name, handler, memory),
// followed by env, whose entries win over the defaults. The host environment
// is not inherited, except PATH and HOME, so a test sees only the settings it
// chose, as on FC. The process is killed when ctx ends or on Stop.
// Give each process started after another was stopped a Server of its
// own: the stopped process's pending GET /next may still be waiting on
// srv and take the next invocation to a closed connection.
func StartFunction(ctx context.Context, binaryPath string, env []string, srv *Server) (*Process, error) {
	p := &Process{done: make(chan struct{})}
	cmd := exec.CommandContext(ctx, binaryPath)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"FC_RUNTIME_API=" + srv.Addr(),
		"FC_REGION=" + DefaultRegion,
		"FC_ACCOUNT_ID=" + DefaultAccountID,
		"FC_FUNCTION_NAME=" + DefaultFunctionName,
		"FC_FUNCTION_HANDLER=" + DefaultHandler,
		"FC_FUNCTION_MEMORY_SIZE=" + DefaultMemoryMB,
		"FC_INSTANCE_ID=fcdouble-instance",
		"FC_FUNC_CODE_PATH=" + filepath.Dir(binaryPath),
	}, env...)
	cmd.Dir = filepath.Dir(binaryPath)
	cmd.Stdout = io.MultiWriter(&p.stdout, &p.all)
	cmd.Stderr = io.MultiWriter(&p.stderr, &p.all)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fcdouble: start %s: %w", binaryPath, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Stop kills the process and waits for it to exit. It is safe to call more
// than once and after the process has exited on its own.
func (p *Process) Stop() {
	p.stop.Do(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // may race with a normal exit; Wait reports it
		}
		<-p.done
	})
}

// Pid is the process's ID, e.g. to read /proc/<pid>/status while it runs.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// State is the exited process's state, with its resource usage (peak RSS,
// CPU); it waits for the exit.
func (p *Process) State() *os.ProcessState {
	<-p.done
	return p.cmd.ProcessState
}

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitErr is the process's exit status as exec.Cmd.Wait reported it; only
// meaningful after Done is closed.
func (p *Process) ExitErr() error {
	<-p.done
	return p.waitErr
}

// Stdout is everything the process wrote to standard output so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr is everything the process wrote to standard error so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Output is stdout and stderr interleaved in arrival order, which is what
// FC's log service shows.
func (p *Process) Output() string { return p.all.String() }

// WaitForOutput polls the output until it contains substr, the process
// exits, or ctx ends. Logs are written asynchronously, so tests that search
// them after an invocation use this rather than a single read.
func (p *Process) WaitForOutput(ctx context.Context, substr string) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if strings.Contains(p.Output(), substr) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fcdouble: %q not in output: %w", substr, ctx.Err())
		case <-p.done:
			if strings.Contains(p.Output(), substr) {
				return nil
			}
			return fmt.Errorf("fcdouble: process exited without writing %q", substr)
		case <-t.C:
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the exec copier goroutines writing
// while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p under the lock.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns a copy of what was written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
