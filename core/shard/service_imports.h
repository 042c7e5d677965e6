#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/route/subject_map.h"
#include "core/route/subscription.h"
#include "proto/config/options.h"

namespace ringtail::core {

// Service imports: request-reply across accounts, as nats-server does it. A request published
// in the importing account on an import's subject goes to the exporting account on the
// export's subject, with a "Nats-Request-Info: {"acc":"<importer>"}" header and a reply
// subject of the server's, "_R_.<prefix>.<token>" in the exporting account; a response to that
// goes back to the requester's own reply subject in the importing account. A response's own
// reply subject is handed across the same way (a "_R_" subject of the requester's account that
// leads back to the responder's). A singleton export takes one response per request; stream
// and chunked ones any number, until an empty message ends them or none came for the export's
// threshold (which also forgets an unanswered request). A request that an import forwards into
// an account that imports it on (a chain) keeps its first requester:
// {"acc":"<first importer>","svc":"<this importer>"}.
//
// Owner: shard 0. It subscribes each import, and each importing or exporting account's
// "_R_.<prefix>.>", once at start, so publishes from every shard reach it by ordinary routing
// (and what flush() publishes reaches it at once, on the same turn). Deliveries only
// queue what to send (routing must not publish); flush() sends it on the shard's turn. While
// full rings hold back more than kQueuedBytesMax, what arrives is dropped (a request then goes
// unanswered and its requester times out).
class ServiceImports final : public Subscriber {
public:
    static constexpr size_t kQueuedBytesMax = 64u << 20;

    explicit ServiceImports(const config::Options& options);
    ~ServiceImports();
    ServiceImports(const ServiceImports&) = delete;
    ServiceImports& operator=(const ServiceImports&) = delete;

    // Subscribes every import and response wildcard through `subscribe`; stop() takes them
    // back (before the object goes, while the shard runs: a reload).
    void start(const std::function<void(Subscription&)>& subscribe);
    void stop(const std::function<void(Subscription&)>& unsubscribe);
    // Sends what the deliveries queued, in order, through `publish`; stops at the first that a
    // full ring refused (kFull), to go on from it on a later turn.
    void flush(const std::function<Routed(const MsgView&)>& publish);
    // Forgets the responses nothing came for within their threshold.
    void tick(int64_t now_ns);
    bool idle() const { return queued_.empty(); }

    // Subscriber
    Delivery deliver(Subscription& sub, const MsgView& msg) override;
    bool accepts(const Subscription&, const Subscriber*) const override { return true; }
    void expired(Subscription&) override {}

private:
    struct Import {
        uint32_t account = 0;       // the importer
        uint32_t from_account = 0;  // the exporter
        std::string name;           // the importer's
        SubjectMap map;             // the importer's subject -> the exporter's
        config::ResponseType response_type = config::ResponseType::kSingleton;
        int64_t threshold_ns = 0;
        Subscription sub;
    };
    // A reply subject handed to the exporting account, and where its responses go.
    struct Response {
        uint32_t account = 0;  // the requester's
        std::string reply;     // the requester's reply subject
        config::ResponseType type = config::ResponseType::kSingleton;
        int64_t threshold_ns = 0;
        int64_t last_ns = 0;  // when it was made or last used
    };
    struct Outgoing {
        uint32_t account = 0;
        std::string subject, reply, headers, payload;
        std::vector<std::string> responses;  // reply subjects of ours to forget if nobody takes the message
        std::string requester;               // a request's first importer
    };

    void forward_request(const Import& import, const MsgView& msg);
    void forward_response(const Subscription& sub, const MsgView& msg);
    // A reply subject of `to_account`'s that leads to `reply` in `from_account`, for a response
    // of `type`.
    std::string hand_over(uint32_t to_account, uint32_t from_account, std::string_view reply,
                          config::ResponseType type, int64_t threshold_ns);
    void queue(Outgoing out);
    std::string random_token(size_t length);

    std::vector<std::unique_ptr<Import>> imports_;
    // Per importing or exporting account: its reply prefix ("_R_.<6 characters>.") and wildcard
    // subscription.
    std::unordered_map<uint32_t, std::string> prefixes_;
    std::vector<std::unique_ptr<Subscription>> response_subs_;
    std::unordered_map<std::string, Response> responses_;  // by our reply subject
    std::deque<Outgoing> queued_;
    const Outgoing* publishing_ = nullptr;  // what flush() is publishing
    size_t queued_bytes_ = 0;
    std::mt19937_64 random_;
};

}  // namespace ringtail::core
