#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <string_view>

#include "proto/js/api.h"
#include "store/stream_log.h"

namespace ringtail::core::js {

// The bodies of the requests for one stream that nats-server reads before it looks the stream
// up, read as it reads them: the request, or the error it answers first. The stream's owner
// reads them to serve the request, and the account's catalogue, for a stream it does not have,
// to answer that error rather than "stream not found" (as nats-server does).

struct StreamInfoRequest {
    bool deleted_details = false;
    std::string subjects_filter;
    size_t offset = 0;
};
std::expected<StreamInfoRequest, proto::js::ApiError> read_stream_info(std::string_view payload);

struct MsgGetRequest {
    uint64_t seq = 0;
    std::string last_for;  // last_by_subj
    std::string next_for;  // next_by_subj
};
std::expected<MsgGetRequest, proto::js::ApiError> read_msg_get(std::string_view payload);

struct MsgDeleteRequest {
    uint64_t seq = 0;
    bool erase = true;  // unless no_erase
};
std::expected<MsgDeleteRequest, proto::js::ApiError> read_msg_delete(std::string_view payload);

// A sequence of 1 is none, as nats-server's PurgeEx takes it: everything (that matches) goes.
std::expected<store::PurgeRequest, proto::js::ApiError> read_purge(std::string_view payload);

// The first error nats-server answers a request for `op` (STREAM.INFO, CONSUMER.CREATE, ...) on
// `subject` before it looks the stream up, if any.
std::optional<proto::js::ApiError> refused_before_stream_lookup(std::string_view op, std::string_view subject,
                                                                std::string_view payload);

}  // namespace ringtail::core::js
