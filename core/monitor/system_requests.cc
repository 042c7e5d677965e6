#include "core/monitor/system_requests.h"

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
    while (true) {
        Server::SystemRequest request;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            request = std::move(queue_.front());
            queue_.pop_front();
        }
        if (auto answer = monitor_.system_request(request.subject, request.payload)) {
            server_.system_publish(std::move(request.reply), std::move(*answer));
        }
    }
}

}  // namespace ringtail::core::monitor
