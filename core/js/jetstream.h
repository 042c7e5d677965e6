#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/byte_fifo.h"
#include "core/js/catalogue.h"
#include "core/js/host.h"
#include "core/monitor/figures.h"
#include "core/route/subscription.h"
#include "core/shard/switch.h"
#include "proto/config/options.h"
#include "proto/js/api.h"
#include "proto/js/consumer_config.h"
#include "store/memory_disk.h"

namespace ringtail::core::js {

class Consumer;
class Stream;

// A message JetStream sends: views, copied into the outbox at once.
struct OutMsg {
    std::string_view subject;        // routed on
    std::string_view shown_subject;  // shown in MSG when not empty (a consumer's delivery)
    std::string_view reply;
    std::string_view headers;
    std::string_view payload;
};

// What one shard's JetStream for one account starts with, handed over before the shard's
// thread runs.
struct ShardSetup {
    const config::Options* options = nullptr;
    std::string store_dir;                   // holds jetstream/ (see streams_dir())
    uint32_t account = kGlobalAccount;       // whose subject space its subscriptions and messages are in
    std::string account_name = "$G";
    std::string domain;                      // jetstream { domain }, fixed for the process's life
    config::AccountJetStream limits;         // the account's (none for the global account)
    // False for an account without JetStream on a server with it: shard 0 answers its API
    // requests "JetStream not enabled for account", as nats-server does.
    bool enabled = true;
    Counters* counters = nullptr;            // the account's figures, every shard's (none when not enabled)
    std::vector<const Counters*> every_account;  // every account's, for the server-wide limits
    int64_t server_max_memory = 0;           // the server-wide limits (Server::js_max_memory())
    int64_t server_max_store = 0;
    std::vector<RestoredStream> owned;       // streams on disk this shard opens at start
    std::unique_ptr<Catalogue> catalogue;    // shard 0 only
};

// A JetStream API request kept for the audit advisory of an answer sent later
// (JetStream::keep_audit()).
struct KeptAudit {
    bool audited = false;
    std::string subject;
    std::string payload;
};

// One shard's JetStream for one account: the streams it owns, and on shard 0 the account's API
// and catalogue. Each account with JetStream has its own on every shard, isolated as nats-server
// isolates accounts: its own subject space (the Host stamps the account on everything), store
// directory, stream names and limits.
// Owner: the shard's thread; created when the shard starts (with -js), destroyed when it stops.
//
// Requests: shard 0 holds the only subscription on $JS.API.>. It answers what concerns the
// account (INFO, STREAM.NAMES, LIST) from its catalogue, decides CREATE, UPDATE and DELETE
// there, and forwards whatever concerns one stream to the stream's owner as a JetStream record
// (Host::send_to_shard), which answers the requester itself. Owners report back the same way
// (a stream opened, failed to open, changed state), so the catalogue needs no lock: every
// record for one stream travels one FIFO ring. Direct gets and pull requests are no API
// requests here: the streams' and consumers' own subscriptions take them.
// Publishes: each stream subscribes its subjects on its owner's shard, so a publish from any
// connection is routed there like any message.
// Sending: nothing is published from inside a delivery. Replies queue in an outbox that
// run_turn() publishes at the end of every turn, acks once the write covering them completed.
class JetStream final : public Subscriber, public JsRecordHandler {
public:
    JetStream(Host& host, store::Disk& file_disk, ShardSetup setup);
    ~JetStream();
    JetStream(const JetStream&) = delete;
    JetStream& operator=(const JetStream&) = delete;

    // Opens the streams this shard owns (restored from disk) and, on shard 0, subscribes the API.
    [[nodiscard]] Result<void, Error> start();
    // Once per loop turn, before sends: answers queued requests, retries waiting appends,
    // submits the writes of everything appended this turn, reports state changes, publishes
    // the outbox.
    void run_turn();

    // For /jsz and /metrics: this shard's streams (core/monitor/figures.h).
    void figures(const monitor::Query& query, monitor::ShardFigures& out) const;
    // The config of a stream this shard owns (nullptr for one it does not).
    const proto::js::StreamConfig* local_stream_config(std::string_view name) const;

    // Subscriber: $JS.API.> (shard 0 only).
    Delivery deliver(Subscription& sub, const MsgView& msg) override;
    bool accepts(const Subscription&, const Subscriber*) const override { return true; }
    void expired(Subscription&) override {}
    // JsRecordHandler: a request shard 0 forwarded here, or an owner's report to shard 0.
    void on_js_record(const MsgView& msg) override;

    // ---- used by Stream ----
    // Queues a message for the end of the turn; with `interest_seq`, held until every shard
    // has applied this shard's interest changes up to it.
    void send(const OutMsg& msg, uint64_t interest_seq = 0);
    void send(std::string_view subject, std::string_view headers, std::string_view payload,
              uint64_t interest_seq = 0) {
        send(OutMsg{subject, {}, {}, headers, payload}, interest_seq);
    }
    // nats-server's advisories and metrics ($JS.EVENT.…): the event's type, id and time, then
    // `fields`, as Go marshals them. Built and sent only while something listens on `subject`.
    void send_event(const std::string& subject, std::string_view type, const nlohmann::ordered_json& fields);
    // STREAM.<event>.<name>: CREATED create, UPDATED modify, DELETED delete.
    void send_stream_advisory(std::string_view name, std::string_view event, std::string_view action);
    // True while the outbox holds so much that consumers should wait (the rings to other
    // shards are full).
    bool outbox_full() const { return outbox_.bytes() + sending_.bytes() > kOutboxBytesMax; }
    // Consumers have work left: the shard's next turn must not wait for an event.
    bool busy() const { return !ready_.empty(); }
    // At a clean stop, once every write is done: each stream indexes its sealed segments.
    void checkpoint();
    // At a clean stop, before the clients go: every waiting pull request is told the server
    // stops.
    void release_waiting_at_shutdown();
    // `stream` has work: flush it at the end of this turn (Stream::wake()).
    void activate(Stream& stream);
    // `stream` is going away: forget it.
    void forget(Stream& stream) {
        std::erase(active_, &stream);
        std::erase(turn_, &stream);
    }
    // `consumer` has work: pump it at the end of this turn.
    void consumer_ready(Consumer& consumer) { ready_.push_back(&consumer); }
    // `consumer` is going away: forget it.
    void consumer_gone(Consumer& consumer) { std::erase(ready_, &consumer); }
    // A push consumer made (or its config changed) and gone (or about to change): looked at
    // when its deliver subject's interest changes.
    void push_consumer_added(Consumer& consumer);
    void push_consumer_removed(Consumer& consumer);
    Host& host() { return host_; }
    store::Disk& file_disk() { return file_disk_; }
    store::Disk& memory_disk() { return memory_disk_; }
    const std::string& store_dir() const { return setup_.store_dir; }
    const std::string& account_name() const { return setup_.account_name; }
    const config::AccountJetStream& limits() const { return setup_.limits; }
    // Brings the next tick (every 100 ms: max_age, the consumers' timeouts) forward to
    // `deadline`, for a timeout shorter than the interval.
    void tick_by(io::Clock::time_point deadline);
    // The JetStream domain, shown in the API's answers and PubAcks (empty: none).
    const std::string& domain() const { return setup_.domain; }
    // What a consumer create is checked against: the server's jetstream limits and the
    // account's max_ack_pending.
    proto::js::ConsumerCheckOptions consumer_check_options() const {
        proto::js::ConsumerCheckOptions options;
        const config::JetStreamLimits& server = setup_.options->jetstream_limits;
        options.server_max_ack_pending = std::max<int64_t>(server.max_ack_pending, 0);
        options.server_max_request_batch = std::max<int64_t>(server.max_request_batch, 0);
        options.account_max_ack_pending = std::max<int64_t>(setup_.limits.max_ack_pending, 0);
        return options;
    }
    int64_t max_payload() const { return setup_.options->max_payload_bytes; }
    ShardCounters& counters() { return setup_.counters->shard(host_.shard_index()); }
    // nats-server's jetStream.limitsExceeded: the storage's use is already over -js's
    // max_memory_store or max_file_store (a new message is then refused with "insufficient
    // resources").
    bool over_store_limit(proto::js::Storage storage) const;
    // jsAccount.limitsExceeded, as nats-server asks it once a message is stored: the account's
    // use with `adding` more bytes would be over its limits ("resource limits exceeded for
    // account").
    bool over_account_limit(proto::js::Storage storage, uint64_t adding) const;
    // An API answer (counted in $JS.API.INFO's api totals, as nats-server counts each one it
    // sends), and an error answer (counted as an error too).
    void api_reply(std::string_view reply, std::string_view body, uint64_t interest_seq = 0);
    void api_error(std::string_view reply, std::string_view type, const proto::js::ApiError& error);
    // The request being answered, kept by an answer that waits (a stream's held replies), so
    // that its audit advisory still names it; answer_kept() runs the api_reply() or
    // api_error() that sends the answer as that request's.
    KeptAudit keep_audit() const {
        if (audited_ == nullptr) return {};
        return {true, std::string(audited_->subject), std::string(audited_->payload)};
    }
    template <class Fn>
    void answer_kept(const KeptAudit& kept, Fn answer) {
        AuditedRequest audited{kept.subject, kept.payload};
        const AuditedRequest* outer = audited_;
        audited_ = kept.audited ? &audited : nullptr;
        answer();
        audited_ = outer;
    }
    // A stream's state changed: tell the catalogue (`state` with the first sequence, and
    // `first_ts`, as the stream shows them: Stream::shown_first_seq, Stream::first_ts_text).
    void report_state(const Stream& stream, const store::StoreState& state, std::string_view first_ts,
                      int64_t last_ts_ns);
    // A stream's mirror or sources info (StreamEntry::origins): tell the catalogue.
    void report_origins(const Stream& stream, const std::string& origins);

private:
    // Shard 0: a request on $JS.API.>, answered here or forwarded to the stream's owner.
    void handle_api(const MsgView& msg);
    void forward_to(uint32_t owner, const MsgView& msg);
    // A client's request for its stream's owner, with `body` in place of its payload when
    // shard 0 decided something for it (a create's or update's config). The request as the
    // client sent it rides in the record's headers (owners read none of an API request's),
    // marked, so that the owner's answer is audited with it.
    void forward_request(uint32_t owner, const MsgView& request, std::optional<std::string_view> body = std::nullopt);
    // nats-server's API audit event ($JS.EVENT.ADVISORY.API) for the request being answered.
    void audit(std::string_view response);
    // A consumer create on a mirror or a stream with sources whose filter names no subject of
    // the stream or its origins (on any shard): answered here, and true. The owner sees only
    // its own shard's streams.
    bool refuse_filter_elsewhere(const proto::js::StreamConfig& stream, const MsgView& msg);
    void answer_not_enabled(std::string_view api, std::string_view reply);
    // Shard 0: the account-wide requests.
    void api_account_info(std::string_view reply);
    void api_create(std::string_view name, const MsgView& msg);
    void api_update(std::string_view name, const MsgView& msg);
    void api_delete(std::string_view name, const MsgView& msg);
    void api_names(const MsgView& msg, bool list);
    void api_account_purge(std::string_view account, std::string_view reply);
    // For check_stream_config: the account's max_bytes rules, and origins from the catalogue.
    proto::js::StreamCheckOptions check_options_for_account() const;
    // Shard 0: the config of the account's stream `name` in the catalogue (nullptr: none).
    const proto::js::StreamConfig* catalogued_config(std::string_view name) const;
    // The account's limits on a new or changed stream, then the server's on what every
    // account's streams reserve with their max_bytes (nats-server's
    // jsNonClusteredStreamLimitsCheck and addStream's checkAllLimits), nullopt when it passes.
    // `before`: the config the stream had (on update).
    std::optional<proto::js::ApiError> over_limits(const proto::js::StreamConfig& config,
                                                   const proto::js::StreamConfig* before) const;
    // Shard 0: the account's reservations as its catalogue now has them, into its Counters.
    void count_reservations();
    // STREAM.SNAPSHOT and STREAM.RESTORE: nats-server's checks, then its error.
    void api_backup(std::string_view op, std::string_view name, const MsgView& msg);
    // STREAM.TEMPLATE.CREATE, INFO and DELETE, and NAMES: answered as an account without
    // templates, a create refused.
    void api_template(std::string_view op, std::string_view name, const MsgView& msg);
    void api_template_names(const MsgView& msg);
    // Shard 0: an owner's report.
    void on_report(const MsgView& msg);
    void report(std::string_view what, std::string_view name, std::string_view body = {}, bool wake = true);

    // Owner: the per-stream requests.
    void on_forward(const MsgView& msg);
    void answer_forwarded(const MsgView& msg);
    void open_created(std::string_view name, const MsgView& msg);
    void update_stream(Stream& stream, const MsgView& msg);
    void delete_stream(std::string_view name, std::string_view reply);
    void on_tick();

    struct Outgoing {
        std::string subject;
        std::string headers;
        std::string payload;
        uint64_t interest_seq = 0;
        std::string reply;
        std::string shown_subject;
    };
    // A $JS.API request, kept from its delivery to run_turn().
    struct Request {
        std::string subject;
        std::string reply;
        std::string headers;
        std::string payload;
        uint32_t from_shard;  // as MsgView's
    };
    void pump_consumers();
    static constexpr size_t kOutboxBytesMax = 8u << 20;
    // Deliveries one consumer makes per turn before the others get theirs.
    static constexpr size_t kConsumerBudget = 256;

    Host& host_;
    store::Disk& file_disk_;
    store::MemoryDisk memory_disk_;
    ShardSetup setup_;
    // The push consumers of this account's streams here, by deliver subject; before streams_,
    // which remove theirs as they go.
    std::unordered_multimap<std::string, Consumer*> push_consumers_;
    std::vector<std::pair<std::string, bool>> interest_changed_;  // host_.take_interest_changes()
    std::map<std::string, std::unique_ptr<Stream>> streams_;
    std::unique_ptr<Subscription> api_sub_;
    std::deque<Request> requests_;   // $JS.API requests received this turn (shard 0)
    // The client's request being answered, for audit(); none for the server's own (an
    // account purge's deletes).
    struct AuditedRequest {
        std::string_view subject;
        std::string_view payload;
    };
    const AuditedRequest* audited_ = nullptr;
    base::ByteFifo<5> outbox_;       // subject, shown subject, reply, headers, payload
    base::ByteFifo<5> sending_;      // the part of the outbox being published
    // The streams with work (Stream::wake()), and those this turn flushes: a turn costs the
    // streams in use, not every stream on the shard.
    std::vector<Stream*> active_;
    std::vector<Stream*> turn_;
    // Moves the newly woken streams into turn_.
    void take_active();
    std::vector<Consumer*> ready_;   // consumers with work this turn (each listed once)
    std::vector<Consumer*> pumping_;
    uint64_t interest_changes_seen_ = 0;  // host_.interest_changes() when the streams last looked
    uint64_t interest_losses_seen_ = 0;   // and host_.interest_losses()
    io::Clock::time_point next_tick_{};   // when expiry_ fires next
    std::vector<Outgoing> held_;     // waiting for interest to be applied everywhere
    io::Timer expiry_;               // max_age, every 100 ms
};

}  // namespace ringtail::core::js
