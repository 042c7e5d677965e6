#pragma once

#include "bench/harness/result.h"

namespace ringtail::bench {

// pub, pubsub, fanout, queue, reqrep and js-pub driven by the official Go client, nats.go,
// which most users' programs run. The Go side is a program of its own, ringtail-bench-natsgo
// (bench/natsgo/), found at --natsgo or beside this executable: it runs the scenario with one
// connection per publisher and subscriber, nats.go's own goroutines and buffering, and prints
// one JSON object, which this reads into `result`.
//
// The runs and checks are the libnats driver's (libnats_driver.h): delivery counts,
// per-publisher order at each subscriber, exactly-once across a queue group, every request
// answered, publishers at most --window messages ahead of the slowest subscriber; js-pub is
// the harness's own (a PubAck for every message, the stream holds exactly what was acked).
// Publishing stops at --count or --duration; a driver that is still running --drain-timeout
// and 30 s after that is killed and the run fails. With --cpus the driver is pinned to them.
void run_natsgo(const Options& options, RunResult& result);

}  // namespace ringtail::bench
