// The client protocol parser, fed in pieces cut at points the input chooses (as reads split
// it), with a handler that sometimes pauses (back-pressure) and resumes.
#include <cstdint>
#include <string_view>

#include "proto/parser.h"

namespace {

using namespace ringtail::proto;

class Handler final : public ParserHandler {
public:
    explicit Handler(uint8_t pause_mask) : pause_mask_(pause_mask) {}
    Flow on_connect(std::string_view json) override { return decide(json.size()); }
    Flow on_pub(const PubOp& op) override { return decide(op.subject.size() + op.payload.size()); }
    Flow on_sub(const SubOp& op) override { return decide(op.subject.size()); }
    Flow on_unsub(const UnsubOp& op) override { return decide(op.sid.size()); }
    Flow on_ping() override { return decide(1); }
    Flow on_pong() override { return decide(2); }
    Flow on_client_error(std::string_view) override { return Flow::kStop; }

private:
    Flow decide(size_t salt) {
        ++ops_;
        if (pause_mask_ != 0 && ((ops_ + salt) & pause_mask_) == 0 && !paused_) {
            paused_ = true;
            return Flow::kPause;
        }
        paused_ = false;
        return Flow::kContinue;
    }
    uint8_t pause_mask_;
    size_t ops_ = 0;
    bool paused_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) return 0;
    uint8_t pause_mask = data[0] & 7;
    size_t piece = 1 + data[1] % 64;  // read sizes
    bool require_connect = data[2] & 1;
    bool headers = data[2] & 2;
    std::string_view input(reinterpret_cast<const char*>(data + 3), size - 3);
    Parser parser({/*max_payload_bytes=*/1024, /*max_control_line_bytes=*/256});
    parser.set_require_connect(require_connect);
    parser.set_headers_allowed(headers);
    Handler handler(pause_mask);
    for (size_t at = 0; at < input.size(); at += piece) {
        ParseStatus status = parser.feed(input.substr(at, piece), handler);
        while (status == ParseStatus::kPaused) status = parser.resume(handler);
        if (status != ParseStatus::kOk) break;
    }
    return 0;
}
