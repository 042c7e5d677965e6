#pragma once

#include <string_view>

// Subject rules of nats-server (server/sublist.go): tokens separated by '.', none empty, no
// whitespace anywhere; '*' matches one whole token, '>' one or more and only as the last token.
namespace ringtail::proto {

// A subject a subscriber may use: wildcards allowed as whole tokens.
bool is_valid_subject(std::string_view subject);
// A subject a publisher may use: valid and without wildcard tokens.
bool is_valid_literal_subject(std::string_view subject);
// A reply subject only the server makes (nats-server's isReservedReply): a service import's
// "_R_.", a JetStream ack's "$JS.ACK." or a gateway's "_GR_.", each with more after it.
bool is_reserved_reply(std::string_view reply);
// Reference matcher (no index): does literal `subject` match `pattern`?
bool subject_matches(std::string_view pattern, std::string_view subject);

}  // namespace ringtail::proto
