#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace ringtail::io {

struct Listener {
    int fd = -1;
    int port = 0;  // the port actually bound (useful with port 0)
};

// A TCP listener with SO_REUSEADDR and SO_REUSEPORT, so every shard can bind the same address
// and the kernel spreads connections across them; any address (is_any_address) is dual-stack,
// IPv4 alone where the kernel has no IPv6. The error reads as Go's net.Listen words it
// ("listen tcp 127.0.0.1:4222: bind: address already in use"), which nats-server logs.
[[nodiscard]] Result<Listener, Error> listen_tcp(const std::string& host, int port, int backlog);

// SO_REUSEPORT would also let a second Ringtail bind the port and take half its connections.
// claim_port() makes the port this process's among Ringtails: it binds an abstract unix
// socket named for the port (one per network namespace, released by the kernel however the
// process ends) and answers kInvalid, as EADDRINUSE, when another process holds it. Keep the
// returned descriptor open while listening.
[[nodiscard]] Result<int, Error> claim_port(const std::string& host, int port);

// "host:port" as Go's net.JoinHostPort writes it (IPv6 hosts in brackets).
std::string host_port(const std::string& host, int port);

// nats-server's parseHostPort: "host:port", "[v6]:port" or a host alone (then, as for a port
// of 0 or -1, `default_port`), split as Go's net.SplitHostPort splits it; an error text as
// Go's when it cannot be ("address a:b:c: too many colons in address").
struct HostPort {
    std::string host;
    int port = 0;
};
Result<HostPort, Error> parse_host_port(const std::string& text, int default_port);

// "0.0.0.0", "::" or none: listen on every address, IPv4 and IPv6 (see listen_tcp).
inline bool is_any_address(const std::string& host) { return host.empty() || host == "0.0.0.0" || host == "::"; }

// Where a listener on `host` can be reached, as "host:port" texts: for any address ("0.0.0.0",
// "::" or none) every address of every interface (nats-server's ports file lists them so), by
// interface, IPv4 before IPv6; else `host` itself.
std::vector<std::string> reachable_at(const std::string& host, int port);

}  // namespace ringtail::io
