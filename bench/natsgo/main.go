// ringtail-bench-natsgo runs one ringtail-bench scenario (pub, pubsub, fanout, queue, reqrep or
// js-pub) with the official Go client, nats.go, as users' programs drive a server: one
// connection per publisher and subscriber, nats.go's own goroutines and buffering. ringtail-bench
// starts it for --client nats.go and reads the one JSON object it prints on stdout (see
// bench/harness/natsgo_driver.h). The runs and their checks are those of the libnats driver
// (bench/harness/libnats_driver.cc); js-pub is that of the harness's own client.
//
// Exit status: 0 whenever a run was attempted, passed or failed (a failure is the "error" field,
// so that ringtail-bench reports it); 2 on bad usage.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/bits"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

type config struct {
	url          string
	scenario     string
	pubs         int
	subs         int
	sizeBytes    int
	count        uint64
	duration     time.Duration
	window       int64
	drainTimeout time.Duration
	sync         bool
	storage      string
	keys         uint64 // kv: distinct keys per publisher
	history      int    // kv: the bucket's history
}

// What ringtail-bench reads; the field names are its contract (natsgo_driver.cc).
type rate struct {
	Label    string  `json:"label"`
	Msgs     uint64  `json:"msgs"`
	Seconds  float64 `json:"seconds"`
	Headline bool    `json:"headline"`
}

type latency struct {
	Label   string      `json:"label"`
	Samples [][2]uint64 `json:"samples"` // [value in ns, count], see histogram
}

type result struct {
	Sent      uint64    `json:"sent"`
	Received  uint64    `json:"received"`
	Expected  uint64    `json:"expected"`
	ElapsedS  float64   `json:"elapsed_s"`
	Error     string    `json:"error"`
	Checks    []string  `json:"checks"`
	Notes     []string  `json:"notes"`
	Rates     []rate    `json:"rates"`
	Latencies []latency `json:"latencies"`
}

// The run's first failure. Callbacks of any connection may report one; the ones after it are
// mostly its consequences.
type failure struct {
	mu    sync.Mutex
	first string
	set   atomic.Bool
}

func (f *failure) add(text string) {
	f.mu.Lock()
	if f.first == "" {
		f.first = text
		f.set.Store(true)
	}
	f.mu.Unlock()
}

func (f *failure) failed() bool { return f.set.Load() }

func (f *failure) get() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.first
}

var (
	errs failure
	// Set before the run closes its connections, so that their disconnects are not failures.
	closing atomic.Bool
	// Every connection the run opened (all from main's goroutine), closed after the run.
	conns []*nats.Conn
	// The stamps' time base: monotonic, shared by every goroutine of the process.
	epoch = time.Now()
)

func nowNs() uint64 { return uint64(time.Since(epoch)) }

// connect opens one client connection. No reconnect: a connection the server drops (a slow
// consumer, an error) fails the run instead of hiding a gap.
func connect(c *config, name string) (*nats.Conn, error) {
	nc, err := nats.Connect(c.url, nats.Name(name), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			errs.add("nats.go: " + name + ": " + err.Error())
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if closing.Load() {
				return
			}
			if err == nil {
				err = nc.LastError()
			}
			text := "nats.go: " + name + ": disconnected"
			if err != nil {
				text += ": " + err.Error()
			}
			errs.add(text)
		}))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	conns = append(conns, nc)
	return nc, nil
}

// The first bytes of every payload, as bench/harness/stamp.h lays them out:
//
//	bytes 0..7   uint64 little-endian: publisher id (high 16 bits) | sequence number (low 48)
//	bytes 8..15  uint64 little-endian: send time, ns since the process's epoch (monotonic)
//
// A payload shorter than 8 bytes carries no stamp (counts only); shorter than 16, no send time.
const (
	stampSeqBytes = 8
	stampBytes    = 16
	stampSeqMask  = uint64(1)<<48 - 1
)

type stamp struct {
	publisher uint32
	seq       uint64
	sentNs    uint64
	hasSeq    bool
	hasTime   bool
}

func writeStamp(payload []byte, publisher uint32, seq, sentNs uint64) {
	if len(payload) < stampSeqBytes {
		return
	}
	binary.LittleEndian.PutUint64(payload, uint64(publisher)<<48|seq&stampSeqMask)
	if len(payload) < stampBytes {
		return
	}
	binary.LittleEndian.PutUint64(payload[8:], sentNs)
}

func readStamp(payload []byte) stamp {
	var s stamp
	if len(payload) < stampSeqBytes {
		return s
	}
	id := binary.LittleEndian.Uint64(payload)
	s.publisher = uint32(id >> 48)
	s.seq = id & stampSeqMask
	s.hasSeq = true
	if len(payload) < stampBytes {
		return s
	}
	s.sentNs = binary.LittleEndian.Uint64(payload[8:])
	s.hasTime = true
	return s
}

// histogram counts latencies to 3 significant digits: values below 1000 ns exactly, larger ones
// in buckets a unit of their third digit wide (1000..1009 ns, ..., 12.3..12.4 us), reported at
// the bucket's middle, so within 0.5%. That keeps the JSON to a few thousand pairs at most;
// ringtail-bench puts them into its own histogram (0.4% buckets).
//
// Bucket index: v < 1000: v. Otherwise v = m * 10^d with m in [100, 1000) and d >= 1:
// 1000 + (d - 1) * 900 + (m - 100). Example: 12345 ns is m = 123, d = 2: bucket 2923, value 12350.
const (
	histExact      = 1000
	histDecades    = 17 // d = 1..17 covers every value up to the cap
	histValueMaxNs = uint64(999) * 1e15
)

type histogram struct {
	counts []uint64
}

func newHistogram() *histogram {
	return &histogram{counts: make([]uint64, histExact+histDecades*900)}
}

func (h *histogram) record(valueNs uint64) {
	if valueNs > histValueMaxNs {
		valueNs = histValueMaxNs
	}
	if valueNs < histExact {
		h.counts[valueNs]++
		return
	}
	d, scale := 0, uint64(1)
	for valueNs/scale >= 1000 {
		d++
		scale *= 10
	}
	h.counts[histExact+(d-1)*900+int(valueNs/scale-100)]++
}

func (h *histogram) merge(other *histogram) {
	for i, n := range other.counts {
		h.counts[i] += n
	}
}

func (h *histogram) samples() [][2]uint64 {
	out := [][2]uint64{}
	for i, n := range h.counts {
		if n == 0 {
			continue
		}
		if i < histExact {
			out = append(out, [2]uint64{uint64(i), n})
			continue
		}
		k := i - histExact
		scale := uint64(1)
		for d := k/900 + 1; d > 0; d-- {
			scale *= 10
		}
		out = append(out, [2]uint64{uint64(k%900+100)*scale + scale/2, n})
	}
	return out
}

func (h *histogram) empty() bool {
	for _, n := range h.counts {
		if n != 0 {
			return false
		}
	}
	return true
}

// Client i's share of count over parts clients, as ringtail-bench spreads it.
func share(count uint64, parts, i int) uint64 {
	n := count / uint64(parts)
	if uint64(i) < count%uint64(parts) {
		n++
	}
	return n
}

// The sequence numbers one queue member received from one publisher.
type bitset []uint64

// mark is false when the bit was set already: a duplicate delivery to this member.
func (b *bitset) mark(seq uint64) bool {
	word := int(seq / 64)
	if word >= len(*b) {
		grown := make(bitset, word+1+len(*b))
		copy(grown, *b)
		*b = grown
	}
	mask := uint64(1) << (seq % 64)
	if (*b)[word]&mask != 0 {
		return false
	}
	(*b)[word] |= mask
	return true
}

func (b bitset) word(i int) uint64 {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// One subscriber's view of the run. nats.go delivers a subscription's messages on one goroutine
// of its own; that goroutine holds mu while it handles one, so that the run's goroutine can stop
// it and then read what it kept. The counters are atomic because the publishers read them for
// flow control while the run goes.
type receiver struct {
	from   []atomic.Uint64 // messages received, by publisher (all under 0 without a stamp)
	total  atomic.Uint64
	lastNs atomic.Uint64

	mu      sync.Mutex
	stopped bool
	queue   bool
	nextSeq []uint64 // by publisher: the order check
	seen    []bitset // by publisher, queue members: exactly-once across the group
	oneWay  *histogram
}

func newReceiver(publishers int, queue bool) *receiver {
	r := &receiver{
		from:    make([]atomic.Uint64, publishers),
		queue:   queue,
		nextSeq: make([]uint64, publishers),
		oneWay:  newHistogram(),
	}
	if queue {
		r.seen = make([]bitset, publishers)
	}
	return r
}

func (r *receiver) deliver(m *nats.Msg) {
	now := nowNs()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	s := readStamp(m.Data)
	publisher := uint32(0)
	if s.hasSeq {
		publisher = s.publisher
		if int(publisher) >= len(r.from) {
			errs.add(fmt.Sprintf("a message from publisher %d, which this run does not have", publisher))
			return
		}
		p := publisher
		if r.queue {
			if !r.seen[p].mark(s.seq) {
				errs.add("DUPLICATE at a queue member")
			}
			if s.seq < r.nextSeq[p] {
				errs.add("ORDER: a queue member got a message out of order")
			}
		} else if s.seq != r.nextSeq[p] {
			errs.add(fmt.Sprintf("ORDER or LOSS: expected message %d of publisher %d, got %d",
				r.nextSeq[p], p, s.seq))
		}
		r.nextSeq[p] = s.seq + 1
		if s.hasTime && now > s.sentNs {
			r.oneWay.record(now - s.sentNs)
		}
	}
	r.from[publisher].Add(1)
	r.total.Add(1)
	r.lastNs.Store(now)
}

// stop makes the delivery goroutine drop what still comes; afterwards the receiver's state
// belongs to the caller.
func (r *receiver) stop() {
	r.mu.Lock()
	r.stopped = true
	r.mu.Unlock()
}

// checkExactlyOnce is the queue group's verdict: every message of publisher p with seq < sent[p]
// reached exactly one member, and nothing else reached any.
func checkExactlyOnce(members []*receiver, sent []uint64) string {
	for p := range sent {
		words := int((sent[p] + 63) / 64)
		for _, m := range members {
			if len(m.seen[p]) > words {
				words = len(m.seen[p])
			}
		}
		for w := 0; w < words; w++ {
			seen := uint64(0)
			for _, m := range members {
				word := m.seen[p].word(w)
				if seen&word != 0 {
					seq := uint64(w)*64 + uint64(bits.TrailingZeros64(seen&word))
					return fmt.Sprintf("DUPLICATE: publisher %d seq %d delivered to more than one member", p, seq)
				}
				seen |= word
			}
			first := uint64(w) * 64
			expected := uint64(0) // the bits of seqs < sent[p] in this word
			if sent[p] >= first+64 {
				expected = ^uint64(0)
			} else if sent[p] > first {
				expected = uint64(1)<<(sent[p]-first) - 1
			}
			if missing := expected &^ seen; missing != 0 {
				seq := first + uint64(bits.TrailingZeros64(missing))
				return fmt.Sprintf("LOSS: publisher %d seq %d delivered to no member", p, seq)
			}
			if extra := seen &^ expected; extra != 0 {
				seq := first + uint64(bits.TrailingZeros64(extra))
				return fmt.Sprintf("UNEXPECTED: publisher %d seq %d was never published", p, seq)
			}
		}
	}
	return ""
}

func (res *result) fail(text string) {
	if res.Error == "" {
		res.Error = text
	}
}

func seconds(fromNs, toNs uint64) float64 {
	if toNs < fromNs {
		return 0
	}
	return float64(toNs-fromNs) / 1e9
}

// waitUntil polls done every millisecond until it holds, the deadline passes or the run fails.
func waitUntil(deadlineNs uint64, done func() bool) {
	for !done() && nowNs() < deadlineNs && !errs.failed() {
		time.Sleep(time.Millisecond)
	}
}

// One run of pub, pubsub, fanout or queue: what its publishers sent and its subscribers got.
type coreRun struct {
	c         *config
	subject   string
	queue     bool
	stamped   bool   // payloads of 8 bytes or more say which publisher sent them
	window    uint64 // messages in flight per publisher
	receivers []*receiver
	sent      []atomic.Uint64 // by publisher; read by the others for flow control
}

// subscribe opens the subscribers, each on its own connection, and waits until the server has
// their interest (a PING/PONG), so that no publisher starts before it.
func (k *coreRun) subscribe() error {
	k.receivers = make([]*receiver, k.c.subs)
	for s := range k.receivers {
		nc, err := connect(k.c, fmt.Sprintf("nats.go subscriber %d", s))
		if err != nil {
			return err
		}
		r := newReceiver(k.c.pubs, k.queue)
		k.receivers[s] = r
		var sub *nats.Subscription
		if k.queue {
			sub, err = nc.QueueSubscribe(k.subject, "bench.group", r.deliver)
		} else {
			sub, err = nc.Subscribe(k.subject, r.deliver)
		}
		if err != nil {
			return errors.New("subscribe: " + err.Error())
		}
		// Flow control below keeps what waits bounded; nats.go's own limit would drop instead.
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return errors.New("SetPendingLimits: " + err.Error())
		}
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			return errors.New("subscriber flush failed: " + err.Error())
		}
	}
	return nil
}

// delivered is what the slowest subscriber got (a queue group: what the whole group got).
func (k *coreRun) delivered(of func(r *receiver) uint64) uint64 {
	value := uint64(0)
	for i, r := range k.receivers {
		got := of(r)
		if k.queue {
			value += got
		} else if i == 0 || got < value {
			value = got
		}
	}
	return value
}

// overWindow: publisher p, about to send its message i, has --window messages in flight to the
// slowest subscriber. A payload without a stamp does not say which publisher sent it; then all
// publishers share one window over the totals.
func (k *coreRun) overWindow(p int, i uint64) bool {
	if k.stamped {
		got := k.delivered(func(r *receiver) uint64 { return r.from[p].Load() })
		return got < i && i-got >= k.window
	}
	total := uint64(0)
	for q := range k.sent {
		total += k.sent[q].Load()
	}
	got := k.delivered(func(r *receiver) uint64 { return r.total.Load() })
	return got < total && total-got >= k.window*uint64(len(k.sent))
}

// publish sends publisher p's share of --count until the deadline, then flushes.
func (k *coreRun) publish(nc *nats.Conn, p int, deadlineNs uint64) {
	payload := bytes.Repeat([]byte{'x'}, k.c.sizeBytes)
	count := share(k.c.count, k.c.pubs, p)
	for i := uint64(0); i < count; i++ {
		if k.c.subs > 0 && i%64 == 0 {
			// Yield to the delivery goroutines first; sleep if they take longer.
			for spins := 0; k.overWindow(p, i) && !errs.failed(); spins++ {
				if spins < 64 {
					runtime.Gosched()
				} else {
					time.Sleep(20 * time.Microsecond)
				}
			}
		}
		now := nowNs()
		if now > deadlineNs || errs.failed() {
			break
		}
		writeStamp(payload, uint32(p), i, now)
		// nats.go copies the payload into its buffer, so it may be rewritten at once.
		if err := nc.Publish(k.subject, payload); err != nil {
			errs.add("publish: " + err.Error())
			break
		}
		k.sent[p].Store(i + 1)
	}
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		errs.add("publisher flush failed: " + err.Error())
	}
}

func (k *coreRun) received() uint64 {
	total := uint64(0)
	for _, r := range k.receivers {
		total += r.total.Load()
	}
	return total
}

// verdict checks what arrived once the receivers are stopped; "" when the run passed.
func (k *coreRun) verdict(res *result, sentBy []uint64) string {
	if e := errs.get(); e != "" {
		return e
	}
	if k.queue {
		if verdict := checkExactlyOnce(k.receivers, sentBy); verdict != "" {
			return verdict
		}
	}
	if res.Received != res.Expected {
		kind := "DUPLICATE"
		if res.Received < res.Expected {
			kind = "LOSS"
		}
		return fmt.Sprintf("%s: received %d of %d deliveries", kind, res.Received, res.Expected)
	}
	res.Checks = append(res.Checks, "nats.go client: every publisher flushed (PING/PONG) after its last publish")
	switch {
	case k.c.subs == 0:
	case k.queue:
		res.Checks = append(res.Checks, "exactly-once across the queue group, per-publisher order at each member")
	case !k.stamped:
		res.Checks = append(res.Checks, "every subscriber got as many messages as were published "+
			"(no stamp in payloads under 8 bytes: counts only)")
	default:
		res.Checks = append(res.Checks, "every message of every publisher, in order, at each subscriber")
	}
	return ""
}

// runCore is pub, pubsub, fanout and queue.
func runCore(c *config, res *result) {
	k := &coreRun{
		c:       c,
		subject: "bench." + nuid.Next() + "." + c.scenario,
		queue:   c.scenario == "queue",
		stamped: c.sizeBytes >= stampSeqBytes,
		window:  1,
		sent:    make([]atomic.Uint64, c.pubs),
	}
	if c.window > 1 {
		k.window = uint64(c.window)
	}
	if err := k.subscribe(); err != nil {
		res.fail(err.Error())
		return
	}
	pubConns := make([]*nats.Conn, c.pubs)
	for p := range pubConns {
		nc, err := connect(c, fmt.Sprintf("nats.go publisher %d", p))
		if err != nil {
			res.fail(err.Error())
			return
		}
		pubConns[p] = nc
	}

	startNs := nowNs()
	var wg sync.WaitGroup
	for p := range pubConns {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			k.publish(pubConns[p], p, startNs+uint64(c.duration))
		}(p)
	}
	wg.Wait()
	publishedNs := nowNs()

	sentBy := make([]uint64, c.pubs)
	for p := range k.sent {
		sentBy[p] = k.sent[p].Load()
		res.Sent += sentBy[p]
	}
	switch {
	case c.subs == 0:
		res.Expected = 0
	case k.queue:
		res.Expected = res.Sent
	default:
		res.Expected = res.Sent * uint64(c.subs)
	}
	waitUntil(publishedNs+uint64(c.drainTimeout), func() bool { return k.received() >= res.Expected })
	for _, r := range k.receivers {
		r.stop()
	}
	res.Received = k.received()
	if verdict := k.verdict(res, sentBy); verdict != "" {
		res.fail(verdict)
		return
	}

	lastNs := uint64(0)
	oneWay := newHistogram()
	for _, r := range k.receivers {
		if t := r.lastNs.Load(); t > lastNs {
			lastNs = t
		}
		oneWay.merge(r.oneWay)
	}
	res.Rates = append(res.Rates, rate{"published", res.Sent, seconds(startNs, publishedNs), c.subs == 0})
	if c.subs > 0 {
		res.Rates = append(res.Rates, rate{"delivered", res.Received, seconds(startNs, lastNs), true})
		if !oneWay.empty() {
			res.Latencies = append(res.Latencies,
				latency{"one-way (nats.go, at saturation: mostly queueing)", oneWay.samples()})
		}
	}
	if lastNs < publishedNs {
		lastNs = publishedNs
	}
	res.ElapsedS = seconds(startNs, lastNs)
}

// startResponders opens the responders, a queue group that echoes every request's payload and
// counts it in handled.
func startResponders(c *config, subject string, handled *atomic.Uint64) error {
	for r := 0; r < c.subs; r++ {
		nc, err := connect(c, fmt.Sprintf("nats.go responder %d", r))
		if err != nil {
			return err
		}
		_, err = nc.QueueSubscribe(subject, "bench.responders", func(m *nats.Msg) {
			if m.Reply != "" {
				if err := m.Respond(m.Data); err != nil {
					errs.add("respond: " + err.Error())
				}
			}
			handled.Add(1)
		})
		if err != nil {
			return errors.New("responder subscribe: " + err.Error())
		}
		if err := nc.FlushTimeout(5 * time.Second); err != nil {
			return errors.New("responder flush failed: " + err.Error())
		}
	}
	return nil
}

// runReqrep: requesters with one request outstanding each, answered by a queue group of
// responders that echo the payload.
func runReqrep(c *config, res *result) {
	if c.window != 1 {
		res.Notes = append(res.Notes, "nats.go requesters keep one request outstanding")
	}
	subject := "bench." + nuid.Next() + ".req"
	var handled atomic.Uint64
	if err := startResponders(c, subject, &handled); err != nil {
		res.fail(err.Error())
		return
	}
	requesters := make([]*nats.Conn, c.pubs)
	for k := range requesters {
		nc, err := connect(c, fmt.Sprintf("nats.go requester %d", k))
		if err != nil {
			res.fail(err.Error())
			return
		}
		requesters[k] = nc
	}
	roundTrips := make([]*histogram, c.pubs)
	completed := make([]uint64, c.pubs)
	startNs := nowNs()
	deadlineNs := startNs + uint64(c.duration)
	var wg sync.WaitGroup
	for k := range requesters {
		roundTrips[k] = newHistogram()
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			payload := bytes.Repeat([]byte{'r'}, c.sizeBytes)
			count := share(c.count, c.pubs, k)
			for i := uint64(0); i < count && nowNs() < deadlineNs && !errs.failed(); i++ {
				sentNs := nowNs()
				// The stamp makes each request's payload its own, so a reply to another request
				// (or from another run) does not pass for this one.
				writeStamp(payload, uint32(k), i, sentNs)
				reply, err := requesters[k].Request(subject, payload, 5*time.Second)
				if err != nil {
					errs.add("request: " + err.Error())
					return
				}
				if !bytes.Equal(reply.Data, payload) {
					errs.add("a reply with another payload")
					return
				}
				roundTrips[k].record(nowNs() - sentNs)
				completed[k] = i + 1
			}
		}(k)
	}
	wg.Wait()
	endNs := nowNs()
	for _, n := range completed {
		res.Sent += n
	}
	res.Received = res.Sent
	res.Expected = res.Sent
	// A responder counts a request after its reply is written, so the reply can be first.
	waitUntil(endNs+uint64(time.Second), func() bool { return handled.Load() >= res.Sent })
	if e := errs.get(); e != "" {
		res.fail(e)
		return
	}
	if n := handled.Load(); n != res.Sent {
		res.fail(fmt.Sprintf("LOSS or DUPLICATE: %d requests answered, %d handled", res.Sent, n))
		return
	}
	res.Checks = append(res.Checks, "nats.go client: every request answered exactly once, with its own payload")
	res.Rates = append(res.Rates, rate{"requests", res.Received, seconds(startNs, endNs), true})
	roundTrip := newHistogram()
	for _, h := range roundTrips {
		roundTrip.merge(h)
	}
	res.Latencies = append(res.Latencies,
		latency{"round trip (nats.go nc.Request, one outstanding per requester)", roundTrip.samples()})
	res.ElapsedS = seconds(startNs, endNs)
}

// One js-pub publisher's outcome. Written by its goroutines, read after they end.
type jsPublisher struct {
	sent      uint64
	acked     uint64
	lastAckNs uint64
	roundTrip *histogram
}

// ack counts one PubAck that arrived at nowNs for a message sent at sentNs.
func (p *jsPublisher) ack(pa *nats.PubAck, sentNs, now uint64) bool {
	if pa.Duplicate {
		errs.add("PubAck marked duplicate (the harness never repeats a message)")
		return false
	}
	p.roundTrip.record(now - sentNs)
	p.lastAckNs = now
	p.acked++
	return true
}

// publishSync: js.Publish, one PubAck outstanding.
func publishSync(c *config, js nats.JetStreamContext, subject func(i uint64) string, id int,
	p *jsPublisher, deadlineNs uint64) {
	payload := bytes.Repeat([]byte{'x'}, c.sizeBytes)
	count := share(c.count, c.pubs, id)
	for i := uint64(0); i < count && !errs.failed(); i++ {
		sentNs := nowNs()
		if sentNs > deadlineNs {
			return
		}
		writeStamp(payload, uint32(id), i, sentNs)
		pa, err := js.Publish(subject(i), payload)
		if err != nil {
			errs.add("js.Publish: " + err.Error())
			return
		}
		p.sent = i + 1
		if !p.ack(pa, sentNs, nowNs()) {
			return
		}
	}
}

type pendingAck struct {
	future nats.PubAckFuture
	sentNs uint64
}

// publishAsync: js.PublishAsync with at most --window PubAcks outstanding. Before each publish
// the publisher takes the PubAcks that have come, oldest first, and times each then: late by at
// most one publish, or, when the window is full, by the wake-up from nats.go's stall. At the end
// it waits for the rest in order, as long as the drain timeout.
func publishAsync(c *config, js nats.JetStreamContext, subject func(i uint64) string, id int,
	p *jsPublisher, deadlineNs uint64) {
	var pending []pendingAck // oldest first from head
	head := 0
	// collect takes the resolved futures at the head; with a wait channel it waits for each
	// until all are taken or the channel fires. False when the run failed.
	collect := func(wait <-chan time.Time) bool {
		for head < len(pending) {
			f := pending[head]
			var pa *nats.PubAck
			var err error
			if wait == nil {
				select {
				case pa = <-f.future.Ok():
				case err = <-f.future.Err():
				default:
					return true
				}
			} else {
				select {
				case pa = <-f.future.Ok():
				case err = <-f.future.Err():
				case <-wait:
					errs.add("LOSS: PubAcks never came (waited the drain timeout)")
					return false
				}
			}
			pending[head] = pendingAck{}
			head++
			if err != nil {
				errs.add("PubAck error: " + err.Error())
				return false
			}
			if !p.ack(pa, f.sentNs, nowNs()) {
				return false
			}
		}
		// Everything taken: reuse the slice from its start.
		pending, head = pending[:0], 0
		return true
	}
	payload := bytes.Repeat([]byte{'x'}, c.sizeBytes)
	count := share(c.count, c.pubs, id)
	for i := uint64(0); i < count && !errs.failed(); i++ {
		if !collect(nil) {
			return
		}
		if head > 0 && head >= len(pending)/2 {
			pending, head = append(pending[:0], pending[head:]...), 0
		}
		sentNs := nowNs()
		if sentNs > deadlineNs {
			break
		}
		writeStamp(payload, uint32(id), i, sentNs)
		// At the window the call waits for a PubAck, as long as the drain timeout.
		future, err := js.PublishAsync(subject(i), payload, nats.StallWait(c.drainTimeout))
		if err != nil {
			errs.add("js.PublishAsync: " + err.Error())
			return
		}
		p.sent = i + 1
		pending = append(pending, pendingAck{future, sentNs})
	}
	timeout := time.NewTimer(c.drainTimeout)
	defer timeout.Stop()
	if collect(timeout.C) {
		select {
		case <-js.PublishAsyncComplete():
		case <-timeout.C:
			errs.add("LOSS: PubAcks never came (waited the drain timeout)")
		}
	}
}

func storageType(c *config) nats.StorageType {
	if c.storage == "memory" {
		return nats.MemoryStorage
	}
	return nats.FileStorage
}

// createStream creates the stream ringtail-bench's own js-pub creates (scenarios_js.cc), over
// one subject, and returns the JetStream context that is to delete it.
func createStream(c *config, stream, subject string) (nats.JetStreamContext, error) {
	admin, err := connect(c, "nats.go admin")
	if err != nil {
		return nil, err
	}
	js, err := admin.JetStream()
	if err != nil {
		return nil, errors.New("JetStream: " + err.Error())
	}
	_, err = js.AddStream(&nats.StreamConfig{
		Name:       stream,
		Subjects:   []string{subject},
		Retention:  nats.LimitsPolicy,
		Storage:    storageType(c),
		Replicas:   1,
		MaxMsgs:    -1,
		MaxBytes:   -1,
		MaxMsgSize: -1,
		Discard:    nats.DiscardOld,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return nil, errors.New("js.AddStream: " + err.Error())
	}
	return js, nil
}

// publisherContext opens js-pub publisher id's connection and JetStream context.
func publisherContext(c *config, id int) (nats.JetStreamContext, error) {
	nc, err := connect(c, fmt.Sprintf("nats.go js publisher %d", id))
	if err != nil {
		return nil, err
	}
	// nats.go counts the message being published among the pending ones, so a limit of
	// window + 1 lets exactly --window PubAcks be outstanding.
	js, err := nc.JetStream(nats.MaxWait(c.drainTimeout),
		nats.PublishAsyncMaxPending(int(c.window)+1),
		nats.PublishAsyncErrHandler(func(_ nats.JetStream, _ *nats.Msg, err error) {
			errs.add("PubAck error: " + err.Error())
		}))
	if err != nil {
		return nil, errors.New("JetStream: " + err.Error())
	}
	return js, nil
}

// publishAll runs the publishers, each with its own context, synchronously or with --window
// PubAcks outstanding, until --count or --duration; returns when the last PubAck came and the
// round trips of all.
func publishAll(c *config, contexts []nats.JetStreamContext, subject func(id int, i uint64) string,
	publishers []*jsPublisher, startNs uint64) (uint64, *histogram) {
	deadlineNs := startNs + uint64(c.duration)
	var wg sync.WaitGroup
	for id := range publishers {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			subjectOf := func(i uint64) string { return subject(id, i) }
			if c.sync || c.window == 1 {
				publishSync(c, contexts[id], subjectOf, id, publishers[id], deadlineNs)
			} else {
				publishAsync(c, contexts[id], subjectOf, id, publishers[id], deadlineNs)
			}
		}(id)
	}
	wg.Wait()
	lastAckNs := startNs
	roundTrip := newHistogram()
	for _, p := range publishers {
		if p.lastAckNs > lastAckNs {
			lastAckNs = p.lastAckNs
		}
		roundTrip.merge(p.roundTrip)
	}
	return lastAckNs, roundTrip
}

// runJsPub: JetStream publishers into a fresh file (or memory) stream, deleted afterwards.
func runJsPub(c *config, res *result) {
	token := nuid.Next()
	stream := "BENCH_" + token
	subject := "bench." + token + ".js"
	adminJs, err := createStream(c, stream, subject)
	if err != nil {
		res.fail(err.Error())
		return
	}
	defer adminJs.DeleteStream(stream) // whatever happened; a failure here changes nothing
	publishers, contexts, err := publisherContexts(c)
	if err != nil {
		res.fail(err.Error())
		return
	}
	startNs := nowNs()
	lastAckNs, roundTrip := publishAll(c, contexts, func(int, uint64) string { return subject }, publishers,
		startNs)
	for _, p := range publishers {
		res.Sent += p.sent
		res.Received += p.acked
	}
	res.Expected = res.Sent
	if e := errs.get(); e != "" {
		res.fail(e)
		return
	}
	if res.Received != res.Sent {
		res.fail(fmt.Sprintf("LOSS: %d published, %d PubAcks", res.Sent, res.Received))
		return
	}
	info, err := adminJs.StreamInfo(stream)
	if err != nil {
		res.fail("js.StreamInfo: " + err.Error())
		return
	}
	if info.State.Msgs != res.Received || info.State.LastSeq != res.Received {
		res.fail(fmt.Sprintf("stream holds %d messages (last seq %d) but %d PubAcks came back",
			info.State.Msgs, info.State.LastSeq, res.Received))
		return
	}
	res.Checks = append(res.Checks, "one PubAck per message, no errors, no duplicates",
		"the stream holds exactly the acked messages")
	res.Rates = append(res.Rates, rate{"acked", res.Received, seconds(startNs, lastAckNs), true})
	res.Latencies = append(res.Latencies, latency{"PubAck round trip (" + publishHow(c) + ")", roundTrip.samples()})
	res.ElapsedS = seconds(startNs, lastAckNs)
}

func publishHow(c *config) string {
	if c.sync || c.window == 1 {
		return "nats.go js.Publish, synchronous"
	}
	return fmt.Sprintf("nats.go js.PublishAsync, %d outstanding", c.window)
}

// publisherContexts opens the publishers' connections, each with its JetStream context.
func publisherContexts(c *config) ([]*jsPublisher, []nats.JetStreamContext, error) {
	publishers := make([]*jsPublisher, c.pubs)
	contexts := make([]nats.JetStreamContext, c.pubs)
	for id := range publishers {
		js, err := publisherContext(c, id)
		if err != nil {
			return nil, nil, err
		}
		publishers[id] = &jsPublisher{roundTrip: newHistogram()}
		contexts[id] = js
	}
	return publishers, contexts, nil
}

// runKv: a KV bucket made by nats.go's CreateKeyValue with -history, deleted afterwards.
// Publisher id puts to its -keys keys in turn ("k<id>_<n>"), with js.Publish or js.PublishAsync
// on the key's subject (what kv.Put sends); then it gets as many values with kv.Get (a direct
// get: nats.go's buckets allow them), one at a time, each checked to be the last one put.
func runKv(c *config, res *result) {
	bucket := "bench_" + nuid.Next()
	admin, err := connect(c, "nats.go admin")
	if err != nil {
		res.fail(err.Error())
		return
	}
	adminJs, err := admin.JetStream()
	if err != nil {
		res.fail("JetStream: " + err.Error())
		return
	}
	_, err = adminJs.CreateKeyValue(&nats.KeyValueConfig{Bucket: bucket, History: uint8(c.history), Storage: storageType(c)})
	if err != nil {
		res.fail("js.CreateKeyValue: " + err.Error())
		return
	}
	defer adminJs.DeleteKeyValue(bucket) // whatever happened; a failure here changes nothing
	publishers, contexts, err := publisherContexts(c)
	if err != nil {
		res.fail(err.Error())
		return
	}
	keyOf := func(id int, n uint64) string { return fmt.Sprintf("k%d_%d", id, n) }
	startNs := nowNs()
	lastAckNs, putTrip := publishAll(c, contexts, func(id int, i uint64) string {
		return "$KV." + bucket + "." + keyOf(id, i%c.keys)
	}, publishers, startNs)
	var acked uint64
	for _, p := range publishers {
		res.Sent += p.sent
		acked += p.acked
	}
	res.Expected, res.Received = res.Sent, acked
	if e := errs.get(); e != "" {
		res.fail("put: " + e)
		return
	}
	if acked != res.Sent {
		res.fail(fmt.Sprintf("LOSS: %d put, %d PubAcks", res.Sent, acked))
		return
	}

	getStartNs := nowNs()
	deadlineNs := getStartNs + uint64(c.duration)
	getTrips := make([]*histogram, c.pubs)
	gets := make([]uint64, c.pubs)
	lastGetNs := make([]uint64, c.pubs)
	var wg sync.WaitGroup
	for id := range publishers {
		getTrips[id] = newHistogram()
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			kv, err := contexts[id].KeyValue(bucket)
			if err != nil {
				errs.add("js.KeyValue: " + err.Error())
				return
			}
			put := publishers[id].sent
			if put == 0 {
				errs.add("put: no value was stored")
				return
			}
			keys := c.keys
			if put < keys {
				keys = put
			}
			count := share(c.count, c.pubs, id)
			for j := uint64(0); j < count && !errs.failed(); j++ {
				sentNs := nowNs()
				if sentNs > deadlineNs {
					return
				}
				n := j % keys
				last := n + (put-1-n)/c.keys*c.keys // the last put to key n
				entry, err := kv.Get(keyOf(id, n))
				if err != nil {
					errs.add("kv.Get: " + err.Error())
					return
				}
				if got := readStamp(entry.Value()); !got.hasSeq || got.publisher != uint32(id) || got.seq != last {
					errs.add(fmt.Sprintf("kv.Get of %s: value %d of publisher %d, not the last put (%d)",
						keyOf(id, n), got.seq, got.publisher, last))
					return
				}
				now := nowNs()
				getTrips[id].record(now - sentNs)
				gets[id]++
				lastGetNs[id] = now
			}
		}(id)
	}
	wg.Wait()
	getTrip := newHistogram()
	var got uint64
	lastNs := getStartNs
	for id := range publishers {
		got += gets[id]
		getTrip.merge(getTrips[id])
		if lastGetNs[id] > lastNs {
			lastNs = lastGetNs[id]
		}
	}
	res.Expected += got
	res.Received += got
	if e := errs.get(); e != "" {
		res.fail("get: " + e)
		return
	}
	res.Checks = append(res.Checks, "one PubAck per put, no errors",
		"every get returned the last value put for its key")
	res.Rates = append(res.Rates, rate{"put", acked, seconds(startNs, lastAckNs), true},
		rate{"get", got, seconds(getStartNs, lastNs), true})
	res.Latencies = append(res.Latencies,
		latency{"put, PubAck round trip (" + publishHow(c) + " on the key's subject)", putTrip.samples()},
		latency{"get, kv.Get round trip (one at a time)", getTrip.samples()})
	res.ElapsedS = seconds(startNs, lastNs)
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	set := flag.NewFlagSet("ringtail-bench-natsgo", flag.ContinueOnError)
	set.StringVar(&c.url, "url", "nats://127.0.0.1:4222", "server URL")
	set.StringVar(&c.scenario, "scenario", "", "pub, pubsub, fanout, queue, reqrep or js-pub")
	set.IntVar(&c.pubs, "pubs", 1, "publishers / requesters")
	set.IntVar(&c.subs, "subs", 1, "subscribers / responders (queue: group members)")
	set.IntVar(&c.sizeBytes, "size", 128, "payload bytes")
	set.Uint64Var(&c.count, "count", 1000000, "messages (requests) in total, across publishers")
	duration := set.Float64("duration", 10, "seconds: publishing stops at -count or -duration")
	set.Int64Var(&c.window, "window", 1, "messages in flight per publisher (reqrep: ignored, "+
		"one outstanding; js-pub: PubAcks outstanding)")
	drain := set.Float64("drain-timeout", 10, "seconds deliveries (PubAcks) may take after publishing")
	set.BoolVar(&c.sync, "sync", false, "js-pub: one PubAck outstanding (js.Publish)")
	set.StringVar(&c.storage, "storage", "file", "js-pub, kv: stream storage, file or memory")
	set.Uint64Var(&c.keys, "keys", 1000, "kv: distinct keys per publisher")
	set.IntVar(&c.history, "history", 1, "kv: values kept per key, the bucket's history")
	if err := set.Parse(args); err != nil {
		return nil, err
	}
	if set.NArg() != 0 {
		return nil, fmt.Errorf("unexpected argument %q", set.Arg(0))
	}
	c.duration = time.Duration(*duration * 1e9)
	c.drainTimeout = time.Duration(*drain * 1e9)
	switch c.scenario {
	case "pub", "pubsub", "fanout", "queue", "reqrep", "js-pub", "kv":
	default:
		return nil, fmt.Errorf("-scenario is pub, pubsub, fanout, queue, reqrep, js-pub or kv, not %q", c.scenario)
	}
	switch {
	case c.pubs < 1 || c.pubs >= 1<<16:
		return nil, errors.New("-pubs is 1 to 65535")
	case c.subs < 0:
		return nil, errors.New("-subs must be >= 0")
	case c.subs == 0 && c.scenario != "pub" && c.scenario != "js-pub" && c.scenario != "kv":
		return nil, fmt.Errorf("%s needs -subs >= 1", c.scenario)
	case c.sizeBytes < 0 || c.sizeBytes > 64<<20:
		return nil, errors.New("-size is 0 to 64 MiB")
	case c.sizeBytes < stampSeqBytes && (c.scenario == "queue" || c.scenario == "reqrep" || c.scenario == "js-pub" ||
		c.scenario == "kv"):
		// The stamp is how they check exactly-once delivery.
		return nil, fmt.Errorf("%s needs -size >= %d", c.scenario, stampSeqBytes)
	case c.count == 0:
		return nil, errors.New("-count must be > 0")
	case c.duration <= 0:
		return nil, errors.New("-duration must be > 0")
	case c.drainTimeout <= 0:
		return nil, errors.New("-drain-timeout must be > 0")
	case c.window < 0 || ((c.scenario == "js-pub" || c.scenario == "kv") && c.window < 1):
		return nil, errors.New("-window must be >= 0 (js-pub, kv: >= 1)")
	case c.keys < 1:
		return nil, errors.New("-keys must be >= 1")
	case c.history < 1 || c.history > 64:
		return nil, errors.New("-history is 1 to 64, as for a KV bucket")
	case c.storage != "file" && c.storage != "memory":
		return nil, errors.New("-storage is file or memory")
	}
	if c.sync {
		c.window = 1
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "ringtail-bench-natsgo:", err)
		}
		os.Exit(2)
	}
	res := &result{Checks: []string{}, Notes: []string{}, Rates: []rate{}, Latencies: []latency{}}
	switch c.scenario {
	case "reqrep":
		runReqrep(c, res)
	case "js-pub":
		runJsPub(c, res)
	case "kv":
		runKv(c, res)
	default:
		runCore(c, res)
	}
	if res.Error != "" {
		// A failed run's figures would be read as a result; ringtail-bench shows the counts.
		res.Rates, res.Latencies = []rate{}, []latency{}
	}
	closing.Store(true)
	for _, nc := range conns {
		nc.Close()
	}
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false) // subjects and errors say "->" and ">", not "\u003e"
	if err := out.Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "ringtail-bench-natsgo: writing the result:", err)
		os.Exit(1)
	}
}
