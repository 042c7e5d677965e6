#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_fifo.h"
#include "core/conn/client_conn.h"
#include "core/js/catalogue.h"
#include "proto/js/api.h"
#include "core/shard/records.h"
#include "io/direct_disk.h"
#include "store/memory_disk.h"

namespace ringtail::core {
class Shard;
}

namespace ringtail::core::js {

class Stream;

// One shard's JetStream: the streams it owns, their disks, and what they send.
// Owner: the shard's thread; created when the shard starts (with -js), destroyed when it stops
// (closing the streams waits for their writes in flight).
//
// Requests: shard 0 holds the only subscription on $JS.API.>. It answers what concerns the
// account (INFO, STREAM.NAMES, LIST) from the catalogue, decides CREATE and UPDATE there, and
// forwards whatever concerns one stream to the stream's owner (Shard::forward_js), which
// answers the requester itself.
// Publishes: each stream subscribes its subjects on its owner's shard, so a publish from any
// connection is routed there like any message.
// Sending: nothing is published from inside a delivery. Replies queue in an outbox that
// run_turn() publishes at the end of every turn, acks once the write covering them completed.
class JetStream final : public InternalHandler {
public:
    explicit JetStream(Shard& shard);
    ~JetStream();
    JetStream(const JetStream&) = delete;
    JetStream& operator=(const JetStream&) = delete;

    // Sets up the disks and opens the streams the catalogue places on this shard. Returns an
    // error message, empty on success.
    std::string start();
    // Readable when the file disk has completions to run.
    int event_fd() const { return file_disk_.event_fd(); }
    // Once per loop turn, before sends: runs disk completions, retries waiting appends, submits
    // the writes of everything appended this turn, publishes the outbox.
    void run_turn();
    // Every tick (100 ms): max_age expiry.
    void on_tick();
    // A request shard 0 forwarded to this shard.
    void on_forward(const MsgView& msg);
    // $JS.API.> (shard 0 only).
    void on_msg(const MsgView& msg) override;

    // ---- used by Stream ----
    // Queues a message for the end of the turn; with `interest_seq`, held until every shard
    // has applied this shard's interest changes up to it.
    void send(std::string_view subject, std::string_view headers, std::string_view payload,
              uint64_t interest_seq = 0);
    Shard& shard() { return shard_; }
    Catalogue& catalogue();
    store::Disk& file_disk() { return file_disk_; }
    store::Disk& memory_disk() { return memory_disk_; }
    const std::string& store_dir() const { return store_dir_; }
    void subscribe(Subscription& sub);
    void unsubscribe(Subscription& sub);
    uint64_t interest_seq() const;
    // nats-server's limitsExceeded: the storage's use is already over -js's max_memory_store
    // or max_file_store (a new message is then refused with "insufficient resources").
    bool over_store_limit(proto::js::Storage storage);
    // An API answer (counted in $JS.API.INFO's api totals, as nats-server counts each one it
    // sends), and an error answer (counted as an error too).
    void api_reply(std::string_view reply, std::string_view body, uint64_t interest_seq = 0);
    void api_error(std::string_view reply, std::string_view type, const proto::js::ApiError& error);

private:
    // Shard 0: a request on $JS.API.>, answered here or forwarded to the stream's owner.
    void handle_api(const MsgView& msg);
    void forward_to(uint32_t owner, const MsgView& msg);
    // Shard 0: the account-wide requests.
    void api_account_info(std::string_view reply);
    void api_create(std::string_view name, const MsgView& msg);
    void api_update(std::string_view name, const MsgView& msg);
    void api_names(const MsgView& msg, bool list);

    // Owner: the per-stream requests.
    void open_created(std::string_view name, std::string_view reply);
    void delete_stream(std::string_view name, std::string_view reply);

    struct Outgoing {
        std::string subject;
        std::string headers;
        std::string payload;
        uint64_t interest_seq = 0;
        std::string reply;  // requests only
    };

    Shard& shard_;
    std::string store_dir_;
    io::DirectDisk file_disk_;
    store::MemoryDisk memory_disk_;
    std::map<std::string, std::unique_ptr<Stream>> streams_;
    std::unique_ptr<Subscription> api_sub_;
    std::deque<Outgoing> requests_;  // $JS.API requests received this turn (shard 0)
    base::ByteFifo<3> outbox_;   // subject, headers, payload
    base::ByteFifo<3> sending_;  // the part of the outbox being published
    std::vector<Outgoing> held_;  // waiting for interest to be applied everywhere
};

}  // namespace ringtail::core::js
