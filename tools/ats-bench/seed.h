// The account ats-bench loads: partner integrations delivering to the
// partner sink, jobs whose stages carry partner triggers, and candidates.
#ifndef ATS_TOOLS_ATS_BENCH_SEED_H_
#define ATS_TOOLS_ATS_BENCH_SEED_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/ats-bench/target.h"
#include "tools/partner-sink/control_client.h"

namespace ats::bench {

using ::ats::partner_sink::SinkControl;
using ::ats::partner_sink::SinkStats;

// Every job's two trigger stages each carry one trigger per integration.
constexpr int kIntegrations = 2;

// The trigger option every bench partner requires, and the values it
// allows.
constexpr char kTestPackageOption[] = "test_package";
constexpr std::array<const char*, 2> kTestPackages = {"java-senior",
                                                      "sql-basics"};

struct SeedOptions {
  int jobs = 4;
  // Candidates created, each with `tag`; with `add_to_jobs`, each is also
  // added (in its first stage, which has no triggers) to a job, round-robin.
  int candidates = 1024;
  bool add_to_jobs = true;
  std::string tag;
  // Calls in flight while creating candidates.
  int in_flight = 64;
};

struct Application {
  std::string name;  // jobs/{job}/applications/{candidate}
  int job = 0;       // index into Seeded::jobs
};

struct Seeded {
  std::string recruiter_key;
  std::vector<std::string> integrations;
  std::vector<std::string> jobs;
  // For each job, its two stages carrying the partner triggers.
  std::vector<std::array<std::string, 2>> trigger_stages;
  std::vector<std::string> candidates;
  std::vector<Application> applications;
};

// Seeds the default account of `target` as described above; the sink learns
// the integrations' signing secrets.
absl::StatusOr<Seeded> Seed(const Target& target, const SinkControl& sink,
                            const SeedOptions& options);

// Lists a partner whose webhooks go to `path` of the sink, with the
// trigger option `test_package` (java-senior or sql-basics) required, and
// activates it for the default account; the sink learns its signing secret.
// Returns the integration's name.
absl::StatusOr<std::string> CreateIntegration(const Target& target,
                                              const SinkControl& sink,
                                              int index,
                                              const std::string& path);

// Where every command starts: its target, opened and seeded, and the
// client of the target's sink.
struct SeededTarget {
  std::unique_ptr<Target> target;
  SinkControl sink;
  Seeded seeded;
  // How long Seed took.
  absl::Duration seed_time;
};

// Opens the target of `target_options` and seeds it with `seed_options`.
absl::StatusOr<SeededTarget> OpenSeeded(const TargetOptions& target_options,
                                        const SeedOptions& seed_options);

}  // namespace ats::bench

#endif  // ATS_TOOLS_ATS_BENCH_SEED_H_
