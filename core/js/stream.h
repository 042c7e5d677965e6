#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <map>

#include "base/byte_fifo.h"
#include "base/result.h"
#include "base/string_map.h"
#include "core/js/consumer_index.h"
#include "core/js/jetstream.h"
#include "core/js/message_ttl.h"
#include "core/monitor/figures.h"
#include "core/route/subscription.h"
#include "proto/js/api.h"
#include "proto/js/consumer_config.h"
#include "proto/js/stream_config.h"
#include "store/stream_log.h"

namespace ringtail::core::js {

class Consumer;
class ConsumerLog;
class JetStream;
class Origin;

// One JetStream stream on its owner shard: publish semantics over a StreamLog (headers,
// dedupe, limits, rollups), the acks released per completed write, and the per-stream API.
// Owner: its shard's JetStream; never touched from another thread (it reports its state to
// the catalogue by message).
class Stream final : public Subscriber {
public:
    // Opens the stream's log; with `create`, first makes its directory and metadata.
    [[nodiscard]] static Result<std::unique_ptr<Stream>, Error> open(JetStream& js, const proto::js::StreamConfig& config,
                                                                     int64_t created_ns, bool create);
    ~Stream();
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // Subscriber: a publish to one of the stream's subjects.
    Delivery deliver(Subscription& sub, const MsgView& msg) override;
    bool accepts(const Subscription&, const Subscriber*) const override { return true; }
    void expired(Subscription&) override {}
    // Publishes waiting for room in the log hold back whoever sends them, as a client that
    // reads slowly does (core/route/subscription.h).
    std::chrono::steady_clock::duration backed_up_for() const override;

    // Has JetStream flush it this turn (JetStream::activate()): a publish, a request, a write
    // completed, a consumer's work. It stays listed, turn after turn, while it has_work().
    void wake();
    bool has_work() const;
    // Per turn, while woken: retries appends that waited for room, submits the writes. The
    // disk's poll, which runs the durable callbacks, comes after.
    void flush();
    void expire(int64_t now_ns);
    // JetStream's tick: checks a little more of what the log's segment indexes let recovery
    // skip reading (StreamLog::verify; damage found is reported like damage found at
    // recovery), and has the next sealed segment without an index indexed in the background.
    void maintain_log();
    // At a clean stop: indexes the log's sealed segments, so the next start need not scan them.
    void checkpoint();
    // Reports the state to the catalogue (and its bytes to the shard's counters) when it
    // changed since the last call.
    void publish_state();

    // The per-stream requests; `op` is what follows "$JS.API." up to the stream name, `rest`
    // what follows the name (a consumer's name).
    void handle_request(std::string_view op, std::string_view rest, const MsgView& msg);
    // Applies a config shard 0 has validated.
    [[nodiscard]] Result<void, Error> update(const proto::js::StreamConfig& config);
    // Unsubscribes, closes the log and removes the stream's files.
    void destroy();

    const std::string& name() const { return config_.name; }
    const proto::js::StreamConfig& config() const { return config_; }
    // The stream_info shape ("config", "created", "state", "cluster") into `out`.
    void info_json(nlohmann::json& out, bool deleted_details, std::string_view subjects_filter,
                   size_t offset, size_t* subjects_total) const;
    // The first sequence as nats-server shows it: 0 for a stream never written to; once
    // purged, the next sequence (1).
    uint64_t shown_first_seq(const store::StoreState& state) const;
    // "mirror" or "sources" as STREAM.INFO has them (Origin::info with `heard_at`), if any.
    void add_origins(nlohmann::json& out, bool heard_at) const;
    // Tells the catalogue the mirror's or sources' info (for STREAM.LIST): at the open, each
    // tick and each change of sources.
    void report_origins();
    // Interest sequence the stream's subscriptions need applied before a reply that announces
    // them (create, update).
    uint64_t interest_seq() const { return interest_seq_; }

    // ---- for its consumers ----
    const store::StreamLog& log() const { return *log_; }
    // Message `seq` for a client. One that cannot be read (damage, a read error) is never
    // served: the first such is logged.
    Result<store::RecordView> load(uint64_t seq) const;
    // Consumer `by` is done with `seq` (acked it, or delivered it without acks): interest and
    // work-queue streams drop it once no consumer owes an ack for it.
    void acked_by(const Consumer& by, uint64_t seq);
    uint64_t consumer_log_durable_seq() const;
    // `consumer` waits for a message to be durable before it delivers it: the next durable
    // callback calls its on_stream_durable().
    void await_durable(Consumer& consumer) { awaiting_durable_.push_back(&consumer); }
    // `consumer` has AckSyncs waiting for the consumer log: its durable callback calls the
    // consumer's on_log_durable() until none waits.
    void await_log(Consumer& consumer) { awaiting_log_.push_back(&consumer); }
    size_t consumer_count() const { return consumers_.size(); }
    // Those a client made: without the direct ones that copy into mirrors and sources, which
    // nats-server keeps out of the stream's count, its listings and max_consumers.
    size_t public_consumer_count() const;
    // For /jsz and /metrics: counts always, the stream_detail JSON when the query asks.
    void figures(const monitor::Query& query, monitor::StreamFigures& out) const;
    // Some interest changed on the shard (push consumers hear of their own subjects'
    // changes from JetStream).
    void interest_changed();
    // JetStream's tick: the consumers' own, and those inactive long enough go; the mirror's
    // and sources' health.
    void tick_consumers();
    // The server stops: see Consumer::release_waiting_at_shutdown.
    void release_waiting_at_shutdown();

    // ---- for its mirror and sources (core/js/source.h) ----
    JetStream& jetstream() { return js_; }
    // The mirror is within a few messages of its origin: with mirror_direct it joins the
    // origin's direct gets (subscribe_direct()), and stays.
    void mirror_caught_up();
    // A copy from the mirror's origin, to store at the origin's `seq` and time, or from a
    // source, to store as a publish (its Nats-Stream-Source header added). False when it
    // cannot even be queued: the caller asks the origin again from it.
    bool take_mirrored(std::string_view subject, std::string_view headers, std::string_view payload, uint64_t seq,
                       int64_t ts);
    bool take_sourced(std::string_view subject, std::string_view headers, std::string_view payload);
    // The mirror's origin starts after `seq`: the sequences up to it are used up.
    void skip_to(uint64_t seq);
    // Messages wait for room in the log (flow control is answered once they are stored).
    bool storing_waits() const { return !waiting_.empty(); }
private:
    Stream(JetStream& js, proto::js::StreamConfig config, int64_t created_ns);
    [[nodiscard]] Result<void, Error> open_log(bool create);
    std::atomic<int64_t>& bytes_counter();
    // The stream's subscriptions: its subjects, and the direct gets it answers.
    void subscribe_subjects();
    void unsubscribe_subjects();
    void subscribe_direct();
    void subscribe_direct_for(const std::string& name);
    void unsubscribe_direct();
    void set_subject_transform();
    store::StoreLimits store_limits() const;

    // The publish path.
    struct Waiting {  // a publish the log had no room for yet (kBusy; a copy: kNoSpace too)
        std::string subject, reply, headers, payload;
        uint64_t mirror_seq = 0;  // from the mirror's origin: its sequence and time
        int64_t mirror_ts = 0;
        bool sourced = false;  // from a source
    };
    // Returns false if the log is busy (the caller keeps the message to retry). A message
    // with `mirror_seq` is a mirror's copy: stored at that sequence (skipping to it), with its
    // origin's time, without a publish's checks; with an empty subject, only the skip. A
    // `sourced` one (from a source) may carry a Nats-TTL where TTLs are off.
    bool process(std::string_view subject, std::string_view reply, std::string_view headers,
                 std::string_view payload, uint64_t mirror_seq = 0, int64_t mirror_ts = 0, bool sourced = false);
    bool queue_waiting(Waiting waiting);
    bool store_mirrored(std::string_view subject, std::string_view headers, std::string_view payload, uint64_t seq,
                        int64_t ts);
    void roll_up(std::string_view subject);
    // The mirror or sources in the config, copying (each resumes where the log says it stopped).
    void start_origins();
    void stop_origins();
    void update_sources();
    std::map<std::string, uint64_t, std::less<>> resume_points(const std::vector<const nlohmann::json*>& sources) const;
    void ack_error(std::string_view reply, const proto::js::ApiError& error);
    void ack(std::string_view reply, uint64_t seq, bool duplicate);
    void ack_later(std::string_view reply, uint64_t seq, bool duplicate);
    void on_durable(uint64_t durable_seq);
    // Logs why the store refused an append: no room (once, then a reminder) or a failed
    // write (once).
    void note_store_failure(Errc error, int64_t now);
    // A message was stored: ends (and logs the end of) a stretch without space.
    void note_stored(int64_t now);
    // The newest message's id, kept for Nats-Expected-Last-Msg-Id and, within the duplicate
    // window, for duplicates.
    void remember_msg_id(std::string_view msg_id, uint64_t seq, int64_t now);
    void prune_dedupe(int64_t now_ns);
    // Expiry by max_age where a message may be exempt (Nats-TTL: never) or leave a marker, and
    // by per-message TTL; each returns whether it removed anything.
    bool expire_by_age(int64_t now_ns);
    bool expire_by_ttl(int64_t now_ns);
    // Removes expired message `seq`, or with subject_delete_marker_ttl, when it is the last of
    // its subject, stores a marker whose rollup removes it. False: the log is busy, try later.
    bool remove_expired(uint64_t seq);
    // The TTLs of the messages stored so far (allow_msg_ttl was just turned on).
    void read_ttls();
    // A message id seen in the log, for the duplicate window.
    struct SeenId {
        uint64_t seq;
        int64_t timestamp_ns;
        std::string id;
    };
    // The duplicate window read back from the log (after an update changed it).
    void rebuild_dedupe();
    void fill_dedupe(const std::vector<SeenId>& seen);
    std::optional<proto::js::ApiError> check_discard_new(std::string_view subject, size_t size) const;
    void republish(std::string_view subject, std::string_view headers, std::string_view payload, uint64_t seq,
                   uint64_t subject_last);

    // Consumers.
    [[nodiscard]] Result<void, Error> open_consumers(bool create);
    [[nodiscard]] Result<void, Error> open_consumer_log();
    void on_removed(uint64_t seq, std::string_view subject);
    void delete_consumer(const std::string& name);
    // Into the index and the lists by its config, once made; out of them before an update
    // changes the config (and in again after).
    void index_consumer(Consumer& consumer);
    void unindex_consumer(Consumer& consumer);
    // Out of the index and every list that points to it, before it goes.
    void forget_consumer(Consumer& consumer);
    // All of them go (the stream does): the lists emptied at once, not one by one.
    void forget_all_consumers();
    void api_consumer_create(std::string_view op, const MsgView& msg);
    void api_consumer_info(std::string_view name, const MsgView& msg);
    void api_consumer_delete(std::string_view name, const MsgView& msg);
    void api_consumer_names(const MsgView& msg, bool list);
    void api_consumer_pause(std::string_view name, const MsgView& msg);
    // Whether any consumer wants messages on `subject` (interest retention stores only those).
    bool any_consumer_wants(std::string_view subject) const;
    std::expected<proto::js::ConsumerConfig, proto::js::ApiError> recovered_consumer_config(
        std::string_view json_text) const;

    // Requests.
    void api_info(const MsgView& msg);
    // Moves the consumers a purge (of `subject`, all if empty; `plain`: asked with no request
    // body) picks past what it took, as nats-server does; returns the sequence they start
    // from (`first`, or if 0 the stream's first after the purge, or its subject's).
    uint64_t purge_consumers(const std::string& subject, bool plain, uint64_t first);
    void api_purge(const MsgView& msg);
    void api_msg_get(const MsgView& msg);
    void api_msg_delete(const MsgView& msg);
    // A direct get; `last_subject` from the subject of a get by the last subject, `for_origin`
    // when it asks for the origin of this mirror (mirror_direct).
    void api_direct_get(const MsgView& msg, std::string_view last_subject, bool for_origin = false);
    void reply_error(std::string_view reply, std::string_view type, const proto::js::ApiError& error);
    void reply_json(std::string_view reply, const nlohmann::json& body, uint64_t interest_seq = 0);
    // MSG.GET and DIRECT.GET: the message at `seq`, the newest matching `last_for`, or the
    // first from `seq` on matching `next_for`.
    Result<store::RecordView> lookup(uint64_t seq, std::string_view last_for, std::string_view next_for) const;
    // The newest message whose subject matches `filter` (wildcards; ">" or empty: any).
    Result<store::RecordView> load_last_matching(std::string_view filter) const;
    // first_ts of the state: the first message's time; when messages were removed or expired
    // until none is left, nats-server's file store reports the Unix epoch, after a purge its
    // zero time.
    std::string first_ts_text(const store::StoreState& state) const;

    JetStream& js_;
    proto::js::StreamConfig config_;
    std::optional<proto::js::SubjectTransform> republish_;
    std::optional<proto::js::SubjectTransform> subject_transform_;  // 2.10's subject_transform
    bool republish_headers_only_ = false;
    const int64_t created_ns_;
    std::string dir_;  // empty for memory storage
    std::unique_ptr<store::StreamLog> log_;
    int64_t sized_for_max_payload_ = 0;  // the largest message the log has room for
    // Consumers, by name (the order NAMES and LIST use), and the log of their state (file
    // streams only; declared first so that it outlives them).
    std::unique_ptr<ConsumerLog> consumer_log_;
    std::map<std::string, std::unique_ptr<Consumer>> consumers_;
    mutable ConsumerIndex consumer_index_;  // mutable: its trie caches what it matched
    std::vector<Consumer*> awaiting_durable_;  // each listed once (Consumer::on_stream_durable)
    std::vector<Consumer*> refiltered_;        // those an update gave another filter (on_removed)
    std::vector<Consumer*> awaiting_log_;      // each listed once (await_log)
    std::vector<Consumer*> push_consumers_;    // also in JetStream's index, until they go
    std::vector<Consumer*> ticking_;           // those whose on_tick() has work (needs_ticks())
    size_t direct_consumers_ = 0;              // those that copy into mirrors and sources
    std::vector<std::unique_ptr<Subscription>> subs_;
    // The direct gets the stream answers (subscribe_direct()): a subscriber of their own, so
    // that a get is never held behind the stream's write backlog (Stream::backed_up_for()),
    // nor holds a ring that carries other shards' gets and API requests.
    class DirectGets final : public Subscriber {
    public:
        explicit DirectGets(Stream& stream) : stream_(stream) {}
        Delivery deliver(Subscription& sub, const MsgView& msg) override;
        bool accepts(const Subscription&, const Subscriber*) const override { return true; }
        void expired(Subscription&) override {}

    private:
        Stream& stream_;
    };
    DirectGets direct_gets_{*this};
    bool mirror_caught_up_ = false;  // a mirror within a few messages of its origin, once
    std::vector<std::unique_ptr<Subscription>> direct_subs_;
    std::vector<std::unique_ptr<Origin>> origins_;  // the mirror, or the sources
    bool origins_reported_ = false;  // the catalogue has origins of this stream
    uint64_t interest_seq_ = 0;

    // Replies awaiting their PubAck, tagged seq << 1 | duplicate, in seq order: released when
    // the write covering the seq completes.
    base::ByteFifo<1> pending_acks_;
    std::string ack_prefix_;  // `{"stream":"NAME", "seq":`
    std::string ack_buffer_;
    std::deque<Waiting> waiting_;
    size_t waiting_bytes_ = 0;
    // Answers that wait for the log: a deletion's (MSG.DELETE, PURGE) until its tombstones
    // are durable (`ticket`, StreamLog::deletions_durable()) and, for a purge up to a sequence
    // past the end, until the skip queued in waiting_ reaches `last_seq`; a rollup's PubAck
    // until its message (`durable_seq`) and its purge are durable. If the log fails first, the
    // answer is the failure instead.
    // kConsumer: a consumer created or deleted, answered once the consumer log holds it.
    enum class Held : uint8_t { kDelete, kPurge, kPubAck, kConsumer };
    struct HeldReply {
        Held kind;
        uint64_t last_seq = 0;
        uint64_t durable_seq = 0;
        uint64_t ticket = 0;
        uint64_t consumer_log_seq = 0;
        uint64_t interest_seq = 0;  // what the answer waits for besides (JetStream::send)
        std::string reply;
        std::string body;
        std::string created;  // kConsumer: the consumer a create made
        KeptAudit audit;
    };
    std::deque<HeldReply> held_replies_;
    void hold(HeldReply held);
    // Sends the held answers that are due, in order; with `all`, every one (the stream goes).
    void release_held(bool all);
    bool purging_ = false;  // the log's removals now are a purge's (Consumer::on_removed)

    struct Dedupe {
        uint64_t seq;
        int64_t ts_ns;
    };
    base::StringMap<Dedupe> dedupe_;
    std::deque<std::pair<int64_t, std::string>> dedupe_order_;  // (ts, id), oldest first
    std::string last_msg_id_;
    MessageTtls ttls_;  // with allow_msg_ttl
    // max_age has removed every message below this but the ones that never expire.
    uint64_t age_scan_from_ = 0;
    int64_t last_ts_ns_ = 0;  // the newest message's time, kept when it is removed
    // Sequences recovery found lost to damage (inclusive ranges) and the bytes skipped.
    std::vector<std::pair<uint64_t, uint64_t>> lost_;
    uint64_t lost_bytes_ = 0;
    bool verifying_ = true;  // maintain_log() has records left to check
    // How the store last came to be empty, for first_seq and first_ts (first_ts_text()).
    enum class Emptied : uint8_t { kOther, kByPurge, kBySkip };
    Emptied emptied_ = Emptied::kOther;
    int64_t skipped_ns_ = 0;  // with kBySkip: when
    // While the store has no room (kNoSpace): when that began and when it was last logged.
    mutable bool unreadable_logged_ = false;
    bool store_failure_logged_ = false;
    store::Disk* disk_ = nullptr;  // the log's
    int64_t no_space_since_ns_ = 0;
    int64_t no_space_logged_ns_ = 0;
    uint64_t published_bytes_ = 0;  // the bytes last added to the shard's counters
    bool state_dirty_ = true;
    // JetStream's lists of the streams with work (JetStream::activate()).
    friend class JetStream;
    bool woken_ = false;   // in JetStream::active_
    bool in_turn_ = false; // in JetStream::turn_
};

}  // namespace ringtail::core::js
