// Command server is the benchmark's trivial target: an HTTP/1.1 server that
// answers every request with 200 and a 2-byte body, so that what the
// benchmark measures is the load generators, not the server's work.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// The script reads the chosen address from the first line of stdout.
	fmt.Println(l.Addr().String())
	os.Stdout.Sync()
	body := []byte("ok")
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "2")
			_, _ = w.Write(body)
		}),
	}
	log.Fatal(srv.Serve(l))
}
