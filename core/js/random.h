#pragma once

#include <cstdint>
#include <random>
#include <string>

namespace ringtail::core::js {

// Not for secrets: the shard thread's generator for names, advisory ids and sampling.
inline std::minstd_rand& shard_random() {
    thread_local std::minstd_rand random(std::random_device{}());
    return random;
}

// `length` characters of [0-9A-Za-z], as nats-server's generated consumer names and ids.
inline std::string random_token(size_t length) {
    static constexpr char kDigits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string token;
    for (size_t i = 0; i < length; ++i) token.push_back(kDigits[shard_random()() % 62]);
    return token;
}

}  // namespace ringtail::core::js
