#pragma once

// Normalising and printing transcripts, so that two servers can be compared byte for byte
// except for what legitimately differs between two servers (ids, ports, extra INFO fields).

#include <cstddef>
#include <string>
#include <string_view>

#include "tests/differential/player.h"

namespace ringtail::test::differential {

// Rewrites what may differ between two correct servers:
// - every `INFO {json}\r\n` line becomes `INFO <normalized ...>\r\n` listing which of a
//   stable set of keys are present (server_id, server_name, version, proto, host, port,
//   headers, max_payload, client_id, client_ip, auth_required) and the values of proto,
//   headers, max_payload and auth_required; other keys are ignored;
// - `_INBOX.<token>` becomes `_INBOX.<id>` (the token is generated, not chosen by the test).
// Everything else is kept byte for byte.
[[nodiscard]] std::string normalize_bytes(std::string_view bytes);

// One line per received protocol line, with \r \n \t \\ and non-printable bytes escaped, the
// `< READ` checkpoints and how each connection ended. For display only, `line_bytes_max`
// shortens long lines and `lines_max` long segments (0 = no limit).
[[nodiscard]] std::string render(const Transcript& transcript, bool normalized,
                                 size_t line_bytes_max = 0, size_t lines_max = 0);

}  // namespace ringtail::test::differential
