// Command probe is the program of e2e/node's own image, osm-tracing.test/probe:v1: a static
// binary that, run with kubectl exec inside a Pod, does what the real node's checks need and
// the test application (e2e/testapp) does not: HTTPS with a given CA, DNS lookups through the
// Pod's resolver, reading the Pod's own files. The checks run from inside Pods this way, so
// nothing but the test's own bridge carries their traffic.
//
//	probe pause                   wait for SIGTERM or SIGINT (the Pod's main process)
//	probe serve -port 8080        answer GET / with "probe <hostname>\n"
//	probe get [-ca FILE] URL      print the body of GET URL (HTTPS: trust FILE's CAs)
//	probe resolve NAME            print the addresses NAME resolves to, one a line
//	probe cat FILE...             print the files (/etc/resolv.conf, /proc/net/route)
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

// timeout bounds one get or resolve, so a broken path fails the exec instead of hanging it.
const timeout = 10 * time.Second

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: probe pause | serve -port N | get [-ca FILE] URL | resolve NAME | cat FILE"))
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "pause":
		pause()
	case "serve":
		err = serve(args)
	case "get":
		err = get(args)
	case "resolve":
		err = resolve(args)
	case "cat":
		err = cat(args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "probe:", err)
	os.Exit(1)
}

// pause waits until told to stop and, as PID 1, reaps whatever kubectl exec started and left.
func pause() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			return
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	port := fs.Int("port", 8080, "TCP port to listen on, all addresses")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintf(w, "probe %s\n", host)
	})
	srv := &http.Server{Addr: ":" + strconv.Itoa(*port), Handler: mux, ReadHeaderTimeout: timeout}
	fmt.Printf("serving on %s\n", srv.Addr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	caFile := fs.String("ca", "", "PEM file of the CAs an HTTPS server must be signed by")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("get needs one URL")
	}
	transport := &http.Transport{Proxy: nil}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("no certificate in %s", *caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{Transport: transport, Timeout: timeout}
	resp, err := client.Get(fs.Arg(0))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", fs.Arg(0), resp.Status, body)
	}
	_, err = os.Stdout.Write(body)
	return err
}

func resolve(args []string) error {
	if len(args) != 1 {
		return errors.New("resolve needs one name")
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// The pure-Go resolver reads the pod's /etc/resolv.conf (search list, ndots) as libc would.
	r := &net.Resolver{PreferGo: true}
	addrs, err := r.LookupHost(ctx, args[0])
	if err != nil {
		return err
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
	return nil
}

func cat(files []string) error {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := os.Stdout.Write(data); err != nil {
			return err
		}
	}
	return nil
}
