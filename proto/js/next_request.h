#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

// The body of a pull request on $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, read as
// nats-server 2.9.10's nextReqFromMsg (server/consumer.go) reads it. The body is trimmed of
// Unicode white space (bytes.TrimSpace). An empty body asks for one message. A body starting
// with '{' is decoded as json.Unmarshal decodes it into JSApiConsumerGetNextRequest. Anything
// else is a batch size if strconv.Atoi accepts it, and one message if not.
namespace ringtail::proto::js {

struct NextRequest {
    int64_t expires_ns = 0;  // 0: never expires; negative: already expired
    int64_t batch = 1;       // Go's int; a JSON body without "batch" leaves it 0
    int64_t max_bytes = 0;
    bool no_wait = false;
    int64_t idle_heartbeat_ns = 0;
};

// The request, or the text nats-server sends back as "NATS/1.0 400 Bad Request - <text>".
// The text is Go 1.19's encoding/json error, because nats-server 2.9.10 was built with Go 1.19:
// the first syntax error anywhere in the body wins over a type error, and the first type error
// wins over later ones. The other text is "heartbeat value too large", for an idle_heartbeat
// above zero whose double exceeds expires.
[[nodiscard]] std::expected<NextRequest, std::string> parse_next_request(std::string_view body);

}  // namespace ringtail::proto::js
