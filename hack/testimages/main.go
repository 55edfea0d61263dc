package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/osm-tracing/osm-tracing/e2e/testimages"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("testimages: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	out := flag.String("out", ".cache/images", "folder to write the archives into")
	jaeger := flag.String("jaeger", ".cache/testbin/jaeger-"+testimages.JaegerModuleVersion+"/jaeger", "the Jaeger binary hack/testbin.sh built")
	only := flag.String("only", "", "comma-separated image references to build (default: all of "+strings.Join(testimages.Refs(), ", ")+")")
	goCmd := flag.String("go", "go", "the go command")
	verbose := flag.Bool("v", false, "log each image's build on stderr")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	o := testimages.Options{OutDir: *out, Jaeger: *jaeger, Go: *goCmd}
	if *only != "" {
		o.Images = strings.Split(*only, ",")
	}
	if *verbose {
		o.Logf = log.Printf
	}
	start := time.Now()
	archives, err := testimages.Build(ctx, o)
	if err != nil {
		return err
	}
	for _, a := range archives {
		what := "wrote"
		if a.Cached {
			what = "cached"
		}
		line := fmt.Sprintf("%s %s %s", a.Ref, a.Path, what)
		if a.Name != a.Ref {
			line += " (imported as " + a.Name + ")"
		}
		fmt.Println(line)
	}
	log.Printf("%d archives in %s", len(archives), time.Since(start).Round(100*time.Millisecond))
	return nil
}
