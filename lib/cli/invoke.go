package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/credential"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

func runInvoke(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "invoke", "[--event FILE|-] [--payload JSON] [--demo | --fleet FILE] [flags]", `
Runs one invocation exactly as Function Compute does it, without Docker (the
counterpart of 's local invoke'): an FC runtime-API double (the protocol of
fc-runtime-go-sdk v0.3.1, x-fc-* headers included) feeds the event to this
binary started as the function (FC_RUNTIME_API set), and the function's
response is printed: the run's summary (docs/summary.schema.json), or FC's
error payload (exit code 1). The whole report is in the function's logs, in
records of at most about 32 KB: --report FILE puts it back together and
writes it there (also for a failed invocation), --text prints it as a table.

The event is --event FILE, --event - (stdin), or by default a timer event
{"triggerTime": now, "triggerName": "timer", "payload": --payload}.
Credentials go in the invocation headers, as FC passes a role's STS
credentials: found as plan and run find them (--profile, the environment's
ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET and
ALIBABA_CLOUD_SECURITY_TOKEN, OIDC, the CLI's profiles), or with --demo a fresh demo credential for
an ECS double serving the demo fleet (no account needed). The REAPER_*
settings and FC_REGION of this shell are passed to the function; nothing
else is. The function's logs go to stderr (or --logs FILE).`, `
  ./reaper invoke --demo
  ./reaper invoke --demo --payload '{"dryRun": true}' --text
  ./reaper invoke --demo --report report.json && jq '.instances[] | select(.outcome=="released")' report.json
  ./reaper invoke --demo --event event.json
  echo '{"triggerName":"t","triggerTime":"2026-01-01T00:00:00Z"}' | ./reaper invoke --event -
  ./reaper invoke --region cn-hangzhou --payload '{"dryRun": true}'   # your account`, true)
	eventFile := fs.String("event", "", "event file, or - for stdin (default: a timer event)")
	payload := fs.String("payload", "", "payload of the default timer event, e.g. '{\"dryRun\": true}'")
	accounts := fs.String("accounts", "", "the accounts the function sweeps, as REAPER_ACCOUNTS (overrides it); the invocation carries your credentials and your account ID, and the function assumes REAPER_ROLE_NAME in each")
	profile := fs.String("profile", "", "the aliyun CLI profile whose credentials the invocation carries (default: found as plan and run find them)")
	var d doubleFlags
	addDoubleFlags(fs, &d)
	timeout := fs.Duration("timeout", 600*time.Second, "function timeout (sets x-fc-function-timeout and the deadline)")
	region := fs.String("region", "", "the function's region, x-fc-region and FC_REGION (default $FC_REGION, $ALIBABA_CLOUD_REGION_ID or "+fcdouble.DefaultRegion+")")
	requestID := fs.String("request-id", "", "x-fc-request-id (default generated)")
	retryCount := fs.Int("retry-count", 0, "x-fc-retry-count, as on FC's retries of a failed async invocation")
	binary := fs.String("binary", "", "the function binary to run (default this program)")
	logsFile := fs.String("logs", "", "write the function's logs to this file instead of stderr")
	asText := fs.Bool("text", false, "print the whole report, from the logs, as a table instead of the summary")
	reportFile := fs.String("report", "", "write the whole JSON report, put back together from the function's logs, to this file")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	if *eventFile != "" && *payload != "" {
		return fail(env, "invoke", fmt.Errorf("%w: --payload goes into the default timer event; with --event, put it in the file", errUsage))
	}
	if *timeout < time.Second {
		return fail(env, "invoke", fmt.Errorf("%w: --timeout %v: must be at least 1s (FC counts whole seconds)", errUsage, *timeout))
	}

	event, err := invokeEvent(env, *eventFile, *payload)
	if err != nil {
		return fail(env, "invoke", err)
	}
	bin := *binary
	if bin == "" {
		if bin, err = os.Executable(); err != nil {
			return fail(env, "invoke", fmt.Errorf("find this program to run as the function: %w (pass --binary)", err))
		}
	}

	fnEnv := passThroughEnv(env)
	inv := fcdouble.Invocation{
		RequestID:    *requestID,
		Event:        event,
		Timeout:      *timeout,
		FunctionName: fcdouble.DefaultFunctionName,
		Handler:      fcdouble.DefaultHandler,
		MemoryMB:     128,
		Region:       firstNonEmpty(*region, env.get(EnvFCRegion), env.get(EnvRegionID), fcdouble.DefaultRegion),
		AccountID:    fcdouble.DefaultAccountID,
		RetryCount:   *retryCount,
	}
	fnEnv = append(fnEnv, "FC_REGION="+inv.Region)
	if *accounts != "" {
		fnEnv = append(fnEnv, settings.EnvAccounts+"="+*accounts) // the last of a name wins
	}
	spec := firstNonEmpty(*accounts, env.get(settings.EnvAccounts))
	multi := spec != "" && !strings.EqualFold(strings.TrimSpace(spec), "self")
	if multi && d.on() {
		return fail(env, "invoke", fmt.Errorf("%w: --demo and --fleet serve one account; --accounts and REAPER_ACCOUNTS need your own credentials", errUsage))
	}
	var demoT *target
	if d.on() {
		cfg := settings.Default()
		if demoT, err = demoTarget(cfg, d.fleet); err != nil {
			return fail(env, "invoke", err)
		}
		defer demoT.close()
		fnEnv = append(fnEnv, settings.EnvEndpoint+"="+demoT.cfg.Endpoint)
		if env.get(settings.EnvRegions) == "" {
			fnEnv = append(fnEnv, settings.EnvRegions+"="+strings.Join(demoT.cfg.Regions, ","))
		}
		inv.Credentials = fcdouble.Credentials(demoT.creds)
	} else {
		chain, err := credential.Find(env.Lookup, *profile)
		if err != nil {
			return fail(env, "invoke", fmt.Errorf("%w: the invocation's credentials: %w; or pass --demo", errUsage, err))
		}
		creds, err := chain.Credentials()
		if err != nil {
			return fail(env, "invoke", fmt.Errorf("%w: the invocation's credentials: %w", errUsage, err))
		}
		inv.Credentials = fcdouble.Credentials(creds)
		if multi {
			// FC tells the function its account: here, the caller's.
			if inv.AccountID, err = callerAccount(ctx, env, creds); err != nil {
				return fail(env, "invoke", err)
			}
		}
	}

	res, logs, err := invokeOnce(ctx, bin, fnEnv, inv)
	if werr := writeLogs(env, *logsFile, logs); werr != nil {
		fmt.Fprintf(env.Stderr, "invoke: %v\n", werr)
	}
	if err != nil {
		return fail(env, "invoke", err)
	}
	if demoT != nil {
		released := demoT.double.Released()
		fmt.Fprintf(env.Stderr, "invoke: the ECS double released %d instances%s\n", len(released), listSuffix(released))
	}
	var rep *report.Report
	if *reportFile != "" || (*asText && res.Err == nil) {
		// One invocation in this process: its records are the log's only report.
		if rep, err = report.ReadLog(strings.NewReader(logs), "", ""); err != nil {
			return fail(env, "invoke", fmt.Errorf("the report in the function's logs: %w", err))
		}
	}
	if *reportFile != "" {
		if err := writeReportFile(*reportFile, rep); err != nil {
			return fail(env, "invoke", err)
		}
	}
	if res.Err != nil {
		writeJSON(env.Stdout, res.Body)
		fmt.Fprintf(env.Stderr, "invoke: the function returned an error (%s): %s\n", res.Err.ErrorType, res.Err.ErrorMessage)
		return ExitFailed
	}
	if *asText {
		if err := report.WriteText(env.Stdout, rep); err != nil {
			return fail(env, "invoke", err)
		}
		return ExitOK
	}
	writeJSON(env.Stdout, res.Body)
	return ExitOK
}

// callerAccount is the account the credentials belong to.
func callerAccount(ctx context.Context, env *Env, creds ecsapi.Credentials) (string, error) {
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: creds, STSEndpoint: env.get(settings.EnvSTSEndpoint)})
	if err != nil {
		return "", fmt.Errorf("%w: %w", errUsage, err)
	}
	id, err := c.GetCallerIdentity(ctx)
	if err != nil {
		return "", fmt.Errorf("your credentials' account (STS GetCallerIdentity): %w", err)
	}
	return id.AccountID, nil
}

// writeReportFile writes rep as indented JSON to file.
func writeReportFile(file string, rep *report.Report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	return nil
}

// invokeEvent reads the event, or builds the default timer event.
func invokeEvent(env *Env, file, payload string) ([]byte, error) {
	switch file {
	case "":
		return json.Marshal(map[string]string{
			"triggerTime": time.Now().UTC().Format(time.RFC3339),
			"triggerName": "timer",
			"payload":     payload,
		})
	case "-":
		b, err := io.ReadAll(env.stdin())
		if err != nil {
			return nil, fmt.Errorf("read the event from stdin: %w", err)
		}
		return b, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%w: read the event: %w", errUsage, err)
	}
	return b, nil
}

// passThroughEnv is the settings part of this shell's environment: the
// function sees what FC would give it, not the caller's whole shell.
func passThroughEnv(env *Env) []string {
	var out []string
	for _, name := range settings.Names {
		if v, ok := env.Lookup(name); ok {
			out = append(out, name+"="+v)
		}
	}
	return out
}

// invokeOnce runs bin under a fresh runtime-API double for one invocation
// and returns its answer and everything the process wrote.
func invokeOnce(ctx context.Context, bin string, fnEnv []string, inv fcdouble.Invocation) (fcdouble.Result, string, error) {
	srv, err := fcdouble.Start()
	if err != nil {
		return fcdouble.Result{}, "", err
	}
	defer srv.Close()
	proc, err := fcdouble.StartFunction(ctx, bin, fnEnv, srv)
	if err != nil {
		return fcdouble.Result{}, "", err
	}
	// The double's deadline covers the function's; a little more lets a
	// function that honours its deadline still answer.
	ictx, cancel := context.WithTimeout(ctx, inv.Timeout+30*time.Second)
	defer cancel()
	go func() {
		select {
		case <-proc.Done(): // a function that dies never answers
			cancel()
		case <-ictx.Done():
		}
	}()
	res, err := srv.Invoke(ictx, inv)
	exited := false
	select {
	case <-proc.Done():
		exited = true
	default:
	}
	proc.Stop() // before srv.Close: the SDK spins on /next when the server is gone
	logs := proc.Output()
	if err != nil {
		if exited {
			exitErr := proc.ExitErr()
			if exitErr == nil {
				exitErr = errors.New("exit status 0")
			}
			return res, logs, fmt.Errorf("the function exited before answering: %w (its output is above)", exitErr)
		}
		return res, logs, fmt.Errorf("no answer from the function: %w", err)
	}
	return res, logs, nil
}

func writeLogs(env *Env, file, logs string) error {
	if file == "" {
		_, err := io.WriteString(env.Stderr, logs)
		return err
	}
	if err := os.WriteFile(file, []byte(logs), 0o600); err != nil {
		return fmt.Errorf("write the function's logs: %w", err)
	}
	return nil
}

// writeJSON indents a JSON body for reading; anything else goes out as is.
func writeJSON(w io.Writer, body []byte) {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		buf.Reset()
		buf.Write(body)
	}
	buf.WriteByte('\n')
	_, _ = w.Write(buf.Bytes())
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func listSuffix(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ": " + strings.Join(ids, ", ")
}
