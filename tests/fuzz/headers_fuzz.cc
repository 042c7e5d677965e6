// Header blocks as HPUB carries them: every lookup JetStream makes on a published message.
#include <cstdint>
#include <string_view>

#include "proto/headers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view block(reinterpret_cast<const char*>(data), size);
    for (std::string_view key : {"Nats-Msg-Id", "Nats-Expected-Stream", "Nats-Expected-Last-Sequence",
                                 "Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Last-Msg-Id", "Nats-Rollup",
                                 "Nats-TTL", "KV-Operation", "Status"}) {
        (void)ringtail::proto::header_value(block, key);
    }
    return 0;
}
