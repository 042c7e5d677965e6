#pragma once

#include <string_view>

#include "proto/info_connect.h"

// The client side of INFO: what a client learns about the server it connected to.
namespace ringtail::proto {

// Decodes the JSON of an INFO line into `info`. Fields the server omits keep their values
// (jetstream stays false on a server without JetStream, ringtail_version stays empty on
// nats-server). Returns false when the JSON is malformed or a known field has the wrong type.
[[nodiscard]] bool decode_info(std::string_view json, Info& info);

}  // namespace ringtail::proto
