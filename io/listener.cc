#include "io/listener.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <tuple>

namespace ringtail::io {
namespace {

// Go's net package words an errno in lower case ("address already in use").
std::string go_error(int error) {
    std::string text = std::strerror(error);
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

// Binds and listens on `address`; the fd, or -1 with errno set.
int bind_listen(const sockaddr* address, socklen_t length, int backlog, bool dual_stack) {
    int fd = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    int zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (dual_stack) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, address, length) != 0 || listen(fd, backlog) != 0) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

Listener listener_of(int fd) {
    sockaddr_storage bound{};
    socklen_t len = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    int bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                       : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    return Listener{fd, bound_port};
}

// Go's net.Listen error: "listen tcp <host:port>: bind: <errno text>".
std::unexpected<Error> listen_failure(const std::string& host, int port, int error) {
    return fail(errc_from_errno(error), "listen tcp " + host_port(host, port) + ": bind: " + go_error(error));
}

}  // namespace

std::string host_port(const std::string& host, int port) {
    bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort, Error> parse_host_port(const std::string& text, int default_port) {
    if (text.empty()) return fail(Errc::kInvalid, "no hostport specified");
    // Go's SplitHostPort: the port follows the last colon; a bracketed host may hold colons.
    auto split = [](const std::string& address) -> Result<std::pair<std::string, std::string>, Error> {
        auto error = [&](const char* why) { return fail(Errc::kInvalid, "address " + address + ": " + why); };
        size_t colon = address.rfind(':');
        if (colon == std::string::npos) return error("missing port in address");
        std::string host = address.substr(0, colon);
        if (!address.empty() && address.front() == '[') {
            size_t close = address.find(']');
            if (close == std::string::npos) return error("missing ']' in address");
            if (close + 1 != colon) return error(close + 1 == address.size() ? "missing port in address" : "too many colons in address");
            host = address.substr(1, close - 1);
        } else if (host.find(':') != std::string::npos) {
            return error("too many colons in address");
        }
        return std::pair{host, address.substr(colon + 1)};
    };
    auto parts = split(text);
    if (!parts && parts.error().text.ends_with("missing port in address")) {
        parts = split(text + ":" + std::to_string(default_port));
    }
    if (!parts) return std::unexpected(parts.error());
    auto trim = [](std::string value) {
        size_t first = value.find_first_not_of(" \t\r\n");
        if (first == std::string::npos) return std::string();
        return value.substr(first, value.find_last_not_of(" \t\r\n") - first + 1);
    };
    std::string digits = trim(parts->second);
    int port = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
        return fail(Errc::kInvalid, "strconv.Atoi: parsing \"" + digits + "\": invalid syntax");
    }
    if (port == 0 || port == -1) port = default_port;
    return HostPort{trim(parts->first), port};
}

std::vector<std::string> reachable_at(const std::string& host, int port) {
    if (!is_any_address(host)) return {host_port(host, port)};
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return {host_port("127.0.0.1", port)};
    std::vector<std::tuple<unsigned, int, std::string>> found;  // interface, family, address
    for (ifaddrs* one = list; one != nullptr; one = one->ifa_next) {
        if (one->ifa_addr == nullptr) continue;
        char text[INET6_ADDRSTRLEN] = {};
        int family = one->ifa_addr->sa_family;
        if (family == AF_INET) {
            inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(one->ifa_addr)->sin_addr, text, sizeof text);
        } else if (family == AF_INET6) {
            inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(one->ifa_addr)->sin6_addr, text, sizeof text);
        } else {
            continue;
        }
        found.emplace_back(if_nametoindex(one->ifa_name), family, host_port(text, port));
    }
    freeifaddrs(list);
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
    });
    std::vector<std::string> out;
    for (auto& [index, family, address] : found) out.push_back(std::move(address));
    if (out.empty()) out.push_back(host_port("127.0.0.1", port));
    return out;
}

Result<int, Error> claim_port(const std::string& host, int port) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail_errno(errno, "socket");
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string name = "ringtail-listens-on-port-" + std::to_string(port);
    std::memcpy(address.sun_path + 1, name.data(), name.size());  // sun_path[0] == 0: abstract
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) {
        int error = errno;
        ::close(fd);
        std::string where = host_port(host, port);
        return fail(error == EADDRINUSE ? Errc::kInvalid : errc_from_errno(error),
                    "listen tcp " + where + ": bind: " + go_error(error));
    }
    return fd;
}

Result<Listener, Error> listen_tcp(const std::string& host, int port, int backlog) {
    // Any address ("0.0.0.0", "::" or none) listens on both IPv4 and IPv6, as Go's net.Listen
    // does for nats-server; a kernel without IPv6 gets IPv4 alone.
    if (is_any_address(host)) {
        sockaddr_in6 any6{};
        any6.sin6_family = AF_INET6;
        any6.sin6_addr = in6addr_any;
        any6.sin6_port = htons(static_cast<uint16_t>(port));
        int fd = bind_listen(reinterpret_cast<sockaddr*>(&any6), sizeof any6, backlog, /*dual_stack=*/true);
        if (fd >= 0) return listener_of(fd);
        if (errno == EADDRINUSE || errno == EACCES) {
            return listen_failure(host, port, errno);
        }
        sockaddr_in any4{};
        any4.sin_family = AF_INET;
        any4.sin_addr.s_addr = htonl(INADDR_ANY);
        any4.sin_port = htons(static_cast<uint16_t>(port));
        fd = bind_listen(reinterpret_cast<sockaddr*>(&any4), sizeof any4, backlog, /*dual_stack=*/false);
        if (fd >= 0) return listener_of(fd);
        return listen_failure(host, port, errno);
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* info = nullptr;
    std::string service = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &info);
    if (rc != 0) return fail(Errc::kInvalid, "cannot resolve listen address " + host + ": " + gai_strerror(rc));
    Result<Listener, Error> result = fail(Errc::kNotFound, "no address to listen on for " + host);
    for (addrinfo* ai = info; ai != nullptr; ai = ai->ai_next) {
        int fd = bind_listen(ai->ai_addr, ai->ai_addrlen, backlog, /*dual_stack=*/false);
        if (fd < 0) {
            result = listen_failure(host, port, errno);
            continue;
        }
        result = listener_of(fd);
        break;
    }
    freeaddrinfo(info);
    return result;
}

}  // namespace ringtail::io
