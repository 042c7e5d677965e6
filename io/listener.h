#pragma once

#include <string>

#include "base/result.h"

namespace ringtail::io {

struct Listener {
    int fd = -1;
    int port = 0;  // the port actually bound (useful with port 0)
};

// A TCP listener with SO_REUSEADDR and SO_REUSEPORT, so every shard can bind the same address
// and the kernel spreads connections across them.
[[nodiscard]] Result<Listener, Error> listen_tcp(const std::string& host, int port, int backlog);

}  // namespace ringtail::io
