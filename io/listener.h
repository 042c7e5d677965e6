#pragma once

#include <string>

namespace ringtail::io {

struct ListenResult {
    int fd = -1;
    int port = 0;       // the port actually bound (useful with port 0)
    std::string error;  // empty on success
};

// A non-blocking TCP listener with SO_REUSEADDR and SO_REUSEPORT, so every shard can bind
// the same address and the kernel spreads connections across them.
ListenResult listen_tcp(const std::string& host, int port, int backlog);

}  // namespace ringtail::io
