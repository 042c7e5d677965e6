#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/js/stream_config.h"
#include "store/stream_log.h"

namespace ringtail::core::js {

// What the account knows of one stream, outside its owner.
struct StreamEntry {
    proto::js::StreamConfig config;
    uint32_t owner = 0;      // the shard that holds the stream
    int64_t created_ns = 0;  // wall clock
    bool ready = false;      // the owner has opened it
    // Why the stream cannot be served (its metadata or log is damaged), empty when it can. Its
    // files are kept untouched and its name stays taken; requests get "stream is offline".
    std::string unavailable;
    // The state as the owner last reported it (at the end of a turn that changed it), for
    // STREAM.LIST and $JS.API.INFO. STREAM.INFO asks the owner instead.
    store::StoreState state;
    std::string first_ts = "0001-01-01T00:00:00Z";  // as STREAM.INFO shows it (Go's zero time: none)
    int64_t last_ts_ns = 0;
    uint64_t consumers = 0;         // all, as the account's count has them
    uint64_t public_consumers = 0;  // without the direct ones (Stream::public_consumer_count)
    // A mirror's or sources' info as the owner last reported it (each tick): STREAM.INFO's
    // "mirror" or "sources", each "active" given as the wall clock it was last heard at
    // ("heard_ns", 0: never). Empty for a stream that has neither.
    std::string origins;
};

// The account's streams: names, configs, placement and a recent state.
// Owner: shard 0's JetStream; no other shard touches it. Shard 0 decides what enters it
// (STREAM.CREATE and UPDATE: validation and the subject-overlap check), and owners report to
// it by message (core/js/jetstream.h) when a stream opened, failed to, or changed.
struct Catalogue {
    std::map<std::string, StreamEntry> streams;  // by name, the order NAMES and LIST use
    // Deletes forwarded to a stream's owner: until the owner has reported every one of a
    // name's done, a create of that name goes to that owner, so the deletes and the create
    // travel one FIFO ring and the new stream never meets an old one's files (a delete, a
    // create and a delete again in a row leave two reports to wait for).
    void delete_started(const std::string& name, uint32_t owner);
    void delete_done(const std::string& name);
    struct Deleting {
        uint32_t owner = 0;
        uint32_t pending = 0;  // deletes not yet reported done
    };
    std::map<std::string, Deleting> deleting;

    // The shard a new stream called `name` goes to when a client on `client_shard` creates
    // it: that shard, so the client's publishes and their acks (a KV put, a synchronous
    // publish) need not cross to another shard and back, unless it already owns two streams
    // more than another shard; then one of those with fewest, by a hash of the name. Streams
    // count server-wide: this account's from the catalogue, the other accounts' from
    // `elsewhere` (per shard; empty: none).
    uint32_t owner_for(const std::string& name, uint32_t shard_count, uint32_t client_shard,
                       const std::vector<int64_t>& elsewhere = {}) const;
};

// JetStream's figures per shard: written only by their shard, read by any (relaxed loads).
struct alignas(64) ShardCounters {
    std::atomic<int64_t> memory_bytes{0};  // bytes held by the shard's memory streams
    std::atomic<int64_t> file_bytes{0};    // and by its file streams
    std::atomic<uint64_t> api_total{0};    // $JS.API answers sent (counted as nats-server does)
    std::atomic<uint64_t> api_errors{0};
    std::atomic<int64_t> streams{0};       // streams open on the shard (stream placement)
};

class Counters {
public:
    explicit Counters(uint32_t shards) : shards_(shards) {}
    ShardCounters& shard(uint32_t index) { return shards_[index]; }
    int64_t memory_bytes() const;
    int64_t file_bytes() const;
    uint64_t api_total() const;
    uint64_t api_errors() const;
    // The streams each shard holds open.
    std::vector<int64_t> streams_per_shard() const;
    // What the account's streams reserve with their max_bytes, by storage: written by the
    // account's catalogue (shard 0), read for the server-wide limits and the monitor.
    std::atomic<int64_t> reserved_memory{0};
    std::atomic<int64_t> reserved_store{0};

private:
    std::vector<ShardCounters> shards_;
};

// A stream found on disk at start, for its owner to open.
struct RestoredStream {
    proto::js::StreamConfig config;
    int64_t created_ns = 0;
};

// Where an account's streams live on disk, as nats-server lays them out:
// <store_dir>/jetstream/<account>/streams/<name>/ holds meta.json (the config, creation time
// and owning shard) and msgs/ (the StreamLog). The global account's is "$G".
std::string streams_dir(const std::string& store_dir, std::string_view account);
// A deleted stream's directory is renamed with this suffix before it is removed; the catalogue
// removes what a crash left of one (no stream name has a dot).
inline constexpr std::string_view kDeletedSuffix = ".deleted";

// A shard picked by a hash of a stream's name.
uint32_t placement(std::string_view name, uint32_t shard_count);

// Loads the metadata of every stream `account` has in `store_dir` into `catalogue`, ready
// (each owner opens its own before the server serves).
[[nodiscard]] Result<void, Error> load_catalogue(const std::string& store_dir, std::string_view account,
                                                 uint32_t shard_count, Catalogue& catalogue);

// Writes a stream's meta.json atomically and durably (temp file, fsync, rename, fsync dir).
[[nodiscard]] Result<void, Error> write_meta(const std::string& dir, const proto::js::StreamConfig& config,
                                             int64_t created_ns, uint32_t shard);

}  // namespace ringtail::core::js
