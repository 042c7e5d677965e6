#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "proto/js/stream_config.h"
#include "store/stream_log.h"

namespace ringtail::core::js {

// What the server knows of one stream, outside its owner.
struct StreamEntry {
    proto::js::StreamConfig config;
    uint32_t owner = 0;       // the shard that holds the stream
    int64_t created_ns = 0;   // wall clock
    bool ready = false;       // the owner has opened it
    // The state as the owner last published it (at the end of a turn that changed it), for
    // STREAM.LIST and $JS.API.INFO. STREAM.INFO asks the owner instead.
    store::StoreState state;
    int64_t first_ts_ns = 0;
    int64_t last_ts_ns = 0;
};

// The account's streams: names, configs, placement and a recent state.
// Owner: the Server; shared by the shards under `mutex`. Only the control plane takes the lock
// (API requests, stream creation and removal, once per turn for a stream whose state changed),
// never the publish path.
// Shard 0 decides what enters it (STREAM.CREATE, UPDATE: validation and the subject-overlap
// check happen under the lock, so two creates cannot both win); the owner removes a stream
// once it has deleted it, or failed to create it.
class Catalogue {
public:
    std::mutex mutex;
    std::map<std::string, StreamEntry> streams;  // by name, the order NAMES and LIST use

    // Bytes held by all streams, per storage, as their owners last published them: the
    // server-wide max_memory_store / max_file_store limits are checked against these.
    std::atomic<int64_t> memory_used{0};
    std::atomic<int64_t> storage_used{0};

    // $JS.API.INFO's api counters.
    std::atomic<uint64_t> api_total{0};
    std::atomic<uint64_t> api_errors{0};
};

// Where streams live on disk: <store_dir>/jetstream/$G/streams/<name>/ holds meta.json (the
// config, creation time and owning shard) and msgs/ (the StreamLog).
std::string streams_dir(const std::string& store_dir);

// The shard a new stream goes to: a hash of its name, so the same name always lands on the
// same shard (a delete and a re-create travel one FIFO ring).
uint32_t placement(std::string_view name, uint32_t shard_count);

// Loads every stream's metadata from `store_dir` into `catalogue` (not ready; each owner opens
// its own). Returns an error message for a metadata file that cannot be read.
std::string load_catalogue(const std::string& store_dir, uint32_t shard_count, Catalogue& catalogue);

// Writes a stream's meta.json atomically and durably (temp file, fsync, rename, fsync dir).
std::string write_meta(const std::string& dir, const proto::js::StreamConfig& config, int64_t created_ns,
                       uint32_t shard);

}  // namespace ringtail::core::js
