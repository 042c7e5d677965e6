#pragma once

#include <cstdint>
#include <string>

namespace ringtail::test {

// The content of record `seq` in the crash test: its size and bytes follow from seq, so the
// checker knows what every record must hold.
inline std::string payload_for(uint64_t seq) {
    std::string payload(10 + seq * 37 % 3000, '\0');
    for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(seq * 131 + i);
    return payload;
}

}  // namespace ringtail::test
