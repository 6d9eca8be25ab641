package benchmark

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// BuildFlags are the deployment build's flags (s.yaml pre-deploy), for the
// host's GOOS/GOARCH.
var BuildFlags = []string{"-tags=fc", "-trimpath", "-ldflags=-s -w"}

// ColdStart is the function binary's start-up: the time from just before
// the process is started to its first GET .../runtime/invocation/next.
type ColdStart struct {
	Package    string          `json:"package"`
	BinarySize int64           `json:"binaryBytes"`
	Samples    []time.Duration `json:"samples"`
	Median     time.Duration   `json:"median"`
	P90        time.Duration   `json:"p90"`
}

// BuildFunction builds pkg with the deployment flags and CGO_ENABLED=0 into
// dir and returns the binary's path.
func BuildFunction(ctx context.Context, pkg, dir string) (string, error) {
	out := filepath.Join(dir, "main")
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, msg)
	}
	return out, nil
}

// MeasureColdStart builds pkg and starts it runs times against a runtime
// API that only notes when the first invocation/next request arrives.
func MeasureColdStart(ctx context.Context, pkg string, runs int) (ColdStart, error) {
	dir, err := os.MkdirTemp("", "reaper-coldstart-")
	if err != nil {
		return ColdStart{}, err
	}
	defer os.RemoveAll(dir)
	bin, err := BuildFunction(ctx, pkg, dir)
	if err != nil {
		return ColdStart{}, err
	}
	fi, err := os.Stat(bin)
	if err != nil {
		return ColdStart{}, err
	}
	cs := ColdStart{Package: pkg, BinarySize: fi.Size()}

	arrived := make(chan time.Time, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2020-11-11/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- time.Now():
		default:
		}
		<-r.Context().Done() // no invocation: hold the poll until the process goes
	})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return cs, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"FC_RUNTIME_API=" + ln.Addr().String(),
		"FC_REGION=cn-hangzhou", "FC_ACCOUNT_ID=1234567890123456", "FC_FUNCTION_NAME=ecs-reaper",
		"FC_FUNCTION_HANDLER=main", "FC_FUNCTION_MEMORY_SIZE=128", "FC_INSTANCE_ID=bench",
		"FC_FUNC_CODE_PATH=" + dir,
	}
	for range runs {
		d, err := startOnce(ctx, bin, env, arrived)
		if err != nil {
			return cs, err
		}
		cs.Samples = append(cs.Samples, d)
	}
	sorted := slices.Clone(cs.Samples)
	slices.Sort(sorted)
	if n := len(sorted); n > 0 {
		cs.Median = sorted[n/2]
		cs.P90 = sorted[min(n-1, (n*9+9)/10-1)]
	}
	return cs, nil
}

func startOnce(ctx context.Context, bin string, env []string, arrived chan time.Time) (time.Duration, error) {
	select { // drop a late arrival from the previous run
	case <-arrived:
	default:
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = env
	cmd.Dir = filepath.Dir(bin)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		if err := <-exited; err != nil {
			return // killed on purpose: the exit status says nothing
		}
	}()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case t := <-arrived:
		return t.Sub(start), nil
	case err := <-exited:
		exited <- err
		return 0, fmt.Errorf("%s exited before polling the runtime API: %w", bin, err)
	case <-timer.C:
		return 0, errors.New("no runtime API request within 10 s")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
