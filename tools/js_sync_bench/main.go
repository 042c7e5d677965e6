// JetStream with one request outstanding, as an application does it through nats.go: one
// connection creates a stream and a KV bucket, then publishes with js.Publish (each waiting
// for its PubAck), puts with kv.Put and gets with kv.Get, one at a time. Prints each one's
// latency percentiles and rate per round. Each round is a new connection, so against Ringtail
// it may land on either shard; the stream and the bucket it creates follow it there.
//
// Built offline in GOPATH mode against the nats.go sources Debian installs:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/js_sync_bench ./tools/js_sync_bench
//	/tmp/js_sync_bench -url nats://127.0.0.1:4222 -count 5000 -size 128 -rounds 5
package main

import (
	"flag"
	"fmt"
	"log"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
)

// Latency percentiles and the rate of `samples`, taken back to back.
func summary(what string, samples []time.Duration) string {
	total := time.Duration(0)
	for _, s := range samples {
		total += s
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	at := func(q float64) float64 { return float64(samples[int(q*float64(len(samples)-1))].Microseconds()) }
	return fmt.Sprintf("%s p50 %.0f us, p90 %.0f us, p99 %.0f us, %.0f/s", what, at(0.5), at(0.9), at(0.99),
		float64(len(samples))/total.Seconds())
}

func timed(count int, op func(i int) error) []time.Duration {
	samples := make([]time.Duration, count)
	for i := 0; i < count; i++ {
		began := time.Now()
		if err := op(i); err != nil {
			log.Fatal(err)
		}
		samples[i] = time.Since(began)
	}
	return samples
}

func main() {
	url := flag.String("url", nats.DefaultURL, "server")
	count := flag.Int("count", 5000, "publishes, puts and gets per round")
	keys := flag.Int("keys", 10000, "distinct keys")
	size := flag.Int("size", 128, "payload bytes")
	rounds := flag.Int("rounds", 5, "rounds, each on a new connection")
	flag.Parse()

	value := make([]byte, *size)
	for round := 1; round <= *rounds; round++ {
		nc, err := nats.Connect(*url)
		if err != nil {
			log.Fatal(err)
		}
		js, err := nc.JetStream()
		if err != nil {
			log.Fatal(err)
		}
		stream := fmt.Sprintf("bench_sync_%d", round)
		if _, err := js.AddStream(&nats.StreamConfig{Name: stream, Subjects: []string{stream}}); err != nil {
			log.Fatal(err)
		}
		kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: stream, History: 1})
		if err != nil {
			log.Fatal(err)
		}
		key := func(i int) string { return fmt.Sprintf("key.%d", i%*keys) }
		publish := timed(*count, func(int) error { _, err := js.Publish(stream, value); return err })
		put := timed(*count, func(i int) error { _, err := kv.Put(key(i), value); return err })
		get := timed(*count, func(i int) error { _, err := kv.Get(key(i)); return err })
		cid, _ := nc.GetClientID()
		fmt.Printf("round %d (client id %d): %s; %s; %s\n", round, cid, summary("publish", publish),
			summary("put", put), summary("get", get))
		if err := js.DeleteKeyValue(stream); err != nil {
			log.Fatal(err)
		}
		if err := js.DeleteStream(stream); err != nil {
			log.Fatal(err)
		}
		nc.Close()
	}
}
