#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringtail::proto {

// The server's INFO, in nats-server's field order (server/server.go, type Info).
struct Info {
    std::string server_id;
    std::string server_name;
    std::string version;
    std::string host;
    int port = 0;
    bool headers = true;
    bool auth_required = false;
    int64_t max_payload_bytes = 0;
    bool jetstream = false;
    uint64_t client_id = 0;  // omitted when 0
    std::string client_ip;   // omitted when empty
    std::string nonce;       // for nkey users to sign; omitted when empty
    std::string cluster;     // the cluster's name; omitted when empty
    std::string domain;      // the JetStream domain; omitted when empty
    bool lame_duck_mode = false;  // "ldm", omitted when false
    std::string ringtail_version;
};

// "INFO {...}\r\n"
std::string encode_info(const Info& info);

// A client's CONNECT options. Fields absent from the JSON keep the values a connection starts
// with, as nats-server's json.Unmarshal into defaultOpts: verbose and pedantic start TRUE.
struct ConnectOptions {
    bool verbose = true;
    bool pedantic = true;
    bool echo = true;
    bool headers = false;
    bool no_responders = false;
    int64_t protocol = 0;
    std::string user;
    std::string pass;
    std::string auth_token;
    std::string nkey;  // a user's public nkey, with `sig` its signature of INFO's nonce
    std::string sig;
    std::string name;
    std::string lang;
    std::string version;
    // An account named by the client (once a sandbox feature): nats-server refuses both.
    std::string account;
    bool new_account = false;
};

// Decodes CONNECT's JSON over `options`. Returns false when the JSON is malformed or a field
// has the wrong type (nats-server then closes the connection without an -ERR).
bool decode_connect(std::string_view json, ConnectOptions& options);

}  // namespace ringtail::proto
