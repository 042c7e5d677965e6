#pragma once

#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/harness/options.h"
#include "bench/harness/result.h"
#include "bench/harness/runtime.h"

namespace ringtail::bench {

// Sets up and drives one run: opens connections, spreads the endpoints round-robin over
// --threads workers (pinned per --cpus), releases them together at the epoch, shows the
// progress line, and stops a run that overstays its time bounds.
// Owner: the calling thread; the endpoints belong to the workers between start and join.
class Runner {
 public:
    explicit Runner(const Options& options);

    RunControl& control() { return control_; }
    const Options& options() const { return options_; }

    [[nodiscard]] Expected<std::unique_ptr<Connection>> connect(const std::string& name);
    // As connect(), to --responder-url when it is given.
    [[nodiscard]] Expected<std::unique_ptr<Connection>> connect_responder(const std::string& name);

    // State the endpoints share (a FlowBoard, a counter), owned by the runner and destroyed
    // after the endpoints.
    template <class T, class... Args>
    T& hold(Args&&... args) {
        auto state = std::make_shared<T>(std::forward<Args>(args)...);
        T& ref = *state;
        shared_state_.push_back(std::move(state));
        return ref;
    }

    template <class E, class... Args>
    E* add(Args&&... args) {
        auto endpoint = std::make_unique<E>(std::forward<Args>(args)...);
        E* raw = endpoint.get();
        endpoints_.push_back(std::move(endpoint));
        return raw;
    }

    // Runs until every endpoint is done or the run aborts.
    void execute();
    double elapsed_s() const { return elapsed_s_; }
    // Seconds from the epoch to a steady-clock time (0 when the time is unset).
    double seconds_since_epoch(uint64_t ns) const;

 private:
    void show_progress(uint64_t now_ns, bool final_line);

    Options options_;
    ServerUrl url_;
    ServerUrl responder_url_;
    RunControl control_;
    std::vector<std::shared_ptr<void>> shared_state_;  // declared first: outlives endpoints_
    std::vector<std::unique_ptr<Endpoint>> endpoints_;
    double elapsed_s_ = 0;
    bool progress_shown_ = false;
    uint64_t last_sent_ = 0;
    uint64_t last_received_ = 0;
    uint64_t last_progress_ns_ = 0;
};

// Runs one scenario as the options say, against options.url. Never throws; every failure
// is in the result.
RunResult run_scenario(Options options);

// The server behind `url`, from its INFO.
Expected<ServerIdentity> probe_server(const Options& options);

// What the scenario bodies share.
// Client i's share of `count` over `parts` clients, spread as evenly as integers allow.
uint64_t share(uint64_t count, uint64_t parts, uint64_t i);
// User and system time in `usage`, in seconds.
double cpu_seconds(const rusage& usage);
// Marks the run failed; the first failure's message is the one kept.
void fail_run(RunResult& result, const std::string& message);
// A note on what a JetStream run's PubAck means on the server that ran it (its durability).
void note_durability(RunResult& result);
// Connects, subscribes and waits for the PONG, so that the interest is in place on every
// shard before any publisher starts (or a reply subject has somewhere to go). A `responder`
// connects to --responder-url when it is given.
[[nodiscard]] Expected<std::unique_ptr<Connection>> subscribed(Runner& runner,
                                                               const std::string& name,
                                                               const std::string& subject,
                                                               const std::string& queue,
                                                               const std::string& sid,
                                                               bool responder = false);

// Scenario bodies (scenarios_core.cc, scenarios_js.cc). `result` arrives with options and
// server filled in.
void run_core(Runner& runner, RunResult& result);
void run_reqrep(Runner& runner, RunResult& result);
void run_js_pub(Runner& runner, RunResult& result);
void run_js_consumption(Runner& runner, RunResult& result);  // js-consume, js-push
void run_kv(Runner& runner, RunResult& result);

}  // namespace ringtail::bench
