// Object store put and get of one large object through nats.go's ObjectStore, against any
// NATS server with JetStream: each round creates a bucket, puts an object of SIZE MiB of
// random bytes, gets it back (nats.go checks its SHA-256 digest; the bytes are compared too),
// and deletes the bucket. Prints MiB/s per put and get, the CPU time (utime+stime from /proc)
// each put took in this client and, with -pid, in the server, and the server's over the whole
// run.
//
// Built offline in GOPATH mode against the nats.go sources Debian installs:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/object_store_bench ./tools/object_store_bench
//	/tmp/object_store_bench -url nats://127.0.0.1:4222 -size 100 -rounds 3 -pid PID
package main

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		log.Fatal(err)
	}
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

func main() {
	url := flag.String("url", nats.DefaultURL, "server")
	sizeMiB := flag.Int("size", 100, "object size in MiB")
	rounds := flag.Int("rounds", 3, "rounds")
	pid := flag.Int("pid", 0, "the server's pid, for its CPU time")
	flag.Parse()

	nc, err := nats.Connect(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		log.Fatal(err)
	}
	data := make([]byte, *sizeMiB<<20)
	if _, err := rand.Read(data); err != nil {
		log.Fatal(err)
	}
	cpu := 0.0
	if *pid != 0 {
		cpu = cpuSeconds(*pid)
	}
	for round := 1; round <= *rounds; round++ {
		bucket := fmt.Sprintf("bench%d", round)
		obs, err := js.CreateObjectStore(&nats.ObjectStoreConfig{Bucket: bucket, Storage: nats.FileStorage})
		if err != nil {
			log.Fatal(err)
		}
		began, clientCPU, serverCPU := time.Now(), cpuSeconds(os.Getpid()), 0.0
		if *pid != 0 {
			serverCPU = cpuSeconds(*pid)
		}
		if _, err := obs.Put(&nats.ObjectMeta{Name: "big"}, bytes.NewReader(data)); err != nil {
			log.Fatal(err)
		}
		put := time.Since(began)
		clientCPU = cpuSeconds(os.Getpid()) - clientCPU
		if *pid != 0 {
			serverCPU = cpuSeconds(*pid) - serverCPU
		}
		began, getClientCPU, getServerCPU := time.Now(), cpuSeconds(os.Getpid()), 0.0
		if *pid != 0 {
			getServerCPU = cpuSeconds(*pid)
		}
		result, err := obs.Get("big")
		if err != nil {
			log.Fatal(err)
		}
		got, err := io.ReadAll(result)
		if err != nil {
			log.Fatal(err)
		}
		get := time.Since(began)
		getClientCPU = cpuSeconds(os.Getpid()) - getClientCPU
		if *pid != 0 {
			getServerCPU = cpuSeconds(*pid) - getServerCPU
		}
		if !bytes.Equal(got, data) {
			log.Fatalf("round %d: the object read back differs", round)
		}
		if err := js.DeleteObjectStore(bucket); err != nil {
			log.Fatal(err)
		}
		mib := float64(*sizeMiB)
		fmt.Printf("round %d: put %.1f MiB/s (CPU: client %.2f s, server %.2f s), get %.1f MiB/s (CPU: client %.2f s, server %.2f s)\n",
			round, mib/put.Seconds(), clientCPU, serverCPU, mib/get.Seconds(), getClientCPU, getServerCPU)
	}
	if *pid != 0 {
		fmt.Printf("server CPU: %.2f s\n", cpuSeconds(*pid)-cpu)
	}
}
