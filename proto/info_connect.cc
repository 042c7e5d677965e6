#include "proto/info_connect.h"

#include <cctype>
#include <string>

#include <nlohmann/json.hpp>

namespace ringtail::proto {

std::string encode_info(const Info& info) {
    // nlohmann's ordered_json keeps insertion order, so the JSON reads like nats-server's.
    nlohmann::ordered_json json;
    json["server_id"] = info.server_id;
    json["server_name"] = info.server_name;
    json["version"] = info.version;
    json["proto"] = 1;
    json["go"] = "n/a (ringtail, C++)";
    json["host"] = info.host;
    json["port"] = info.port;
    json["headers"] = info.headers;
    if (info.auth_required) json["auth_required"] = true;
    json["max_payload"] = info.max_payload_bytes;
    if (info.jetstream) json["jetstream"] = true;
    if (info.client_id != 0) json["client_id"] = info.client_id;
    if (!info.client_ip.empty()) json["client_ip"] = info.client_ip;
    if (!info.nonce.empty()) json["nonce"] = info.nonce;
    if (!info.cluster.empty()) json["cluster"] = info.cluster;
    if (!info.domain.empty()) json["domain"] = info.domain;
    if (info.lame_duck_mode) json["ldm"] = true;
    json["ringtail_version"] = info.ringtail_version;
    return "INFO " + json.dump() + " \r\n";
}

namespace {

template <class T>
bool take(const nlohmann::json& json, const char* key, T& out) {
    auto it = json.find(key);
    if (it == json.end() || it->is_null()) return true;
    if constexpr (std::is_same_v<T, bool>) {
        if (!it->is_boolean()) return false;
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!it->is_string()) return false;
    } else {
        if (!it->is_number_integer()) return false;
    }
    out = it->get<T>();
    return true;
}

// Invalid UTF-8 sequences replaced by U+FFFD, as Go's JSON decoder reads them in strings.
std::string valid_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t at = 0; at < text.size();) {
        auto byte = static_cast<unsigned char>(text[at]);
        size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xe ? 3 : (byte >> 3) == 0x1e ? 4 : 0;
        bool valid = length > 0 && at + length <= text.size();
        for (size_t i = 1; valid && i < length; ++i) valid = (static_cast<unsigned char>(text[at + i]) >> 6) == 0x2;
        if (valid) {
            out.append(text.substr(at, length));
            at += length;
        } else {
            out.append("\xEF\xBF\xBD");
            ++at;
        }
    }
    return out;
}

}  // namespace

bool decode_connect(std::string_view text, ConnectOptions& options) {
    // As Go's json.Unmarshal fills nats-server's clientOpts: `null` changes nothing, keys match
    // their fields whatever their case (the last one of a field wins), a value of the wrong
    // type is an error.
    auto document = nlohmann::ordered_json::parse(valid_utf8(text), nullptr, /*allow_exceptions=*/false);
    if (document.is_discarded() || !(document.is_object() || document.is_null())) return false;
    nlohmann::json json = nlohmann::json::object();
    for (auto& [key, value] : document.items()) {
        std::string field = key;
        for (char& c : field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        json[field] = value;
    }
    bool tls_required = false;
    std::string jwt;
    return take(json, "verbose", options.verbose) && take(json, "pedantic", options.pedantic) &&
           take(json, "tls_required", tls_required) && take(json, "jwt", jwt) &&
           take(json, "echo", options.echo) && take(json, "headers", options.headers) &&
           take(json, "no_responders", options.no_responders) &&
           take(json, "protocol", options.protocol) && take(json, "user", options.user) &&
           take(json, "pass", options.pass) && take(json, "auth_token", options.auth_token) &&
           take(json, "nkey", options.nkey) && take(json, "sig", options.sig) &&
           take(json, "name", options.name) && take(json, "lang", options.lang) &&
           take(json, "version", options.version) && take(json, "account", options.account) &&
           take(json, "new_account", options.new_account);
}

}  // namespace ringtail::proto
