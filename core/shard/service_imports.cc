#include "core/shard/service_imports.h"

#include <algorithm>

#include "base/clock.h"
#include "base/subject_match.h"
#include "base/subject_transform.h"
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
    auto add_prefix = [this](uint32_t account) {
        if (prefixes_.contains(account)) return;
        std::string prefix;
        do {
            prefix = "_R_." + random_token(6) + ".";
        } while (std::any_of(prefixes_.begin(), prefixes_.end(), [&](const auto& other) { return other.second == prefix; }));
        prefixes_[account] = std::move(prefix);
    };
    for (const config::ServiceImport& imported : options.service_imports) {
        const config::ServiceExport* exported = export_for(options, imported);
        uint32_t account = config::account_id(options, imported.account);
        auto import = std::make_unique<Import>(Import{
            account, config::account_id(options, imported.from_account),
            std::string(config::account_name(options, account)), SubjectMap(imported.subject, imported.to).inverse(),
            exported != nullptr ? exported->response_type : config::ResponseType::kSingleton,
            exported != nullptr ? exported->response_threshold_ns : config::ServiceExport{}.response_threshold_ns,
            {}});
        import->sub.owner = this;
        import->sub.account = import->account;
        import->sub.subject = base::placeholders_as_wildcards(imported.to);
        import->sub.sid = "svc:" + std::to_string(imports_.size());
        add_prefix(import->from_account);
        add_prefix(import->account);
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
    forward_response(sub, msg);
    return Delivery::kDelivered;
}

std::string ServiceImports::hand_over(uint32_t to_account, uint32_t from_account, std::string_view reply,
                                      config::ResponseType type, int64_t threshold_ns) {
    const std::string& prefix = prefixes_[to_account];
    std::string ours;
    do {
        ours = prefix + random_token(6);
    } while (responses_.contains(ours));
    responses_[ours] = {from_account, std::string(reply), type, threshold_ns, base::wall_clock_ns()};
    return ours;
}

void ServiceImports::forward_request(const Import& import, const MsgView& msg) {
    Outgoing out;
    out.account = import.from_account;
    out.subject = import.map.apply(msg.subject);
    // nats-server's ClientInfo of a request that is not shared: the account (and the service
    // it passed through), and the requester's RTT, which this shard does not know (omitted, as
    // when it is zero).
    bool chained = publishing_ != nullptr && !publishing_->requester.empty();
    out.requester = chained ? publishing_->requester : import.name;
    std::string info = R"({"acc":")" + out.requester + (chained ? R"(","svc":")" + import.name : std::string()) + R"("})";
    out.headers = proto::with_header(msg.headers, "Nats-Request-Info", info);
    out.payload = msg.payload;
    if (!msg.reply.empty()) {
        out.reply = hand_over(import.from_account, import.account, msg.reply, import.response_type, import.threshold_ns);
        out.responses.push_back(out.reply);
    }
    queue(std::move(out));
}

void ServiceImports::forward_response(const Subscription& sub, const MsgView& msg) {
    auto it = responses_.find(std::string(msg.subject));
    if (it == responses_.end()) return;  // answered already, or forgotten: dropped
    Response response = it->second;
    Outgoing out;
    out.account = response.account;
    out.subject = response.reply;
    out.headers = msg.headers;
    out.payload = msg.payload;
    // One response ends a singleton; an empty message ends a stream or chunked one.
    if (response.type == config::ResponseType::kSingleton || (msg.headers.empty() && msg.payload.empty())) {
        responses_.erase(it);
    } else {
        it->second.last_ns = base::wall_clock_ns();
        out.responses.push_back(it->first);
    }
    // The response's own reply subject leads back to the responder, as nats-server's response
    // imports do; but a JetStream ack subject passes as it is (nats-server's exception, for pull
    // consumers reached through another account).
    if (msg.reply.starts_with("$JS.ACK.")) {
        out.reply = msg.reply;
    } else if (!msg.reply.empty()) {
        out.reply = hand_over(response.account, sub.account, msg.reply, response.type, response.threshold_ns);
        out.responses.push_back(out.reply);
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
        publishing_ = &out;
        Routed routed = publish(view);
        publishing_ = nullptr;
        if (routed == Routed::kFull) return;
        // Nobody took a request: its reply subject goes (nats-server's rsiNoDelivery); nobody
        // took a response: the requester is gone.
        if (routed == Routed::kNoInterest) {
            for (const std::string& response : out.responses) responses_.erase(response);
        }
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
