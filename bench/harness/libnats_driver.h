#pragma once

#include <functional>
#include <string>

#include "bench/harness/js_consume.h"
#include "bench/harness/js_endpoints.h"
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

// What a js-consume or js-push run set up (the stream, prefilled unless --live) for the
// consume phase with libnats.
struct LibnatsConsumeSetup {
    std::string stream;
    std::string durable;
    std::string subject;  // the stream's subjects are subject.>; --live publisher p: subject.p
    // Checks that the server applied every ack; called after the acks are flushed, while the
    // subscriptions (which may own the consumer) still exist.
    std::function<Status()> settle;
};

// The consume phase of js-consume and js-push with libnats, as a user's program does it:
// js_PullSubscribe and natsSubscription_Fetch(--batch), or js_Subscribe with manual acks,
// flow control and heartbeats (which libnats answers itself); natsMsg_Ack for every message;
// with --live, js_PublishAsync with --window PubAcks outstanding. One connection per consumer
// and publisher. The same checks as the harness's own consumers. `board.stored` is set, or
// with --live its publishers_running.
[[nodiscard]] Status consume_libnats(const Options& options, const LibnatsConsumeSetup& setup,
                                     ConsumeBoard& board, ConsumeOutcome& out);

}  // namespace ringtail::bench
