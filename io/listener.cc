#include "io/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace ringtail::io {
namespace {

// Go's net package words an errno in lower case ("address already in use").
std::string go_error(int error) {
    std::string text = std::strerror(error);
    if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

}  // namespace

std::string host_port(const std::string& host, int port) {
    bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
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
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* info = nullptr;
    std::string service = std::to_string(port);
    const char* node = (host.empty() || host == "0.0.0.0") ? nullptr : host.c_str();
    if (host == "0.0.0.0") hints.ai_family = AF_INET;
    int rc = getaddrinfo(node, service.c_str(), &hints, &info);
    if (rc != 0) return fail(Errc::kInvalid, "cannot resolve listen address " + host + ": " + gai_strerror(rc));
    Result<Listener, Error> result = fail(Errc::kNotFound, "no address to listen on for " + host);
    for (addrinfo* ai = info; ai != nullptr; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
            result = fail(errc_from_errno(errno), "listen tcp " + host_port(host, port) + ": bind: " + go_error(errno));
            close(fd);
            continue;
        }
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
        int bound_port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
        result = Listener{fd, bound_port};
        break;
    }
    freeaddrinfo(info);
    return result;
}

}  // namespace ringtail::io
