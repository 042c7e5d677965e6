// Seeded crash simulation of the store (STYLE §9): the real StreamLog on SimDisk, driven by a
// random mix of appends, removals (half of them erasing: a crash may tear the rewrite of the
// erased record, which then reads as damage), flushes, write completions (in any order, with up to
// kWritesInFlightMax writes in flight per segment), injected write errors, crashes and (in
// one mode) bit flips on the media, or (in another) a per-subject or message-count limit
// dropping the oldest messages as new ones come (removals and subject purges there touch only
// some subjects), and now and then a clean stop and start, after which exactly what was live
// must be live. After every crash the log is reopened and checked against a model of
// everything ever appended:
//   - every acknowledged (durable) record survives or, where a bit flip hit it, is reported lost:
//     the log never ends before the last acknowledged sequence, so none is given twice;
//   - the recovered log is a prefix of what was appended, with gaps only where recovery reports
//     sequences lost (acknowledged ones only after a bit flip); a lost sequence is never served;
//   - no record is ever served with content other than what was appended;
//   - under a limit, each subject (or the whole log) keeps at least as many messages from the
//     oldest of the newest acknowledged ones it was allowed to keep: a drop never outlives the
//     append that caused it;
//   - a removal or purge the log reported durable (deletions_durable()) stays done, one not yet
//     durable is undone whole or not at all, and once
//     everything is written every deletion is reported durable (no answer waits forever); a
//     removal with erase reported durable left none of the message's bytes in any file, and
//     one whose tombstone was durable when a crash cut its erasure short none once settled.
// A failure prints its seed; RT_SEED=<seed> replays exactly that one. RT_SIM_SEEDS=<n> runs n
// seeds from RT_SIM_FIRST (default 200 from 1, and a few later seeds that once found a bug).
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "store/stream_log.h"
#include "tests/support/sim_disk.h"

namespace ringtail::store {
namespace {

struct Model {
    std::vector<std::string> payloads;  // payloads[seq - 1]
    uint64_t acked = 0;
    std::set<uint64_t> removed;  // removed or purged; may come back after a crash (tombstone lost)
    // Removed with erase: a crash that tears the rewrite of its record leaves it damaged (reported lost).
    std::set<uint64_t> erased;
    std::set<uint64_t> lost;     // reported lost to damage at a recovery: never served again
    std::set<uint64_t> skipped;  // used up by skip(): never served, never reported lost
    // Limits mode: per group (a subject, or "" for the whole log under max_msgs), every
    // sequence appended, and those the limit has not dropped.
    std::map<std::string, std::vector<uint64_t>> appended;
    std::map<std::string, std::deque<uint64_t>> kept;
    std::vector<std::string> groups;  // groups[seq - 1]: the group of message seq
    // The deletion ticket of each sequence removed or purged since the last open, and the
    // newest ticket the log had reported durable when it crashed.
    std::map<uint64_t, uint64_t> tickets;
    uint64_t deletions_durable = 0;
    uint64_t tombstones_durable = 0;
    std::set<uint64_t> erasing;  // of those, the ones removed with erase
    // Removed with erase, their tombstone durable before a crash: erased by the next clean stop.
    std::set<uint64_t> erase_owed;
};

enum class Mode { kPlain, kFlips, kLimits };

std::string random_payload(std::mt19937_64& random) {
    // Mostly small; some of several pages; a few larger than a write (8-28 KiB), up to beyond
    // what a record may take (kTooLarge).
    size_t bytes = random() % 16 == 0 ? random() % 40000 : random() % 4 == 0 ? random() % 6000 : random() % 300;
    std::string payload(bytes, '\0');
    for (char& c : payload) c = static_cast<char>(random());
    return payload;
}

// Returns an empty string on success, else what went wrong.
std::string run_seed(uint64_t seed, Mode mode) {
    const bool flips = mode == Mode::kFlips;
    std::mt19937_64 random(seed);
    test::SimDisk disk(seed * 31 + 7);
    StreamLogOptions options;
    options.dir = "/s";
    options.segment_bytes = (8 + random() % 24) * 4096;
    options.flush_bytes_max = (2 + random() % 6) * 4096;
    options.tail_bytes_max = 4 * options.flush_bytes_max;
    options.writes_in_flight_max = 1 + random() % StreamLog::kWritesInFlightMax;
    const bool limits = mode == Mode::kLimits;
    const bool per_subject = limits && seed % 2 == 0;
    int64_t limit = 0;
    if (limits) limit = per_subject ? 1 + random() % 3 : 1 + random() % 40;
    if (per_subject) options.limits.max_msgs_per_subject = limit;
    if (limits && !per_subject) options.limits.max_msgs = limit;
    // Limits mode: removals and subject purges touch only sim.k0-k2 (per subject), or (in half
    // the max_msgs seeds) any message; the check of what a limit keeps leaves those alone.
    const bool removals = !limits || per_subject || seed % 4 == 1;
    auto limit_checked = [&](const std::string& group) {
        return per_subject ? group >= "sim.k3" : !removals;
    };
    Model model;
    bool flipped = false;
    bool refused = false;
    if (std::getenv("RT_SIM_TRACE")) {
        std::fprintf(stderr, "seed %llu: segment %llu flush %zu tail %zu\n", static_cast<unsigned long long>(seed),
                     static_cast<unsigned long long>(options.segment_bytes), options.flush_bytes_max, options.tail_bytes_max);
    }
    std::unique_ptr<StreamLog> log;

    // The file still holding the bytes of message `seq`, or "" (also for payloads too short to tell).
    auto holding = [&](uint64_t seq) -> std::string {
        const std::string& payload = model.payloads[seq - 1];
        if (payload.size() < 16) return {};
        auto names = disk.list_dir("/s");
        for (size_t i = 0; names && i < names->size(); ++i) {
            const std::vector<std::byte>& file = disk.file("/s/" + (*names)[i]);
            std::string_view bytes(reinterpret_cast<const char*>(file.data()), file.size());
            if (bytes.find(payload) != std::string_view::npos) return (*names)[i];
        }
        return {};
    };

    auto reopen = [&]() -> std::string {
        // A removal with erase reported durable left none of its message's bytes in any file.
        for (uint64_t seq : model.erasing) {
            if (model.tickets.at(seq) <= model.tombstones_durable) model.erase_owed.insert(seq);
            if (flipped || model.tickets.at(seq) > model.deletions_durable) continue;
            if (std::string file = holding(seq); !file.empty()) {
                return "seq " + std::to_string(seq) + " erased (ticket " + std::to_string(model.tickets.at(seq)) +
                       ", durable up to " + std::to_string(model.deletions_durable) + ") but still in " + file;
            }
        }
        model.erasing.clear();
        RecoveryReport report;
        auto opened = StreamLog::open(disk, options, &report);
        if (!opened && flipped && opened.error() == Errc::kCorruptRecord) {
            refused = true;  // damage in a sealed segment: refusing to open is the right answer
            return {};
        }
        if (!opened) return "reopen failed: " + std::string(errc_text(opened.error())) + " " + report.detail;
        log = std::move(*opened);
        // Sealed segments read from their index are checked afterwards: until then a damaged
        // record is refused, never served with other content; then it is reported lost.
        for (uint64_t seq = 1; seq <= log->last_seq() && seq <= model.payloads.size(); ++seq) {
            auto record = log->load(seq);
            if (record && record->payload != model.payloads[seq - 1]) return "seq " + std::to_string(seq) + " has wrong content";
        }
        while (log->verify(4096, &report)) {
        }
        if (std::getenv("RT_SIM_TRACE") && report.indexed_segments > 0) {
            std::fprintf(stderr, "  read %llu of %llu segments from their index\n",
                         static_cast<unsigned long long>(report.indexed_segments),
                         static_cast<unsigned long long>(report.segments));
        }
        if (std::getenv("RT_SIM_TRACE") && !report.detail.empty()) std::fprintf(stderr, "  recovered: %s\n", report.detail.c_str());
        uint64_t last = log->last_seq();
        // A flipped bit may hit the record of a skip at the very end: what it lost is a skip (no
        // message), done again by whoever skipped. Every acknowledged message is still there.
        uint64_t must_reach = model.acked;
        while (flipped && must_reach > 0 && model.skipped.contains(must_reach)) --must_reach;
        if (last < must_reach) {
            return "lost acked records: recovered up to " + std::to_string(last) + ", acked " +
                   std::to_string(model.acked) + " (" + report.detail + ")";
        }
        if (last > model.payloads.size()) return "recovered records never appended";
        std::set<uint64_t> lost;
        for (auto [first, last_lost] : report.lost) {
            for (uint64_t seq = first; seq <= last_lost; ++seq) lost.insert(seq);
        }
        // Without damage only records never acknowledged can be lost (a later write that landed
        // before an earlier one keeps its records past the hole).
        for (uint64_t seq : lost) {
            if (!flipped && seq <= model.acked && !model.lost.contains(seq) && !model.erased.contains(seq)) {
                return "acknowledged sequence " + std::to_string(seq) + " reported lost without damage: " + report.detail;
            }
        }
        // The newest `limit` acknowledged messages of a group, or newer ones that replaced them.
        for (auto& [group, seqs] : model.appended) {
            if (!limit_checked(group)) continue;
            std::vector<uint64_t> acked;
            for (uint64_t seq : seqs) {
                if (seq <= model.acked && !lost.contains(seq) && !model.lost.contains(seq)) acked.push_back(seq);
            }
            size_t due = std::min<size_t>(acked.size(), static_cast<size_t>(limit));
            if (due == 0) continue;
            uint64_t from = acked[acked.size() - due];
            size_t present = 0;
            for (uint64_t seq : seqs) present += seq >= from && seq <= last && log->contains(seq);
            if (present < due) {
                for (uint64_t seq : seqs) {
                    if (seq < from || !std::getenv("RT_SIM_TRACE")) continue;
                    std::fprintf(stderr, "  %llu: %s%s\n", static_cast<unsigned long long>(seq),
                                 seq <= last && log->contains(seq) ? "kept" : "gone", lost.contains(seq) ? ", lost" : "");
                }
                return "limit lost acked messages of '" + group + "': " + std::to_string(present) + " kept from seq " +
                       std::to_string(from) + ", " + std::to_string(due) + " due";
            }
        }
        std::set<uint64_t> still_removed;
        for (uint64_t seq = 1; seq <= last; ++seq) {
            auto record = log->load(seq);
            if (record && model.skipped.contains(seq)) return "skipped seq " + std::to_string(seq) + " served";
            if (lost.contains(seq) || model.lost.contains(seq)) {
                if (record) return "lost seq " + std::to_string(seq) + " served";
                model.lost.insert(seq);
                continue;
            }
            // Under a limit, a removal the crash undid brings its message back, and the limit, applied
            // again, may then drop an older one: what happens without that removal.
            bool undone = limits && seq - 1 < model.groups.size() && !limit_checked(model.groups[seq - 1]);
            if (!record && record.error() == Errc::kNotFound && (model.removed.contains(seq) || undone)) {
                still_removed.insert(seq);
                continue;
            }
            if (!record) {
                return "recovered seq " + std::to_string(seq) + " unreadable: " + std::string(errc_text(record.error())) +
                       " (" + report.detail + ")";
            }
            if (record->payload != model.payloads[seq - 1]) return "seq " + std::to_string(seq) + " has wrong content";
        }
        if (!flipped) {
            for (auto [seq, ticket] : model.tickets) {
                if (ticket <= model.deletions_durable && seq <= last && log->contains(seq)) {
                    return "seq " + std::to_string(seq) + " back after its removal (ticket " + std::to_string(ticket) +
                           ") was reported durable (up to " + std::to_string(model.deletions_durable) + ")";
                }
            }
        }
        // A deletion is undone whole or not at all: a purge is never left half done.
        if (!flipped && !limits) {
            std::map<uint64_t, std::pair<uint64_t, uint64_t>> back_and_gone;  // by ticket: a seq of each
            for (auto [seq, ticket] : model.tickets) {
                if (seq > last || lost.contains(seq) || model.lost.contains(seq)) continue;
                auto& [back, gone] = back_and_gone[ticket];
                (log->contains(seq) ? back : gone) = seq;
                if (back != 0 && gone != 0) {
                    return "deletion " + std::to_string(ticket) + " half undone: seq " + std::to_string(back) +
                           " back, seq " + std::to_string(gone) + " still gone";
                }
            }
        }
        model.tickets.clear();
        model.deletions_durable = 0;
        model.removed = std::move(still_removed);  // the others came back: their tombstone was lost
        for (auto& [group, seqs] : model.appended) {
            std::erase_if(seqs, [&](uint64_t seq) { return seq > last; });
            model.kept[group].clear();
            for (uint64_t seq : seqs) {
                if (log->contains(seq)) model.kept[group].push_back(seq);
            }
        }
        model.payloads.resize(last);
        model.groups.resize(std::min<size_t>(model.groups.size(), last));
        model.skipped.erase(model.skipped.upper_bound(last), model.skipped.end());  // a skip not on disk
        model.acked = last;
        log->set_durable_callback([&model](uint64_t seq) { model.acked = std::max(model.acked, seq); });
        return {};
    };

    // A clean stop (everything written, as a server stopping waits for) and a start: exactly
    // what was live is live again, and nothing else.
    auto clean_restart = [&]() -> std::string {
        test::settle(*log, disk);
        bool exact = log->sticky_error() == Errc::kOk;
        if (exact && log->deletions_durable() != log->deletion_ticket()) {
            return "settled, yet deletions durable only up to " + std::to_string(log->deletions_durable()) + " of " +
                   std::to_string(log->deletion_ticket());
        }
        model.deletions_durable = log->deletions_durable();
        model.tombstones_durable = log->tombstones_durable();
        // Every erasure done, those a crash cut short included (recovery found their tombstones).
        for (uint64_t seq : model.erase_owed) {
            if (!exact || model.lost.contains(seq)) continue;
            if (std::string file = holding(seq); !file.empty()) {
                return "settled, seq " + std::to_string(seq) + " erased but still in " + file;
            }
        }
        uint64_t last = log->last_seq();
        std::vector<uint64_t> live;
        for (uint64_t seq = 1; seq <= last; ++seq) {
            if (log->contains(seq)) live.push_back(seq);
        }
        log.reset();
        if (std::string error = reopen(); !error.empty()) return error;
        if (!exact) return {};
        if (log->last_seq() != last) return "clean restart: last seq " + std::to_string(log->last_seq()) + ", was " + std::to_string(last);
        for (uint64_t seq = 1; seq <= last; ++seq) {
            bool was = std::binary_search(live.begin(), live.end(), seq);
            if (log->contains(seq) != was) {
                return "clean restart: seq " + std::to_string(seq) + (was ? " was live and is gone" : " was removed and is back");
            }
        }
        return {};
    };

    if (std::string error = reopen(); !error.empty()) return error;
    for (int step = 0; step < 600; ++step) {
        uint64_t dice = random() % 100;
        if (dice < 55) {
            std::string payload = random_payload(random);
            std::string subject = per_subject ? "sim.k" + std::to_string(random() % 6) : "sim.subject";
            auto seq = log->append(subject, "", payload, step);
            if (seq) {
                if (*seq != model.payloads.size() + 1) return "append returned a seq out of order";
                if (std::getenv("RT_SIM_TRACE")) {
                    std::fprintf(stderr, "step %d: append %llu to %s, durable %llu\n", step, static_cast<unsigned long long>(*seq),
                                 subject.c_str(), static_cast<unsigned long long>(log->durable_seq()));
                }
                model.payloads.push_back(std::move(payload));
                model.groups.resize(*seq - 1);
                model.groups.push_back(per_subject ? subject : "");
                if (limits) {
                    std::string group = per_subject ? subject : "";
                    model.appended[group].push_back(*seq);
                    std::deque<uint64_t>& kept = model.kept[group];
                    kept.push_back(*seq);
                    for (; static_cast<int64_t>(kept.size()) > limit; kept.pop_front()) model.removed.insert(kept.front());
                }
            } else if (seq.error() != Errc::kBusy && seq.error() != Errc::kTooLarge &&
                       seq.error() != log->sticky_error()) {
                return "append failed: " + std::string(errc_text(seq.error()));
            }
        } else if (dice < 75) {
            log->flush();
            // Sealed segments get their index now and then, as a server's tick has them written.
            if (random() % 4 == 0) (void)log->index_sealed();
            if (random() % 4 == 0) log->mark_durable();
            if (random() % 50 == 0) (void)log->checkpoint();
        } else if (dice < 80 && log->last_seq() > 0 && limits) {
            if (removals) {
                std::string group = per_subject ? "sim.k" + std::to_string(random() % 3) : "";
                std::deque<uint64_t>& kept = model.kept[group];
                if (per_subject && random() % 4 == 0) {
                    // As a KV purge's rollup does: all but the newest (or all) of a subject.
                    PurgeRequest request;
                    request.subject = group;
                    request.keep = random() % 2;
                    auto purged = log->purge(request);
                    if (std::getenv("RT_SIM_TRACE")) {
                        std::fprintf(stderr, "step %d: purge %s keeping %llu: %s\n", step, group.c_str(),
                                     static_cast<unsigned long long>(request.keep),
                                     purged ? "ok" : std::string(errc_text(purged.error())).c_str());
                    }
                    if (!purged && purged.error() != Errc::kBusy && purged.error() != log->sticky_error()) {
                        return "purge failed: " + std::string(errc_text(purged.error()));
                    }
                    for (; purged && kept.size() > request.keep; kept.pop_front()) {
                        model.removed.insert(kept.front());
                        model.tickets[kept.front()] = log->deletion_ticket();
                    }
                } else if (!kept.empty()) {
                    size_t at = random() % kept.size();
                    const bool erase = random() % 2 == 0;
                    auto removed = log->remove(kept[at], erase);
                    if (removed && erase) {
                        model.erased.insert(kept[at]);
                        model.erasing.insert(kept[at]);
                    }
                    if (std::getenv("RT_SIM_TRACE")) {
                        std::fprintf(stderr, "step %d: remove %llu: %s\n", step, static_cast<unsigned long long>(kept[at]),
                                     removed ? "ok" : std::string(errc_text(removed.error())).c_str());
                    }
                    if (removed) {
                        model.removed.insert(kept[at]);
                        model.tickets[kept[at]] = log->deletion_ticket();
                        kept.erase(kept.begin() + static_cast<long>(at));
                    } else if (removed.error() != Errc::kBusy && removed.error() != log->sticky_error()) {
                        return "remove of a live seq failed: " + std::string(errc_text(removed.error()));
                    }
                }
            }
        } else if (dice < 80 && log->last_seq() > 0) {
            if (random() % 3 == 0) {
                PurgeRequest request;
                request.up_to_seq = 1 + random() % (log->last_seq() + 1);
                auto purged = log->purge(request);
                if (std::getenv("RT_SIM_TRACE")) {
                    std::fprintf(stderr, "step %d: purge up to %llu: %s\n", step, static_cast<unsigned long long>(request.up_to_seq),
                                 purged ? "ok" : std::string(errc_text(purged.error())).c_str());
                }
                if (purged) {
                    for (uint64_t seq = 1; seq < request.up_to_seq; ++seq) {
                        if (model.removed.insert(seq).second && *purged > 0) model.tickets[seq] = log->deletion_ticket();
                    }
                } else if (purged.error() != Errc::kBusy && purged.error() != log->sticky_error()) {
                    return "purge failed: " + std::string(errc_text(purged.error()));
                }
            } else {
                uint64_t seq = 1 + random() % log->last_seq();
                bool erase = random() % 2 == 0;
                auto removed = log->remove(seq, erase);
                if (removed && erase) {
                    model.erased.insert(seq);
                    model.erasing.insert(seq);
                }
                if (std::getenv("RT_SIM_TRACE")) {
                    std::fprintf(stderr, "step %d: remove %llu%s: %s\n", step, static_cast<unsigned long long>(seq),
                                 erase ? " (erase)" : "", removed ? "ok" : std::string(errc_text(removed.error())).c_str());
                }
                if (removed) {
                    model.removed.insert(seq);
                    model.tickets[seq] = log->deletion_ticket();
                } else if (removed.error() == Errc::kNotFound) {
                    if (!model.removed.contains(seq) && !model.lost.contains(seq)) {
                        return "remove: live seq " + std::to_string(seq) + " not found";
                    }
                } else if (removed.error() != Errc::kBusy && removed.error() != log->sticky_error()) {
                    return "remove failed: " + std::string(errc_text(removed.error()));
                }
            }
        } else if (dice < 81) {
            // Now and then, in an empty log, a skip too long to index: it starts a new segment.
            bool empty = log->state().msgs == 0;
            uint64_t count = empty && random() % 25 == 0 ? StreamLog::kSkipIndexedMax + 1 + random() % 1000 : 1 + random() % 20;
            uint64_t through = log->last_seq() + count;
            auto skipped = log->skip(through);
            if (std::getenv("RT_SIM_TRACE")) {
                std::fprintf(stderr, "step %d: skip to %llu: %s\n", step, static_cast<unsigned long long>(through),
                             skipped ? "ok" : std::string(errc_text(skipped.error())).c_str());
            }
            if (skipped) {
                for (uint64_t seq = model.payloads.size() + 1; seq <= through; ++seq) {
                    model.payloads.emplace_back();
                    model.skipped.insert(seq);
                    model.removed.insert(seq);
                }
            } else if (skipped.error() != Errc::kBusy && skipped.error() != log->sticky_error()) {
                return "skip failed: " + std::string(errc_text(skipped.error()));
            }
        } else if (dice < 82) {
            auto compacted = log->compact(1);
            if (std::getenv("RT_SIM_TRACE")) {
                std::fprintf(stderr, "step %d: compact: %s\n", step,
                             compacted ? std::to_string(*compacted).c_str() : std::string(errc_text(compacted.error())).c_str());
            }
            if (!compacted && compacted.error() != log->sticky_error() &&
                compacted.error() != Errc::kCorruptRecord) {
                return "compact failed: " + std::string(errc_text(compacted.error()));
            }
        } else if (dice < 88) {
            disk.complete(1 + random() % 3);
        } else if (dice < 92 && disk.queued() > 0) {
            disk.complete_nth(random() % disk.queued());  // writes complete in any order
        } else if (dice < 94) {
            disk.fail_next_write(random() % 2 ? EIO : ENOSPC);
        } else if (dice == 94 && !flips) {
            if (std::getenv("RT_SIM_TRACE")) std::fprintf(stderr, "step %d: clean restart\n", step);
            if (std::string error = clean_restart(); !error.empty()) return error;
        } else {
            if (std::getenv("RT_SIM_TRACE")) {
                std::fprintf(stderr, "step %d: crash, acked %llu, last %llu\n", step,
                             static_cast<unsigned long long>(model.acked), static_cast<unsigned long long>(log->last_seq()));
            }
            if (std::getenv("RT_SIM_TRACE")) {
                auto names = disk.list_dir("/s");
                for (size_t i = 0; names && i < names->size(); ++i) std::fprintf(stderr, "  %s\n", (*names)[i].c_str());
            }
            model.deletions_durable = log->deletions_durable();
            model.tombstones_durable = log->tombstones_durable();
            if (model.deletions_durable > log->deletion_ticket()) return "deletions durable past the newest";
            disk.crash();  // power loss: queued writes torn, then the log's memory is gone too
            log.reset();
            if (flips && random() % 2 == 0) flipped |= !disk.flip_random_bit().empty();
            if (std::string error = reopen(); !error.empty()) return error;
            if (refused) return {};
        }
        // Served records always match what was appended.
        if (log->last_seq() > 0 && dice % 7 == 0) {
            uint64_t seq = 1 + random() % log->last_seq();
            auto record = log->load(seq);
            if (record && record->payload != model.payloads[seq - 1]) return "served a wrong record";
            if (record && model.removed.contains(seq)) return "served a removed record";
            if (record && model.skipped.contains(seq)) return "served a skipped sequence";
            if (record && model.lost.contains(seq)) return "served lost record " + std::to_string(seq);
            if (!record && record.error() == Errc::kNotFound && !model.removed.contains(seq) &&
                !model.lost.contains(seq)) {
                return "live record " + std::to_string(seq) + " not found";
            }
            if (!record && record.error() != Errc::kCorruptRecord && record.error() != Errc::kNotFound) {
                return "load failed unexpectedly";
            }
        }
    }
    disk.crash();
    log.reset();
    std::string error = reopen();
    return error;
}

std::vector<uint64_t> seeds() {
    if (const char* one = std::getenv("RT_SEED")) return {std::strtoull(one, nullptr, 10)};
    uint64_t first = 1;
    uint64_t count = 200;
    if (const char* from = std::getenv("RT_SIM_FIRST")) first = std::strtoull(from, nullptr, 10);
    if (const char* many = std::getenv("RT_SIM_SEEDS")) count = std::strtoull(many, nullptr, 10);
    std::vector<uint64_t> all;
    for (uint64_t seed = first; seed < first + count; ++seed) all.push_back(seed);
    // Seeds past the default range that once found a bug (limits mode): a per-subject drop at
    // open lost when the tail had no room; deletions reported durable early, or never.
    if (std::getenv("RT_SIM_FIRST") == nullptr && std::getenv("RT_SIM_SEEDS") == nullptr) {
        for (uint64_t seed : {2268, 2440, 3976}) all.push_back(seed);
    }
    return all;
}

TEST(StoreSimulation, CrashesNeverLoseAckedRecordsOrServeBadOnes) {
    for (uint64_t seed : seeds()) {
        std::string error = run_seed(seed, Mode::kPlain);
        ASSERT_TRUE(error.empty()) << "seed " << seed << ": " << error << "\nreplay: RT_SEED=" << seed
                                   << " ctest -R store_sim --output-on-failure";
    }
}

TEST(StoreSimulation, BitFlipsLoseOnlyWhatTheyHitNeverServed) {
    for (uint64_t seed : seeds()) {
        std::string error = run_seed(seed, Mode::kFlips);
        ASSERT_TRUE(error.empty()) << "seed " << seed << ": " << error << "\nreplay: RT_SEED=" << seed
                                   << " ctest -R store_sim --output-on-failure";
    }
}

TEST(StoreSimulation, LimitsNeverDropAckedMessagesBeforeTheirReplacementIsDurable) {
    for (uint64_t seed : seeds()) {
        std::string error = run_seed(seed, Mode::kLimits);
        ASSERT_TRUE(error.empty()) << "seed " << seed << ": " << error << "\nreplay: RT_SEED=" << seed
                                   << " ctest -R store_sim --output-on-failure";
    }
}

}  // namespace
}  // namespace ringtail::store
