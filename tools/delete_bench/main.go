// Deleting single messages through nats.go: js.DeleteMsg (the message removed, its bytes left
// until its space is reused) and js.SecureDeleteMsg (its bytes erased from the files too). One
// connection fills a file stream with -messages messages of -size bytes, then deletes -deletes
// of the newest ones each way, one at a time; meanwhile a second connection asks for the
// stream's info every millisecond, to show what each deletion costs everyone else using the
// stream. Prints each kind's delete latency (p50, max) and the other connection's slowest
// STREAM.INFO while the deletes ran.
//
// Built offline in GOPATH mode against the nats.go sources Debian installs:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/delete_bench ./tools/delete_bench
//	/tmp/delete_bench -url nats://127.0.0.1:4222 -messages 100000 -size 1024 -deletes 20
package main

import (
	"flag"
	"fmt"
	"log"
	"sort"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", nats.DefaultURL, "server URL")
	messages := flag.Int("messages", 100000, "messages stored before the deletes")
	size := flag.Int("size", 1024, "payload bytes")
	deletes := flag.Int("deletes", 20, "deletes of each kind")
	flag.Parse()

	nc, err := nats.Connect(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(256))
	if err != nil {
		log.Fatal(err)
	}
	_ = js.DeleteStream("DELBENCH")
	if _, err := js.AddStream(&nats.StreamConfig{Name: "DELBENCH", Subjects: []string{"delbench.>"}, Storage: nats.FileStorage}); err != nil {
		log.Fatal(err)
	}
	payload := make([]byte, *size)
	for i := 0; i < *messages; i++ {
		if _, err := js.PublishAsync("delbench.m", payload); err != nil {
			log.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()

	other, err := nats.Connect(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer other.Close()
	otherJs, err := other.JetStream()
	if err != nil {
		log.Fatal(err)
	}

	seq := uint64(*messages)
	for _, secure := range []bool{false, true} {
		var slowest atomic.Int64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				case <-time.After(time.Millisecond):
				}
				start := time.Now()
				if _, err := otherJs.StreamInfo("DELBENCH"); err != nil {
					log.Fatal(err)
				}
				if took := int64(time.Since(start)); took > slowest.Load() {
					slowest.Store(took)
				}
			}
		}()
		samples := make([]time.Duration, 0, *deletes)
		for i := 0; i < *deletes; i++ {
			start := time.Now()
			if secure {
				err = js.SecureDeleteMsg("DELBENCH", seq)
			} else {
				err = js.DeleteMsg("DELBENCH", seq)
			}
			if err != nil {
				log.Fatal(err)
			}
			samples = append(samples, time.Since(start))
			seq -= 3
			time.Sleep(5 * time.Millisecond)
		}
		close(stop)
		<-done
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		kind := "DeleteMsg"
		if secure {
			kind = "SecureDeleteMsg"
		}
		fmt.Printf("%-16s delete p50 %8.0f us  max %8.0f us   other connection's slowest STREAM.INFO %8.0f us\n", kind,
			float64(samples[len(samples)/2].Microseconds()), float64(samples[len(samples)-1].Microseconds()),
			float64(time.Duration(slowest.Load()).Microseconds()))
	}
}
