#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ringtail::core::js {

// A JSON request body read the way Go's json.Unmarshal fills nats-server's request structs:
// an absent or null field keeps its zero value (a body of `null` is a request with every field
// zero), and a field of the wrong type (or a document that is neither an object nor null)
// makes the whole request invalid: nats-server then answers "invalid JSON". Never throws.
// nats-server's isEmptyRequest: no bytes, or a JSON object without members.
inline bool is_empty_request(std::string_view payload) {
    if (payload.empty() || payload == "{}") return true;
    nlohmann::json body = nlohmann::json::parse(payload, nullptr, false);
    return !body.is_discarded() && body.is_object() && body.empty();
}

class RequestBody {
public:
    explicit RequestBody(std::string_view payload) {
        if (payload.empty()) return;  // no fields
        body_ = nlohmann::json::parse(payload, nullptr, false);
        valid_ = !body_.is_discarded() && (body_.is_object() || body_.is_null());
    }

    bool valid() const { return valid_; }

    uint64_t u64(const char* key) {
        const nlohmann::json* field = find(key);
        if (field == nullptr) return 0;
        if (field->is_number_unsigned()) return field->get<uint64_t>();
        valid_ = false;
        return 0;
    }
    int64_t i64(const char* key) {
        const nlohmann::json* field = find(key);
        if (field == nullptr) return 0;
        if (field->is_number_integer()) return field->get<int64_t>();
        valid_ = false;
        return 0;
    }
    bool boolean(const char* key) {
        const nlohmann::json* field = find(key);
        if (field == nullptr) return false;
        if (field->is_boolean()) return field->get<bool>();
        valid_ = false;
        return false;
    }
    std::string string(const char* key) {
        const nlohmann::json* field = find(key);
        if (field == nullptr) return {};
        if (field->is_string()) return field->get<std::string>();
        valid_ = false;
        return {};
    }

private:
    const nlohmann::json* find(const char* key) const {
        if (!valid_ || !body_.is_object()) return nullptr;
        auto it = body_.find(key);
        if (it == body_.end() || it->is_null()) return nullptr;
        return &*it;
    }

    nlohmann::json body_;
    bool valid_ = true;
};

}  // namespace ringtail::core::js
