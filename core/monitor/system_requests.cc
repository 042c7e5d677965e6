#include "core/monitor/system_requests.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/monitor/monitor.h"

namespace ringtail::core::monitor {

void SystemRequests::start() {
    server_.set_system_handler([this](Server::SystemRequest request) {
        std::lock_guard lock(mutex_);
        // A flood of requests must not grow without bound: past the limit they go unanswered,
        // as requests a busy nats-server drops.
        if (stopping_ || queue_.size() >= kQueueMax) return;
        queue_.push_back(std::move(request));
        wake_.notify_one();
    });
    server_.set_conns_handler([this](Server::ConnsChange change) {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        // Changes that come faster than they are sent go out as one update, with the count
        // at the time it is sent.
        conns_changed_.insert(change.account);
        if (!change.event_subject.empty() && events_.size() < kQueueMax) events_.push_back(std::move(change));
        wake_.notify_one();
    });
    thread_ = std::thread([this] { run(); });
}

void SystemRequests::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
}

void SystemRequests::run() {
    // nats-server's statsz heartbeat: the first a quarter second after the start, then at
    // twice the interval each time, up to every 30 s.
    auto statsz_interval = std::chrono::milliseconds(250);
    auto next_statsz = Clock::now() + statsz_interval;
    while (true) {
        std::optional<Server::SystemRequest> request;
        std::set<std::string> changed;
        std::vector<Server::ConnsChange> events;
        {
            std::unique_lock lock(mutex_);
            Clock::time_point deadline = next_statsz;
            for (const auto& [account, due] : conns_heartbeats_) deadline = std::min(deadline, due);
            wake_.wait_until(lock, deadline, [this] { return stopping_ || !queue_.empty() || !conns_changed_.empty(); });
            if (stopping_) return;
            if (!queue_.empty()) {
                request = std::move(queue_.front());
                queue_.pop_front();
            }
            changed.swap(conns_changed_);
            events.swap(events_);
        }
        if (request) {
            if (auto answer = monitor_.system_request(request->subject, request->payload)) {
                server_.system_publish(std::move(request->reply), std::move(*answer), request->reply_account);
            }
        }
        Clock::time_point now = Clock::now();
        for (const auto& [account, due] : conns_heartbeats_) {
            if (due <= now) changed.insert(account);
        }
        // As nats-server: a connection's event after the account's update it caused.
        for (Server::ConnsChange& event : events) {
            if (changed.erase(event.account) > 0) send_account_connections(event.account, now);
            nlohmann::ordered_json body = nlohmann::ordered_json::parse(event.event);
            body["server"] = server_.system_server_info(server_.options_snapshot());
            server_.system_publish(std::move(event.event_subject), body.dump());
        }
        for (const std::string& account : changed) send_account_connections(account, now);
        if (now >= next_statsz) {
            // Only where a system account can hear it.
            bool heard = config::system_account_id(server_.options_snapshot()).has_value();
            if (auto statsz = heard ? monitor_.system_request("$SYS.REQ.SERVER.PING", "") : std::nullopt) {
                server_.system_publish("$SYS.SERVER." + server_.server_id() + ".STATSZ", std::move(*statsz));
            }
            statsz_interval = std::min<std::chrono::milliseconds>(2 * statsz_interval, kHeartbeat);
            next_statsz = now + statsz_interval;
        }
    }
}

void SystemRequests::send_account_connections(const std::string& account, Clock::time_point now) {
    std::string event = monitor_.account_connections(account);
    // Sent again every 30 s while the account has connections here.
    if (nlohmann::json::parse(event).value("total_conns", 0) == 0) {
        conns_heartbeats_.erase(account);
    } else {
        conns_heartbeats_[account] = now + kHeartbeat;
    }
    // The older subject first, as nats-server sends both, each with a server sequence of its own.
    server_.system_publish("$SYS.SERVER.ACCOUNT." + account + ".CONNS", event);
    nlohmann::ordered_json again = nlohmann::ordered_json::parse(event);
    again["server"] = server_.system_server_info(server_.options_snapshot());
    server_.system_publish("$SYS.ACCOUNT." + account + ".SERVER.CONNS", again.dump());
}

}  // namespace ringtail::core::monitor
