#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "base/result.h"

namespace httplib {
class Server;
}

namespace ringtail::core::monitor {

class Monitor;

// The monitoring port (-m / http_port / http): an HTTP/1.1 server on threads of its own, so
// nothing it does runs on a shard; requests reach the shards only through Monitor (by
// message). Built on cpp-httplib, which bounds what a client can send: request lines and
// headers of 8 KiB, bodies of 64 KiB here, 5 s to send a request; anything else gets an
// error status and never reaches Monitor.
// Owner: main, after the server has started; stop() before the server stops.
class HttpServer {
public:
    // `base_path` (http_base_path) prefixes every endpoint, as nats-server's.
    HttpServer(Monitor& monitor, std::string host, int port, std::string base_path);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds (port -1: any free port) and starts serving. The error reads as nats-server's:
    // "can't listen to the monitor port: listen tcp <host:port>: bind: <reason>".
    [[nodiscard]] Result<void, Error> start();
    int port() const { return port_; }
    void stop();

private:
    Monitor& monitor_;
    std::string host_;
    int port_;
    std::string base_path_;
    std::unique_ptr<httplib::Server> http_;
    std::thread thread_;
    std::atomic<bool> listen_returned_ = false;  // the thread's listen is over (or never began)
};

}  // namespace ringtail::core::monitor
