// StreamLog against a simple in-memory model, on random operation sequences: appends on a
// few subjects, removes, every purge form, expiry and random limits; after each operation
// the state and every record must agree with the model, and so after a clean reopen (which
// replays tombstones and re-applies the limits).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "base/subject_match.h"
#include "store/stream_log.h"
#include "tests/support/sim_disk.h"

namespace ringtail::store {
namespace {

struct Msg {
    std::string subject;
    std::string payload;
    int64_t timestamp_ns;
};

class Model {
public:
    explicit Model(StoreLimits limits) : limits_(limits) {}

    // Mirrors StreamLog::append: returns false when the log must refuse.
    bool append(const Msg& msg) {
        uint64_t bytes = size_of(msg);
        if (limits_.max_msg_size >= 0 && static_cast<int64_t>(msg.payload.size()) > limits_.max_msg_size) return false;
        if (limits_.discard_new && ((limits_.max_msgs >= 0 && static_cast<int64_t>(live_.size()) + 1 > limits_.max_msgs) ||
                                    (limits_.max_bytes >= 0 && static_cast<int64_t>(bytes_ + bytes) > limits_.max_bytes))) {
            return false;
        }
        live_[++last_] = msg;
        bytes_ += bytes;
        trim(msg.subject);
        return true;
    }
    void trim(const std::string& subject) {
        if (limits_.max_msgs_per_subject > 0) {
            int64_t count = 0;
            for (auto& [seq, m] : live_) count += m.subject == subject;
            for (auto it = live_.begin(); it != live_.end() && count > limits_.max_msgs_per_subject;) {
                if (it->second.subject == subject) {
                    bytes_ -= size_of(it->second);
                    it = live_.erase(it);
                    --count;
                } else {
                    ++it;
                }
            }
        }
        if (limits_.discard_new) return;
        while (limits_.max_msgs >= 0 && static_cast<int64_t>(live_.size()) > limits_.max_msgs) erase_first();
        while (limits_.max_bytes >= 0 && static_cast<int64_t>(bytes_) > limits_.max_bytes) erase_first();
    }
    void erase_first() { erase(live_.begin()->first); }
    void erase(uint64_t seq) {
        bytes_ -= size_of(live_.at(seq));
        live_.erase(seq);
    }
    static uint64_t size_of(const Msg& msg) { return record_bytes(msg.subject.size(), 0, msg.payload.size()); }

    std::map<uint64_t, Msg> live_;
    uint64_t last_ = 0;
    uint64_t bytes_ = 0;
    StoreLimits limits_;
};

std::string check(const StreamLog& log, const Model& model) {
    StoreState state = log.state();
    if (state.msgs != model.live_.size()) return "msgs " + std::to_string(state.msgs) + " != " + std::to_string(model.live_.size());
    if (state.bytes != model.bytes_) return "bytes differ";
    if (state.last_seq != model.last_) return "last_seq differs";
    uint64_t first = model.live_.empty() ? model.last_ + 1 : model.live_.begin()->first;
    if (state.first_seq != first) return "first_seq " + std::to_string(state.first_seq) + " != " + std::to_string(first);
    std::map<std::string, uint64_t> last_by_subject;
    for (uint64_t seq = 1; seq <= model.last_; ++seq) {
        auto record = log.load(seq);
        auto it = model.live_.find(seq);
        if (it == model.live_.end()) {
            if (record) return "seq " + std::to_string(seq) + " should be gone";
            continue;
        }
        if (!record) return "seq " + std::to_string(seq) + " missing";
        if (record->payload != it->second.payload || record->subject != it->second.subject) return "content differs";
        last_by_subject[it->second.subject] = seq;
    }
    if (state.num_subjects != last_by_subject.size()) return "num_subjects differs";
    for (auto& [subject, seq] : last_by_subject) {
        auto last = log.load_last(subject);
        if (!last || last->seq != seq) return "load_last(" + subject + ") wrong";
    }
    return {};
}

TEST(StreamLogModel, RandomOperationsAgreeWithTheModelAcrossReopens) {
    for (uint64_t seed = 1; seed <= 60; ++seed) {
        std::mt19937_64 random(seed);
        test::SimDisk disk(seed);
        StreamLogOptions options;
        options.dir = "/m";
        options.segment_bytes = 32 * 1024;
        options.flush_bytes_max = 8 * 1024;
        options.tail_bytes_max = 64 * 1024;
        StoreLimits& limits = options.limits;
        if (random() % 2) limits.max_msgs = static_cast<int64_t>(5 + random() % 40);
        if (random() % 3 == 0) limits.max_bytes = static_cast<int64_t>(2000 + random() % 8000);
        if (random() % 3 == 0) limits.max_msgs_per_subject = static_cast<int64_t>(1 + random() % 3);
        if (random() % 4 == 0) limits.max_msg_size = 150;
        if (random() % 4 == 0) limits.discard_new = true;
        limits.max_age_ns = 50;
        Model model(limits);
        auto opened = StreamLog::open(disk, options, nullptr);
        ASSERT_TRUE(opened);
        auto log = std::move(*opened);
        const char* subjects[] = {"kv.a", "kv.b", "kv.c", "orders.new", "orders.old"};
        int64_t now = 0;
        for (int step = 0; step < 400; ++step) {
            uint64_t dice = random() % 100;
            std::string what;
            if (dice < 50) {
                Msg msg{subjects[random() % 5], std::string(random() % 200, 'x'), ++now};
                msg.payload += std::to_string(step);
                auto seq = log->append(msg.subject, "", msg.payload, msg.timestamp_ns);
                for (int turn = 0; turn < 10 && !seq && seq.error() == Errc::kBusy; ++turn) {
                    // A roll waits for the full segment to be on disk: let the writes complete.
                    log->flush();
                    disk.complete();
                    seq = log->append(msg.subject, "", msg.payload, msg.timestamp_ns);
                }
                bool accepted = model.append(msg);
                if (seq.has_value() != accepted) {
                    if (!seq && seq.error() == Errc::kBusy) {
                        // Not the model's business: undo its view and flush.
                        model = Model(limits);  // cannot happen with these sizes; fail loudly
                        FAIL() << "seed " << seed << " unexpected kBusy";
                    }
                    FAIL() << "seed " << seed << " step " << step << ": append accepted=" << seq.has_value();
                }
                what = "append";
            } else if (dice < 62 && !model.live_.empty()) {
                auto it = model.live_.begin();
                std::advance(it, static_cast<long>(random() % model.live_.size()));
                uint64_t seq = it->first;
                auto removed = log->remove(seq);
                for (int turn = 0; turn < 10 && !removed && removed.error() == Errc::kBusy; ++turn) {
                    log->flush();  // its tombstone waits for a roll, which waits for the writes
                    disk.complete();
                    removed = log->remove(seq);
                }
                ASSERT_TRUE(removed) << seed;
                model.erase(seq);
                EXPECT_EQ(log->remove(seq).error(), Errc::kNotFound);
                what = "remove";
            } else if (dice < 70) {
                PurgeRequest request;
                int form = static_cast<int>(random() % 4);
                if (form == 1) request.up_to_seq = 1 + random() % (model.last_ + 2);
                if (form == 2) request.keep = random() % 5;
                if (form == 3) {
                    request.subject = random() % 2 ? "kv.*" : subjects[random() % 5];
                    if (random() % 2) request.keep = random() % 3;
                }
                auto purged = log->purge(request);
                for (int turn = 0; turn < 10 && !purged && purged.error() == Errc::kBusy; ++turn) {
                    log->flush();
                    disk.complete();
                    purged = log->purge(request);
                }
                ASSERT_TRUE(purged) << seed;
                std::vector<uint64_t> chosen;
                for (auto& [seq, msg] : model.live_) {
                    if (request.up_to_seq > 0 && seq >= request.up_to_seq) continue;
                    if (!request.subject.empty() && !base::subject_matches(request.subject, msg.subject)) continue;
                    chosen.push_back(seq);
                }
                chosen.resize(chosen.size() - std::min<size_t>(request.keep, chosen.size()));
                for (uint64_t seq : chosen) model.erase(seq);
                ASSERT_EQ(*purged, chosen.size()) << "seed " << seed << " step " << step;
                what = "purge";
            } else if (dice < 74) {
                now += 30;
                uint64_t expired = log->expire(now);
                uint64_t expected = 0;
                while (!model.live_.empty() && model.live_.begin()->second.timestamp_ns <= now - limits.max_age_ns) {
                    model.erase_first();
                    ++expected;
                }
                ASSERT_EQ(expired, expected) << seed;
                what = "expire";
            } else if (dice < 78) {
                log->flush();
                disk.complete();
                auto compacted = log->compact(2);
                ASSERT_TRUE(compacted) << seed << ": " << errc_text(compacted.error());
                what = "compact";
            } else if (dice < 92) {
                log->flush();
                disk.complete();
                what = "flush";
            } else {
                log->flush();
                disk.complete();
                log->flush();
                disk.complete();
                log.reset();
                auto reopened = StreamLog::open(disk, options, nullptr);
                ASSERT_TRUE(reopened) << seed;
                log = std::move(*reopened);
                // A stream applies max_age at once after opening (it is derived from time).
                log->expire(now);
                while (!model.live_.empty() && model.live_.begin()->second.timestamp_ns <= now - limits.max_age_ns) {
                    model.erase_first();
                }
                what = "reopen";
            }
            if (std::getenv("RT_MODEL_TRACE")) {
                std::fprintf(stderr, "seed %llu step %d %s -> msgs %llu first %llu last %llu\n",
                             static_cast<unsigned long long>(seed), step, what.c_str(),
                             static_cast<unsigned long long>(log->state().msgs),
                             static_cast<unsigned long long>(log->state().first_seq),
                             static_cast<unsigned long long>(log->state().last_seq));
            }
            std::string error = check(*log, model);
            ASSERT_TRUE(error.empty()) << "seed " << seed << " step " << step << " after " << what << ": " << error;
        }
    }
}

TEST(StreamLogModel, NextSeqFollowsFiltersAndSkipsDeleted) {
    test::SimDisk disk(1);
    StreamLogOptions options = test::small_log_options("/n");
    auto log = std::move(*StreamLog::open(disk, options, nullptr));
    for (const char* subject : {"a.1", "b.1", "a.2", "b.2", "a.1"}) ASSERT_TRUE(log->append(subject, "", "x", 0));
    EXPECT_EQ(*log->next_seq(1, ""), 1u);
    EXPECT_EQ(*log->next_seq(2, "a.*"), 3u);
    EXPECT_EQ(*log->next_seq(1, "b.>"), 2u);
    EXPECT_EQ(*log->next_seq(2, "a.1"), 5u);
    ASSERT_TRUE(log->remove(3));
    EXPECT_EQ(*log->next_seq(2, "a.*"), 5u);
    EXPECT_EQ(log->next_seq(6, "").error(), Errc::kNotFound);
    EXPECT_EQ(log->next_seq(1, "c.*").error(), Errc::kNotFound);
}

}  // namespace
}  // namespace ringtail::store
