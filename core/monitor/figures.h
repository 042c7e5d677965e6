#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace ringtail::core::monitor {

// What the monitoring endpoints read from the shards: plain copies, made on each shard's own
// thread when asked (Server::gather) and read by the HTTP thread afterwards. Times are wall
// clock, in nanoseconds since the epoch.

// Messages and bytes a connection (or a shard's connections) took in and sent out, counted
// as nats-server counts them: a PUB is one message in, a delivery one out, bytes are the
// headers and payload.
struct Traffic {
    uint64_t in_msgs = 0;
    uint64_t in_bytes = 0;
    uint64_t out_msgs = 0;
    uint64_t out_bytes = 0;
    Traffic& operator+=(const Traffic& other) {
        in_msgs += other.in_msgs;
        in_bytes += other.in_bytes;
        out_msgs += other.out_msgs;
        out_bytes += other.out_bytes;
        return *this;
    }
};

struct SubFigures {
    std::string subject;
    std::string queue;
    std::string sid;
    int64_t msgs = 0;
    int64_t max = 0;
    uint64_t cid = 0;
    std::string account;
};

// One client connection, open or closed.
struct ConnFigures {
    uint64_t cid = 0;
    std::string ip;
    int port = 0;
    int64_t start_ns = 0;
    int64_t last_activity_ns = 0;
    int64_t stop_ns = 0;  // 0: open
    std::string reason;   // why it closed
    int64_t rtt_ns = 0;   // measured by the server's last PING; 0: not yet
    uint64_t pending_bytes = 0;
    Traffic traffic;
    uint32_t subscriptions = 0;
    std::string name;
    std::string lang;
    std::string version;
    std::string user;
    std::string account;  // "$G", or a configured account's name
    std::vector<SubFigures> subs;  // only when asked for
};

// One stream as /jsz shows it, and its figures for /metrics.
struct StreamFigures {
    std::string account;
    std::string name;
    uint64_t messages = 0;
    uint64_t bytes = 0;
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    uint64_t consumer_count = 0;
    nlohmann::json detail;  // the stream_detail object (only when asked for)
    struct Consumer {
        std::string name;
        uint64_t num_pending = 0;
        uint64_t num_ack_pending = 0;
        uint64_t num_redelivered = 0;
        uint64_t num_waiting = 0;
        uint64_t delivered_stream_seq = 0;
        uint64_t ack_floor_stream_seq = 0;
    };
    std::vector<Consumer> consumers;  // only when asked for
};

// What to copy besides the counters.
struct Query {
    bool connections = false;         // open connections
    bool closed_connections = false;  // the ring of recently closed ones
    bool connection_subs = false;     // each connection's subscriptions
    uint64_t cid = 0;                 // only this connection (0: all)
    bool subscriptions = false;       // every client subscription (subsz)
    bool streams = false;             // each stream's consumers
    bool stream_details = false;      // with the stream_detail JSON
    bool consumer_details = false;    // stream_detail gets consumer_detail
    bool stream_configs = false;      // stream_detail gets config
};

// One account's sublist on one shard (nats-server's SublistStats before they are summed).
struct SublistFigures {
    uint64_t matches = 0;
    uint64_t cache_hits = 0;
    uint64_t cached = 0;        // results in the match cache now
    uint64_t fanout_total = 0;  // of those: subscribers plus queue groups
    uint64_t fanout_max = 0;

    SublistFigures& operator+=(const SublistFigures& other) {
        matches += other.matches;
        cache_hits += other.cache_hits;
        cached += other.cached;
        fanout_total += other.fanout_total;
        fanout_max = fanout_max > other.fanout_max ? fanout_max : other.fanout_max;
        return *this;
    }
};

// What one account's closed connections did on one shard: its statistics outlive them.
struct ClosedAccountFigures {
    Traffic traffic;
    uint64_t slow_consumers = 0;
};

// One shard at the moment it was asked.
struct ShardFigures {
    uint32_t shard = 0;
    bool answered = false;  // false: the shard did not answer in time
    // Connections.
    uint64_t connections = 0;        // open now
    uint64_t total_connections = 0;  // accepted since start
    uint64_t slow_consumers = 0;
    uint64_t connections_moved_in = 0;  // handed over by other shards (ClientConn: "Moving")
    uint64_t subscriptions = 0;  // client subscriptions now (open connections')
    Traffic traffic;             // every connection's, closed ones included
    std::map<std::string, ClosedAccountFigures> closed_accounts;  // by account name
    uint64_t sub_inserts = 0;    // subscriptions made since start (clients' and the server's own)
    uint64_t sub_removes = 0;    // and removed
    std::vector<SublistFigures> sublists;  // by account id
    std::vector<ConnFigures> open;
    std::vector<ConnFigures> closed;
    std::vector<SubFigures> subs;
    // The loop and the rings.
    uint64_t loop_turns = 0;
    uint64_t completions = 0;
    uint64_t ring_full_waits = 0;          // a message waited for room in a ring to another shard
    std::vector<uint64_t> ring_bytes_out;  // by peer: bytes waiting in the ring to it
    uint64_t ring_capacity_bytes = 0;
    // JetStream (with -js).
    std::vector<StreamFigures> streams;
    // Durable writes of file streams: counts per latency bucket (upper bounds in us; the last
    // bucket is unbounded), how many, and their total time.
    std::vector<uint64_t> write_bounds_us;
    std::vector<uint64_t> write_buckets;
    uint64_t writes = 0;
    uint64_t write_ns = 0;
};

}  // namespace ringtail::core::monitor
