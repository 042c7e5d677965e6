#include "core/shard/service_imports.h"

#include <algorithm>

#include "base/clock.h"
#include "base/subject_match.h"
#include "proto/headers.h"

namespace ringtail::core {
namespace {

constexpr std::string_view kDigits = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

// The export an import goes through (the config has checked that there is one).
const config::ServiceExport* export_for(const config::Options& options, const config::ServiceImport& imported) {
    for (const config::ServiceExport& exported : options.service_exports) {
        if (exported.account != imported.from_account || !base::pattern_is_subset(imported.subject, exported.subject)) {
            continue;
        }
        if (exported.accounts.empty() ||
            std::find(exported.accounts.begin(), exported.accounts.end(), imported.account) != exported.accounts.end()) {
            return &exported;
        }
    }
    return nullptr;
}

}  // namespace

ServiceImports::ServiceImports(const config::Options& options) : random_(std::random_device{}()) {
    for (const config::ServiceImport& imported : options.service_imports) {
        const config::ServiceExport* exported = export_for(options, imported);
        auto import = std::make_unique<Import>(Import{
            config::account_id(options, imported.account),
            config::account_id(options, imported.from_account),
            // nats-server's ClientInfo of a request that is not shared: the account, and the
            // requester's RTT, which this shard does not know (omitted, as when it is zero).
            R"({"acc":")" + std::string(config::account_name(options, config::account_id(options, imported.account))) +
                R"("})",
            SubjectMap(imported.to, imported.subject),
            exported != nullptr ? exported->response_type : config::ResponseType::kSingleton,
            exported != nullptr ? exported->response_threshold_ns : config::ServiceExport{}.response_threshold_ns,
            {}});
        import->sub.owner = this;
        import->sub.account = import->account;
        import->sub.subject = imported.to;
        import->sub.sid = "svc:" + std::to_string(imports_.size());
        if (!prefixes_.contains(import->from_account)) {
            prefixes_[import->from_account] = "_R_." + random_token(6) + ".";
        }
        imports_.push_back(std::move(import));
    }
}

ServiceImports::~ServiceImports() = default;

void ServiceImports::start(const std::function<void(Subscription&)>& subscribe) {
    for (auto& import : imports_) subscribe(import->sub);
    for (const auto& [account, prefix] : prefixes_) {
        auto sub = std::make_unique<Subscription>();
        sub->owner = this;
        sub->account = account;
        sub->subject = prefix + ">";
        sub->sid = "svc:responses";
        subscribe(*sub);
        response_subs_.push_back(std::move(sub));
    }
}

void ServiceImports::stop(const std::function<void(Subscription&)>& unsubscribe) {
    for (auto& import : imports_) unsubscribe(import->sub);
    for (auto& sub : response_subs_) unsubscribe(*sub);
}

std::string ServiceImports::random_token(size_t length) {
    std::string token(length, '0');
    uint64_t bits = random_();
    for (char& c : token) {
        c = kDigits[bits % kDigits.size()];
        bits /= kDigits.size();
    }
    return token;
}

Subscriber::Delivery ServiceImports::deliver(Subscription& sub, const MsgView& msg) {
    if (queued_bytes_ > kQueuedBytesMax) return Delivery::kDelivered;  // dropped: see the class comment
    for (const auto& import : imports_) {
        if (&import->sub == &sub) {
            forward_request(*import, msg);
            return Delivery::kDelivered;
        }
    }
    forward_response(msg);
    return Delivery::kDelivered;
}

void ServiceImports::forward_request(const Import& import, const MsgView& msg) {
    Outgoing out;
    out.account = import.from_account;
    out.subject = import.map.apply(msg.subject);
    out.headers = proto::with_header(msg.headers, "Nats-Request-Info", import.request_info);
    out.payload = msg.payload;
    if (!msg.reply.empty()) {
        const std::string& prefix = prefixes_[import.from_account];
        std::string reply;
        do {
            reply = prefix + random_token(6);
        } while (responses_.contains(reply));
        responses_[reply] = {import.account, std::string(msg.reply), import.response_type, import.threshold_ns,
                             base::wall_clock_ns()};
        out.reply = reply;
        out.response = std::move(reply);
    }
    queue(std::move(out));
}

void ServiceImports::forward_response(const MsgView& msg) {
    auto it = responses_.find(std::string(msg.subject));
    if (it == responses_.end()) return;  // answered already, or forgotten: dropped
    Response& response = it->second;
    Outgoing out;
    out.account = response.account;
    out.subject = response.reply;
    out.reply = msg.reply;
    out.headers = msg.headers;
    out.payload = msg.payload;
    // One response ends a singleton; an empty message ends a stream or chunked one.
    bool last = response.type == config::ResponseType::kSingleton || (msg.headers.empty() && msg.payload.empty());
    if (last) {
        responses_.erase(it);
    } else {
        response.last_ns = base::wall_clock_ns();
        out.response = it->first;
    }
    queue(std::move(out));
}

void ServiceImports::queue(Outgoing out) {
    queued_bytes_ += out.subject.size() + out.reply.size() + out.headers.size() + out.payload.size();
    queued_.push_back(std::move(out));
}

void ServiceImports::flush(const std::function<Routed(const MsgView&)>& publish) {
    while (!queued_.empty()) {
        const Outgoing& out = queued_.front();
        MsgView view;
        view.account = out.account;
        view.subject = out.subject;
        view.reply = out.reply;
        view.headers = out.headers;
        view.has_headers = !out.headers.empty();
        view.payload = out.payload;
        Routed routed = publish(view);
        if (routed == Routed::kFull) return;
        // Nobody took a request: its reply subject goes (nats-server's rsiNoDelivery); nobody
        // took a response: the requester is gone.
        if (routed == Routed::kNoInterest && !out.response.empty()) responses_.erase(out.response);
        queued_bytes_ -= out.subject.size() + out.reply.size() + out.headers.size() + out.payload.size();
        queued_.pop_front();
    }
}

void ServiceImports::tick(int64_t now_ns) {
    std::erase_if(responses_, [now_ns](const auto& entry) {
        return now_ns - entry.second.last_ns > entry.second.threshold_ns;
    });
}

}  // namespace ringtail::core
