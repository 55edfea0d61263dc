package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage:
  testapp serve --port 8080 [--port N ...] [--tcp-port N ...] [--term-delay 0s] [--log-bodies]
  testapp get [--timeout 10s] [--ca FILE] [-H 'Name: value' ...] URL
  testapp resolve NAME
  testapp cat FILE...
  testapp dial [--timeout 10s] [--message hello] HOST:PORT
  testapp sleep DURATION|infinity
  testapp run-job [--timeout 10s] URL`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "get", "run-job":
		err = get(cmd, args)
	case "dial":
		err = dial(args)
	case "sleep":
		err = sleep(args)
	case "resolve":
		err = resolve(args)
	case "cat":
		err = cat(args)
	default:
		err = fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testapp "+cmd+": "+err.Error())
		os.Exit(1)
	}
}

// stopSignals are the signals that end a command (after --term-delay for serve).
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT}

// signalContext ends when SIGTERM or SIGINT arrives.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), stopSignals...)
}
