// A KV watch of many updates through nats.go's KeyValue API, timed, against any NATS server
// with JetStream. Each round creates a history-1 bucket and starts a watcher of every key; then
// WRITERS goroutines put UPDATES values of 128 B over KEYS keys (each waiting for its PubAck, so
// WRITERS puts are outstanding), or with -async N one goroutine publishes them as a bulk load
// does (js.PublishAsync to the keys' subjects, N PubAcks outstanding), while the watcher
// receives every update; then a new watcher
// replays the current value of every key. The watcher and the writers have a connection each.
// Prints the put, live watch and replay rates per round, the CPU time (utime+stime from /proc)
// the replay took in this client and, with -pid, in the server, and the server's over the whole
// run.
//
// Built offline in GOPATH mode against the nats.go sources Debian installs:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/kv_watch_bench ./tools/kv_watch_bench
//	/tmp/kv_watch_bench -url nats://127.0.0.1:4222 -updates 100000 -keys 100000 -rounds 3 -pid PID
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
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

func jetStream(url string, options ...nats.JSOpt) (*nats.Conn, nats.JetStreamContext) {
	nc, err := nats.Connect(url)
	if err != nil {
		log.Fatal(err)
	}
	js, err := nc.JetStream(options...)
	if err != nil {
		log.Fatal(err)
	}
	return nc, js
}

// Receives entries until `want` puts have come; returns how many.
func watch(w nats.KeyWatcher, want int) int {
	seen := 0
	for entry := range w.Updates() {
		if entry != nil && entry.Operation() == nats.KeyValuePut {
			if seen++; seen == want {
				break
			}
		}
	}
	return seen
}

func main() {
	url := flag.String("url", nats.DefaultURL, "server")
	updates := flag.Int("updates", 100000, "values put per round")
	keys := flag.Int("keys", 100000, "distinct keys")
	writers := flag.Int("writers", 64, "goroutines putting (one put outstanding each)")
	async := flag.Int("async", 0, "instead of -writers: one goroutine publishing the puts with "+
		"js.PublishAsync to the keys' subjects, this many PubAcks outstanding (a bulk load)")
	rounds := flag.Int("rounds", 3, "rounds")
	pid := flag.Int("pid", 0, "the server's pid, for its CPU time")
	flag.Parse()

	var publishOptions []nats.JSOpt
	if *async > 0 {
		publishOptions = append(publishOptions, nats.PublishAsyncMaxPending(*async),
			nats.PublishAsyncErrHandler(func(_ nats.JetStream, m *nats.Msg, err error) {
				log.Fatalf("put to %s: %v", m.Subject, err)
			}))
	}
	wc, wjs := jetStream(*url)
	defer wc.Close()
	pc, pjs := jetStream(*url, publishOptions...)
	defer pc.Close()
	value := make([]byte, 128)
	cpu := 0.0
	if *pid != 0 {
		cpu = cpuSeconds(*pid)
	}
	for round := 1; round <= *rounds; round++ {
		bucket := fmt.Sprintf("bench_watch_%d", round)
		kv, err := pjs.CreateKeyValue(&nats.KeyValueConfig{Bucket: bucket, History: 1, Storage: nats.FileStorage})
		if err != nil {
			log.Fatal(err)
		}
		watched, err := wjs.KeyValue(bucket)
		if err != nil {
			log.Fatal(err)
		}
		watcher, err := watched.WatchAll()
		if err != nil {
			log.Fatal(err)
		}
		live := make(chan int)
		go func() { live <- watch(watcher, *updates) }()

		began := time.Now()
		var wg sync.WaitGroup
		if *async > 0 {
			// The same puts as kv.Put makes, to $KV.<bucket>.<key>, acks checked at the end.
			for i := 0; i < *updates; i++ {
				subject := fmt.Sprintf("$KV.%s.key.%d", bucket, i%*keys)
				if _, err := pjs.PublishAsync(subject, value); err != nil {
					log.Fatal(err)
				}
			}
			select {
			case <-pjs.PublishAsyncComplete():
			case <-time.After(time.Minute):
				log.Fatalf("round %d: %d PubAcks still outstanding", round, pjs.PublishAsyncPending())
			}
		}
		for w := 0; w < *writers && *async == 0; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := w; i < *updates; i += *writers {
					if _, err := kv.Put(fmt.Sprintf("key.%d", i%*keys), value); err != nil {
						log.Fatal(err)
					}
				}
			}(w)
		}
		wg.Wait()
		put := time.Since(began)
		if got := <-live; got != *updates {
			log.Fatalf("round %d: the watcher saw %d of %d updates", round, got, *updates)
		}
		live_s := time.Since(began)
		watcher.Stop()

		want := *keys
		if *updates < want {
			want = *updates
		}
		began, clientCPU, serverCPU := time.Now(), cpuSeconds(os.Getpid()), 0.0
		if *pid != 0 {
			serverCPU = cpuSeconds(*pid)
		}
		replay, err := watched.WatchAll()
		if err != nil {
			log.Fatal(err)
		}
		if got := watch(replay, want); got != want {
			log.Fatalf("round %d: the replay gave %d of %d values", round, got, want)
		}
		replay_s := time.Since(began)
		clientCPU = cpuSeconds(os.Getpid()) - clientCPU
		if *pid != 0 {
			serverCPU = cpuSeconds(*pid) - serverCPU
		}
		replay.Stop()
		if err := pjs.DeleteKeyValue(bucket); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("round %d: put %.0f/s, live watch %.0f updates/s, replay of %d values %.0f/s "+
			"(CPU: client %.2f s, server %.2f s)\n", round, float64(*updates)/put.Seconds(),
			float64(*updates)/live_s.Seconds(), want, float64(want)/replay_s.Seconds(), clientCPU, serverCPU)
	}
	if *pid != 0 {
		fmt.Printf("server CPU: %.2f s\n", cpuSeconds(*pid)-cpu)
	}
}
