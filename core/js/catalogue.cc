#include "core/js/catalogue.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "base/hash.h"

namespace ringtail::core::js {

std::string streams_dir(const std::string& store_dir, std::string_view account) {
    return store_dir + "/jetstream/" + std::string(account) + "/streams";
}

uint32_t placement(std::string_view name, uint32_t shard_count) {
    return static_cast<uint32_t>(base::hash64(name.data(), name.size()) % shard_count);
}

uint32_t Catalogue::owner_for(const std::string& name, uint32_t shard_count, uint32_t client_shard,
                              const std::vector<int64_t>& elsewhere) const {
    if (auto it = deleting.find(name); it != deleting.end()) return it->second.owner;
    std::vector<int64_t> owned(shard_count);
    for (uint32_t shard = 0; shard < shard_count && shard < elsewhere.size(); ++shard) owned[shard] = elsewhere[shard];
    for (const auto& [other, entry] : streams) {
        if (entry.owner < shard_count) ++owned[entry.owner];
    }
    int64_t fewest = *std::min_element(owned.begin(), owned.end());
    if (client_shard < shard_count && owned[client_shard] <= fewest + 1) return client_shard;
    uint32_t start = placement(name, shard_count);
    for (uint32_t i = 0;; ++i) {
        uint32_t shard = (start + i) % shard_count;
        if (owned[shard] == fewest) return shard;
    }
}

void Catalogue::delete_started(const std::string& name, uint32_t owner) {
    Deleting& entry = deleting[name];
    entry.owner = owner;  // a create meanwhile went to the same owner (owner_for)
    ++entry.pending;
}

void Catalogue::delete_done(const std::string& name) {
    auto it = deleting.find(name);
    if (it != deleting.end() && --it->second.pending == 0) deleting.erase(it);
}

std::vector<int64_t> Counters::streams_per_shard() const {
    std::vector<int64_t> streams;
    for (const ShardCounters& shard : shards_) streams.push_back(shard.streams.load(std::memory_order_relaxed));
    return streams;
}

int64_t Counters::memory_bytes() const {
    int64_t total = 0;
    for (const ShardCounters& shard : shards_) total += shard.memory_bytes.load(std::memory_order_relaxed);
    return total;
}

int64_t Counters::file_bytes() const {
    int64_t total = 0;
    for (const ShardCounters& shard : shards_) total += shard.file_bytes.load(std::memory_order_relaxed);
    return total;
}

uint64_t Counters::api_total() const {
    uint64_t total = 0;
    for (const ShardCounters& shard : shards_) total += shard.api_total.load(std::memory_order_relaxed);
    return total;
}

uint64_t Counters::api_errors() const {
    uint64_t total = 0;
    for (const ShardCounters& shard : shards_) total += shard.api_errors.load(std::memory_order_relaxed);
    return total;
}

Result<void, Error> load_catalogue(const std::string& store_dir, std::string_view account, uint32_t shard_count,
                                   Catalogue& catalogue) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path root = streams_dir(store_dir, account);
    if (!fs::exists(root, ec)) return {};
    for (const fs::directory_entry& entry : fs::directory_iterator(root, ec)) {
        if (!entry.is_directory()) continue;
        if (entry.path().filename().string().ends_with(kDeletedSuffix)) {
            std::error_code ignored;
            fs::remove_all(entry.path(), ignored);  // a delete a crash interrupted
            continue;
        }
        fs::path meta_path = entry.path() / "meta.json";
        if (!fs::exists(meta_path)) continue;  // a create that crashed before its metadata
        std::ifstream in(meta_path);
        std::stringstream text;
        text << in.rdbuf();
        nlohmann::json meta = nlohmann::json::parse(text.str(), nullptr, false);
        // Metadata that cannot be read makes that one stream unavailable: its files stay as
        // they are, its name stays taken, and every other stream opens.
        auto bad = [&](std::string what) {
            std::string name = entry.path().filename().string();
            StreamEntry& stream = catalogue.streams[name];
            stream.config.name = name;
            stream.owner = placement(name, shard_count);
            stream.unavailable = "stream metadata " + meta_path.string() + what;
        };
        if (meta.is_discarded() || !meta.contains("config")) {
            bad(" is not valid JSON");
            continue;
        }
        auto config = proto::js::parse_stream_config(meta["config"].dump());
        if (!config) {
            bad(": " + config.error().description);
            continue;
        }
        proto::js::StreamCheckOptions options;
        options.recovering = true;
        options.allow_replicas = true;  // an update may have stored more than 1, as nats-server does
        auto checked = proto::js::check_stream_config(std::move(*config), options);
        if (!checked) {
            bad(": " + checked.error().description);
            continue;
        }
        if (checked->name != entry.path().filename().string()) {
            bad(" names another stream");
            continue;
        }
        StreamEntry stream;
        stream.config = std::move(*checked);
        auto created = meta.find("created");
        auto placed = meta.find("shard");
        if (created == meta.end() || !created->is_number_integer() || placed == meta.end() ||
            !placed->is_number_unsigned()) {
            bad(" lacks its creation time or shard");
            continue;
        }
        stream.created_ns = created->get<int64_t>();
        // The shard stated on disk, unless the server now runs fewer shards.
        uint64_t shard = placed->get<uint64_t>();
        stream.owner = shard < shard_count ? static_cast<uint32_t>(shard) : placement(stream.config.name, shard_count);
        stream.ready = true;
        std::string name = stream.config.name;
        catalogue.streams.emplace(std::move(name), std::move(stream));
    }
    if (ec) return fail(Errc::kIo, "reading " + root.string() + ": " + ec.message());
    return {};
}

Result<void, Error> write_meta(const std::string& dir, const proto::js::StreamConfig& config, int64_t created_ns,
                       uint32_t shard) {
    nlohmann::json meta = {{"config", proto::js::to_json(config)}, {"created", created_ns}, {"shard", shard}};
    std::string text = meta.dump(2) + "\n";
    std::string temp = dir + "/meta.json.tmp";
    std::string path = dir + "/meta.json";
    auto failed = [&](const char* what) { return fail_errno(errno, std::string(what) + " " + temp); };
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return failed("open");
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return failed("write");
    if (::rename(temp.c_str(), path.c_str()) != 0) return failed("rename");
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) return failed("open dir");
    ok = ::fsync(dir_fd) == 0;
    ::close(dir_fd);
    if (!ok) return failed("fsync dir");
    return {};
}

}  // namespace ringtail::core::js
