// The JetStream API's JSON bodies: stream configs (parsed and checked as a create would),
// consumer create requests and pull requests. Every input gets a value or nats-server's error.
#include <cstdint>
#include <string_view>

#include "proto/js/consumer_config.h"
#include "proto/js/next_request.h"
#include "proto/js/stream_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace pjs = ringtail::proto::js;
    std::string_view body(reinterpret_cast<const char*>(data), size);
    pjs::StreamConfig stream;
    stream.name = "S";
    stream.subjects = {"s.>"};
    if (auto config = pjs::parse_stream_config(body)) {
        if (auto checked = pjs::check_stream_config(*config)) {
            (void)pjs::to_json(*checked);
            stream = *checked;
        }
    }
    if (auto checked_stream = pjs::check_stream_config(stream); checked_stream) stream = *checked_stream;
    if (auto request = pjs::parse_consumer_create_request(body)) {
        if (auto consumer = pjs::check_consumer_config(request->config, stream)) (void)pjs::to_json(*consumer);
    }
    (void)pjs::parse_next_request(body);
    return 0;
}
