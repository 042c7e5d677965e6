#include "core/monitor/http_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <httplib.h>

#include "core/monitor/monitor.h"
#include "io/listener.h"

namespace ringtail::core::monitor {
namespace {

// Each connection holds a thread while it sends its request or idles between requests (at
// most the timeouts below): enough for scrapers and a few slow senders side by side.
constexpr size_t kThreads = 16;
constexpr size_t kBodyBytesMax = 64 * 1024;

// nats-server's base path: "/" is none, "x" is "/x", a trailing "/" goes.
std::string clean_base_path(std::string path) {
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (!path.empty() && path.front() != '/') path.insert(0, "/");
    return path;
}

// The Date header Go's server puts on every response ("Sun, 06 Dec 2026 13:25:00 GMT").
std::string http_date() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[64];
    size_t length = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return std::string(text, length);
}

}  // namespace

HttpServer::HttpServer(Monitor& monitor, std::string host, int port, std::string base_path)
    : monitor_(monitor), host_(std::move(host)), port_(port), base_path_(clean_base_path(std::move(base_path))) {}

HttpServer::~HttpServer() { stop(); }

Result<void, Error> HttpServer::start() {
    http_ = std::make_unique<httplib::Server>();
    // Only this process may serve the port: SO_REUSEADDR as Go's listener, never the
    // SO_REUSEPORT the library would set (a second server would silently share the port). An
    // IPv6 socket takes IPv4 too (see bind below).
    http_->set_socket_options([](int fd) {
        int yes = 1;
        int no = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);  // fails harmlessly on IPv4
    });
    http_->new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    http_->set_read_timeout(2, 0);
    http_->set_write_timeout(5, 0);
    http_->set_keep_alive_timeout(2);
    http_->set_keep_alive_max_count(1000);  // a scraper keeps its connection (Go's server sets no count)
    http_->set_payload_max_length(kBodyBytesMax);
    // A response goes out as two writes (head, body): without this the body of each request
    // after the first on a kept connection waits for the client's delayed ACK (40 ms).
    http_->set_tcp_nodelay(true);
    auto serve = [this](const httplib::Request& request, httplib::Response& response) {
        response.set_header("Date", http_date());
        std::string_view path = request.path;
        if (!base_path_.empty()) {
            if (!path.starts_with(base_path_)) {
                response.status = 404;
                response.set_header("X-Content-Type-Options", "nosniff");
                response.set_content("404 page not found\n", "text/plain; charset=utf-8");
                return;
            }
            path.remove_prefix(base_path_.size());
        }
        if (path.empty()) path = "/";
        Params params;
        for (const auto& [name, value] : request.params) params.emplace(name, value);  // the first of each
        Response answer = monitor_.handle(path, params);
        response.status = answer.status;
        if (answer.status == 404) response.set_header("X-Content-Type-Options", "nosniff");  // as Go's http.NotFound
        response.set_content(std::move(answer.body), answer.content_type);
    };
    // nats-server's handlers answer whatever the method.
    http_->Get(".*", serve);
    http_->Post(".*", serve);
    http_->Put(".*", serve);
    http_->Delete(".*", serve);
    http_->Options(".*", serve);
    http_->Patch(".*", serve);
    auto bind = [this](const std::string& host) {
        errno = 0;
        if (port_ <= 0) return http_->bind_to_any_port(host);
        return http_->bind_to_port(host, port_) ? port_ : -1;
    };
    // Any address listens on IPv4 and IPv6 both, as Go's listener does for nats-server; a
    // kernel without IPv6 gets IPv4 alone.
    bool any = io::is_any_address(host_);
    int bound = bind(any ? "::" : host_);
    if (bound <= 0 && any && errno != EADDRINUSE) bound = bind("0.0.0.0");
    if (bound <= 0) {
        int error = errno;
        std::string why = error != 0 ? std::strerror(error) : "failed";
        if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));  // as Go
        std::string address = host_ + ":" + std::to_string(port_ < 0 ? 0 : port_);
        return fail(Errc::kIo, "can't listen to the monitor port: listen tcp " + address +
                                   ": bind: " + why);
    }
    port_ = bound;
    thread_ = std::thread([this] {
        http_->listen_after_bind();
        listen_returned_ = true;
    });
    // The library's stop() acts only on a server already running: one that came before the
    // thread got there was lost, and the join in stop() never returned. Up and running first.
    while (!http_->is_running() && !listen_returned_) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return {};
}

void HttpServer::stop() {
    if (http_) http_->stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace ringtail::core::monitor
