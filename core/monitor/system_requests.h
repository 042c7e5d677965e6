#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/server/server.h"

namespace ringtail::core::monitor {

class Monitor;

// Answers the system account's requests ($SYS.REQ.SERVER.PING, ...) on a thread of its own:
// shard 0 hands each over (Server::set_system_handler), Monitor computes the answer from the
// shards' figures as the monitoring port does, and shard 0 publishes it (Server::system_publish).
// The same thread sends the system account's periodic messages: the server's statsz
// ($SYS.SERVER.<id>.STATSZ) and each account's connection updates
// ($SYS.ACCOUNT.<account>.SERVER.CONNS, on changes the shards report and every 30 s), each
// change's update before the client's CONNECT or DISCONNECT event that came with it.
// Owner: main; start() before the server starts, stop() before the server is waited for.
class SystemRequests {
public:
    SystemRequests(Server& server, Monitor& monitor) : server_(server), monitor_(monitor) {}
    ~SystemRequests() { stop(); }
    SystemRequests(const SystemRequests&) = delete;
    SystemRequests& operator=(const SystemRequests&) = delete;

    void start();
    void stop();

private:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::seconds kHeartbeat{30};  // nats-server's eventsHBInterval

    void run();
    void send_account_connections(const std::string& account, Clock::time_point now);

    Server& server_;
    Monitor& monitor_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Server::SystemRequest> queue_;  // bounded by kQueueMax: more are dropped
    std::set<std::string> conns_changed_;  // accounts whose connections changed since the last update
    std::vector<Server::ConnsChange> events_;  // clients' CONNECT and DISCONNECT events, bounded by kQueueMax
    bool stopping_ = false;
    std::map<std::string, Clock::time_point> conns_heartbeats_;  // the thread's own: next update due
    std::thread thread_;
    static constexpr size_t kQueueMax = 1024;
};

}  // namespace ringtail::core::monitor
