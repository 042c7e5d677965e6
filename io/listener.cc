#include "io/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ringtail::io {

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
            result = fail_errno(errno, "cannot listen on " + host + ":" + service);
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
