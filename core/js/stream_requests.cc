#include "core/js/stream_requests.h"

#include <algorithm>

#include "core/js/request_body.h"
#include "proto/js/consumer_config.h"

namespace ringtail::core::js {

namespace pjs = proto::js;

std::expected<StreamInfoRequest, pjs::ApiError> read_stream_info(std::string_view payload) {
    RequestBody request(payload);
    StreamInfoRequest out;
    out.deleted_details = request.boolean("deleted_details");
    out.subjects_filter = request.string("subjects_filter");
    out.offset = static_cast<size_t>(std::max<int64_t>(0, request.i64("offset")));
    if (!request.valid()) return std::unexpected(pjs::InvalidJSON());
    return out;
}

std::expected<MsgGetRequest, pjs::ApiError> read_msg_get(std::string_view payload) {
    if (is_empty_request(payload)) return std::unexpected(pjs::BadRequest());
    RequestBody request(payload);
    MsgGetRequest out;
    out.seq = request.u64("seq");
    out.last_for = request.string("last_by_subj");
    out.next_for = request.string("next_by_subj");
    if (!request.valid()) return std::unexpected(pjs::InvalidJSON());
    if ((out.seq > 0 && !out.last_for.empty()) || (out.seq == 0 && out.last_for.empty() && out.next_for.empty()) ||
        (!out.last_for.empty() && !out.next_for.empty())) {
        return std::unexpected(pjs::BadRequest());
    }
    return out;
}

std::expected<MsgDeleteRequest, pjs::ApiError> read_msg_delete(std::string_view payload) {
    if (is_empty_request(payload)) return std::unexpected(pjs::BadRequest());
    RequestBody request(payload);
    MsgDeleteRequest out;
    out.seq = request.u64("seq");
    out.erase = !request.boolean("no_erase");
    if (!request.valid()) return std::unexpected(pjs::InvalidJSON());
    return out;
}

std::expected<store::PurgeRequest, pjs::ApiError> read_purge(std::string_view payload) {
    RequestBody request(payload);
    store::PurgeRequest out;
    out.subject = request.string("filter");
    out.up_to_seq = request.u64("seq");
    out.keep = request.u64("keep");
    if (!request.valid()) return std::unexpected(pjs::InvalidJSON());
    if (out.up_to_seq > 0 && out.keep > 0) return std::unexpected(pjs::BadRequest());
    if (out.up_to_seq == 1) out.up_to_seq = 0;
    return out;
}

std::optional<pjs::ApiError> refused_before_stream_lookup(std::string_view op, std::string_view subject,
                                                          std::string_view payload) {
    auto error_of = [](const auto& read) -> std::optional<pjs::ApiError> {
        if (read) return std::nullopt;
        return read.error();
    };
    if (op == "STREAM.INFO") return error_of(read_stream_info(payload));
    if (op == "STREAM.MSG.GET") return error_of(read_msg_get(payload));
    if (op == "STREAM.MSG.DELETE") return error_of(read_msg_delete(payload));
    if (op == "STREAM.PURGE") return error_of(read_purge(payload));
    if (op == "CONSUMER.INFO" || op == "CONSUMER.DELETE") {
        if (!is_empty_request(payload)) return pjs::NotEmptyRequest();
        return std::nullopt;
    }
    if (op == "CONSUMER.NAMES" || op == "CONSUMER.LIST") {
        RequestBody request(payload);
        (void)request.i64("offset");
        if (!request.valid()) return pjs::InvalidJSON();
        return std::nullopt;
    }
    if (op == "CONSUMER.CREATE" || op == "CONSUMER.DURABLE.CREATE") {
        auto request = pjs::parse_consumer_create_request(payload);
        if (!request) return request.error();
        if (auto refused = pjs::refuse_newer_consumer_fields(payload)) return refused;
        return error_of(pjs::check_consumer_create(subject, *request));
    }
    return std::nullopt;
}

}  // namespace ringtail::core::js
