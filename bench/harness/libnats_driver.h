#pragma once

#include "bench/harness/result.h"

namespace ringtail::bench {

// The core scenarios (pub, pubsub, fanout, queue, reqrep) driven by the official C client,
// libnats, as users' programs drive a server: one connection per publisher and subscriber,
// libnats's own threads and buffering, natsConnection_Publish, async subscriptions and
// natsConnection_Request. ringtail-bench's own client (--client ringtail-bench, the default)
// is faster and shows the server's ceiling; this shows what a libnats user gets.
//
// The same checks as the harness's own scenarios where the client allows: delivery counts,
// per-publisher order at each subscriber, exactly-once across a queue group, every request
// answered. Publishers keep at most --window messages in flight to the slowest subscriber,
// so no subscriber is cut off as a slow consumer.
void run_libnats(const Options& options, RunResult& result);

}  // namespace ringtail::bench
