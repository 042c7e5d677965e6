#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/server/server.h"

namespace ringtail::core::monitor {

class Monitor;

// Answers the system account's requests ($SYS.REQ.SERVER.PING, ...) on a thread of its own:
// shard 0 hands each over (Server::set_system_handler), Monitor computes the answer from the
// shards' figures as the monitoring port does, and shard 0 publishes it (Server::system_publish).
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
    void run();

    Server& server_;
    Monitor& monitor_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Server::SystemRequest> queue_;  // bounded by kQueueMax: more are dropped
    bool stopping_ = false;
    std::thread thread_;
    static constexpr size_t kQueueMax = 1024;
};

}  // namespace ringtail::core::monitor
