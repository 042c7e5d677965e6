#include "proto/client_info.h"

#include <nlohmann/json.hpp>

namespace ringtail::proto {

namespace {

template <class T>
void take(const nlohmann::json& json, const char* key, T& out) {
    auto it = json.find(key);
    if (it != json.end() && !it->is_null()) out = it->get<T>();
}

}  // namespace

bool decode_info(std::string_view json_text, Info& info) {
    nlohmann::json json = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object()) return false;
    try {
        take(json, "server_id", info.server_id);
        take(json, "server_name", info.server_name);
        take(json, "version", info.version);
        take(json, "host", info.host);
        take(json, "port", info.port);
        take(json, "headers", info.headers);
        take(json, "auth_required", info.auth_required);
        take(json, "max_payload", info.max_payload_bytes);
        take(json, "jetstream", info.jetstream);
        take(json, "client_id", info.client_id);
        take(json, "client_ip", info.client_ip);
        take(json, "ringtail_version", info.ringtail_version);
    } catch (const nlohmann::json::exception&) {
        // A field of the wrong type: the INFO is not one we can trust.
        return false;
    }
    return true;
}

}  // namespace ringtail::proto
