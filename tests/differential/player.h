#pragma once

// Plays a Scenario against one server over raw TCP and records what each connection receives.

#include <chrono>
#include <string>
#include <vector>

#include "tests/differential/scenario.h"

namespace ringtail::test::differential {

struct PlayOptions {
    // A read window ends after this much silence on every connection...
    std::chrono::milliseconds settle_quiet{300};
    // ...or after this long, whatever arrives.
    std::chrono::milliseconds settle_max{3000};
    // `< UNTIL` gives up after this long and records a timeout.
    std::chrono::milliseconds until_max{5000};
};

// What one connection received. `segments` are split at each `< READ`; the connection's end
// (server close, client close or a failure) is recorded with the segment it happened in.
struct Segment {
    std::string bytes;
    std::vector<std::string> notes;  // e.g. "UNTIL timed out (line 7)", in order of events.
};

struct ConnectionTranscript {
    enum class End : uint8_t { kOpen, kClosedByServer, kClosedByClient, kConnectFailed };
    std::string name;
    std::vector<Segment> segments{1};
    End end = End::kOpen;
    size_t end_segment = 0;  // Index into `segments` where `end` happened.
};

struct Transcript {
    std::vector<ConnectionTranscript> connections;  // In the scenario's order of first use.
};

// Plays `scenario` against 127.0.0.1:`port`. Never throws; failures to connect or to find
// an UNTIL text are recorded in the transcript, so that both servers are judged alike.
Transcript play(const Scenario& scenario, int port, const PlayOptions& options);

}  // namespace ringtail::test::differential
