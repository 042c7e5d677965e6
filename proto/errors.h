#pragma once

#include <string_view>

// nats-server's client-visible error texts (server/client.go, server/errors.go), in one place.
// On the wire each is sent as -ERR '<text>'\r\n.
namespace ringtail::proto::err {

inline constexpr std::string_view kUnknownProtocol = "Unknown Protocol Operation";
inline constexpr std::string_view kAuthorizationViolation = "Authorization Violation";
inline constexpr std::string_view kAuthenticationTimeout = "Authentication Timeout";
inline constexpr std::string_view kMaxPayload = "Maximum Payload Violation";
inline constexpr std::string_view kMaxControlLine = "maximum control line exceeded";
inline constexpr std::string_view kMaxConnections = "maximum connections exceeded";
inline constexpr std::string_view kMaxSubscriptions = "maximum subscriptions exceeded";
inline constexpr std::string_view kMaxAccountConnections = "maximum account active connections exceeded";
inline constexpr std::string_view kInvalidPublishSubject = "Invalid Publish Subject";
inline constexpr std::string_view kInvalidSubject = "Invalid Subject";
inline constexpr std::string_view kStaleConnection = "Stale Connection";
inline constexpr std::string_view kBadClientProtocol = "invalid client protocol";
inline constexpr std::string_view kNoRespondersRequiresHeaders =
    "no responders requires headers support";

}  // namespace ringtail::proto::err
