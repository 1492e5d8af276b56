// ats-server: the ATS Trigger Service.

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "server/bootstrap.h"
#include "server/common/logging.h"
#include "server/contract/errors.h"
#include "server/contract/private_files.h"
#include "server/delivery/dispatcher.h"
#include "server/server.h"
#include "server/server_metrics.h"
#include "spdlog/spdlog.h"
#include "storage/files.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on (port 0 picks a free port)");
ABSL_FLAG(std::string, db, "var/ats.db",
          "SQLite database file, or a PostgreSQL libpq URI "
          "(postgresql://user@host:port/db?sslmode=...) that every replica "
          "of a deployment shares; with PostgreSQL the files named after "
          "the database below are named as for var/ats.db");
ABSL_FLAG(std::string, key_dir, "",
          "where the first start writes the API key files, named after the "
          "database (ats.operator.key and ats.admin.key for --db=var/ats.db); "
          "an existing file is never replaced (default: the database's "
          "directory)");
ABSL_FLAG(std::string, secrets_key_file, "",
          "32-byte master key that seals stored secrets (signing secrets, "
          "activation values); created 0600 on first start. Keep it, and "
          "back it up apart from the database (default: beside the "
          "database, ats.secrets.key for --db=var/ats.db)");
ABSL_FLAG(std::vector<std::string>, secrets_old_key_files, {},
          "comma-separated earlier --secrets_key_file keys, to rotate: "
          "values sealed under them are re-sealed under --secrets_key_file "
          "at start");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; enables TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int, max_message_bytes, 4 * 1024 * 1024,
          "largest request or response message");
ABSL_FLAG(std::string, log_level, "info",
          "trace, debug, info, warn, error or off");
ABSL_FLAG(std::string, log_format, "text",
          "text (one line per record, for people) or json (one JSON object "
          "per line: time, level, msg, and a call's fields)");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "on SIGINT/SIGTERM, how long calls in flight may finish (then "
          "deliveries under way get as long again)");
ABSL_FLAG(absl::Duration, trigger_form_cache_ttl, absl::Seconds(60),
          "how long a partner's trigger form, once fetched from its config "
          "endpoint, serves the triggers of a stage without asking again; "
          "0 asks every time");
ABSL_FLAG(std::string, sqlite_synchronous, "normal",
          "normal (WAL synced at checkpoints: a power loss may drop the "
          "last commits) or full (every commit synced)");
ABSL_FLAG(bool, dispatch, true,
          "deliver events to partners; --dispatch=false only records them "
          "(another server on the same database may deliver)");
ABSL_FLAG(int, db_connections, 16,
          "PostgreSQL: connections this replica opens at most, up to four "
          "for its writes (committed in batches, one at a time per write "
          "lane across every replica, different lanes at once), one for its "
          "dispatcher's claims (one claim at a time across every replica) "
          "and the rest for reads");
ABSL_FLAG(int, dispatch_in_flight, 256,
          "deliveries under way at once (claimed, not yet answered: "
          "concurrent HTTP requests, all on one delivery thread) beyond each "
          "destination's first: a destination with nothing under way can "
          "always start one");
ABSL_FLAG(int, dispatch_per_destination, 128,
          "most deliveries under way at once to one destination (an "
          "integration, or one account's webhook host); a destination earns "
          "them by answering, starting from one");
ABSL_FLAG(int, dispatch_claim_batch, 32,
          "most due events claimed (and leased) by one write");
ABSL_FLAG(std::string, retry_schedule, "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h",
          "comma-separated waits before each delivery attempt (the first "
          "entry stands for the first attempt, made when the event is due); "
          "after the last attempt fails the event is DEAD. Each wait gets "
          "+/-10% jitter");
ABSL_FLAG(absl::Duration, delivery_timeout, absl::Seconds(15),
          "longest one delivery attempt may take, connecting included");
ABSL_FLAG(absl::Duration, delivery_connect_timeout, absl::Seconds(5),
          "longest wait for a partner's TCP/TLS connection");
ABSL_FLAG(absl::Duration, dispatch_lease, absl::Seconds(60),
          "how long a claimed delivery is reserved: one not finished by then "
          "(the server died) is sent again; must exceed --delivery_timeout");
ABSL_FLAG(absl::Duration, auto_disable_after, absl::Hours(5 * 24),
          "disable an integration's endpoint once every delivery to it has "
          "failed for this long (with at least --auto_disable_min_failures "
          "attempts), as a 410 answer does; 0 never disables");
ABSL_FLAG(int, auto_disable_min_failures, 10,
          "failed attempts an endpoint needs, besides --auto_disable_after, "
          "to be disabled");
ABSL_FLAG(std::string, allowed_destination_networks, "",
          "comma-separated CIDR blocks webhooks may go to besides public "
          "addresses, e.g. 127.0.0.0/8,::1/128 for a partner on this host; "
          "loopback, private, link-local and other special-purpose "
          "addresses are refused unless listed");
ABSL_FLAG(double, rate_limit, 500,
          "calls per second each API key may make, sustained; a key over it "
          "gets RESOURCE_EXHAUSTED with the time to wait (0 turns the limit "
          "off)");
ABSL_FLAG(int, rate_burst, 1000,
          "calls an API key may make at once after being idle, above "
          "--rate_limit");
ABSL_FLAG(int, auth_failure_limit, 30,
          "failed authentications a client address may make per minute; "
          "past that its calls are refused (whatever key they carry) until "
          "the next attempt is allowed, every 60/N seconds (0 turns the "
          "limit off)");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port to serve Prometheus metrics on, over HTTP at /metrics "
          "(e.g. 127.0.0.1:9464); empty (the default) serves none and "
          "counts nothing. The metrics need no key: listen on an address "
          "only your monitoring can reach");
ABSL_FLAG(int, metrics_integration_labels, 50,
          "integrations that get a label of their own in the event and "
          "delivery metrics (0 to 1000): the first to have events or "
          "deliveries since the start; later ones share "
          "integration=\"other\"");
ABSL_FLAG(int, bulk_batch_size, 1000,
          "candidates (or dead events) a bulk trigger (or recover) handles "
          "per write transaction (1 to 10000): larger batches finish sooner, "
          "smaller ones hold the write lock for less time");

namespace {

int Fail(const absl::Status& status) {
  spdlog::critical("{}", ats::server::LogText(status));
  return 1;
}

// Warns about the files only this service should read that others can.
void WarnAboutOpenFiles(const std::vector<std::string>& paths) {
  for (const std::string& open : ats::server::OpenToOthers(paths)) {
    spdlog::warn("{} is readable or writable by other users; it holds the "
                 "service's data or keys: chmod 600 it",
                 open);
  }
}

// Whether `file` defines flags that --help lists: this file's. absl's
// default looks for a file named after the program (ats-server.cc), which
// does not exist, and then lists nothing. (absl hands over the path with
// its leading slashes removed, so it is matched by its end.)
bool IsServerFlagFile(absl::string_view file) {
  return absl::EndsWith(file, "server/main.cc");
}

// Names this file in --help by its path in the repository, not the build
// machine's.
std::string FlagFileName(absl::string_view file) {
  return IsServerFlagFile(file) ? "server/main.cc" : std::string(file);
}

// Raises the limit on open files to the most the system allows: every
// destination with work may hold a connection (its first delivery is
// outside the pool), beside the clients' connections and the database's
// files.
// Whether --db names a PostgreSQL database rather than a SQLite file.
bool IsPostgresUri(absl::string_view db) {
  return absl::StartsWith(db, "postgresql://") ||
         absl::StartsWith(db, "postgres://");
}

// Returns libpq URI `uri` with any password (`user:PASSWORD@host`, or a
// `password=` parameter) replaced by "***", for the log.
std::string RedactedUri(std::string uri) {
  const size_t scheme_end = uri.find("://") + 3;
  const size_t at = uri.find('@', scheme_end);
  const size_t colon = uri.find(':', scheme_end);
  if (at != std::string::npos && colon != std::string::npos && colon < at) {
    uri.replace(colon + 1, at - colon - 1, "***");
  }
  const size_t query = uri.find('?');
  if (query == std::string::npos) return uri;
  for (size_t key = uri.find("password=", query); key != std::string::npos;
       key = uri.find("password=", key + 1)) {
    if (uri[key - 1] != '?' && uri[key - 1] != '&') continue;
    const size_t value = key + std::string("password=").size();
    const size_t end = uri.find('&', value);
    uri.replace(value, (end == std::string::npos ? uri.size() : end) - value,
                "***");
  }
  return uri;
}

void RaiseOpenFileLimit() {
  struct rlimit limit;
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 ||
      limit.rlim_cur >= limit.rlim_max) {
    return;
  }
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot raise the open file limit from {}", before);
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Everything the server creates (database, WAL, key files, directories)
  // is for its own user only.
  ::umask(077);
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = IsServerFlagFile;
  usage.contains_helpshort_flags = IsServerFlagFile;
  usage.normalize_filename = FlagFileName;
  usage.version_string = [] {
    return std::string("ats-server ") + ATS_VERSION + "\n";
  };
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "Serves the ATS Trigger Service (gRPC) until SIGINT or SIGTERM.\n\n"
      "Every flag is checked before anything is written: bad flags exit with "
      "code 2 and leave no file behind.");
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with deadlock detection on, which records every
  // lock order in a global graph: a cost on each lock of the hot paths. Our
  // lock orders are fixed by design and covered by the thread annotations.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  spdlog::level::level_enum level =
      spdlog::level::from_str(absl::GetFlag(FLAGS_log_level));
  if (level == spdlog::level::off && absl::GetFlag(FLAGS_log_level) != "off") {
    std::fprintf(stderr, "unknown --log_level %s\n",
                 absl::GetFlag(FLAGS_log_level).c_str());
    return 2;
  }
  spdlog::set_level(level);
  auto log_format =
      ats::server::ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!log_format.ok()) {
    std::fprintf(stderr, "--log_format %s\n",
                 std::string(log_format.status().message()).c_str());
    return 2;
  }
  ats::server::SetLogFormat(*log_format);
  const std::string synchronous = absl::GetFlag(FLAGS_sqlite_synchronous);
  if (synchronous != "normal" && synchronous != "full") {
    std::fprintf(stderr, "--sqlite_synchronous must be normal or full\n");
    return 2;
  }

  auto retry_schedule =
      ats::server::ParseRetrySchedule(absl::GetFlag(FLAGS_retry_schedule));
  if (!retry_schedule.ok()) {
    std::fprintf(stderr, "--retry_schedule: %s\n",
                 std::string(retry_schedule.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_db_connections) < 3 ||
      absl::GetFlag(FLAGS_db_connections) > 1000) {
    std::fprintf(stderr, "--db_connections must be 3 to 1000\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_dispatch_in_flight) < 1 ||
      absl::GetFlag(FLAGS_dispatch_per_destination) < 1 ||
      absl::GetFlag(FLAGS_dispatch_claim_batch) < 1) {
    std::fprintf(stderr,
                 "--dispatch_in_flight, --dispatch_per_destination and "
                 "--dispatch_claim_batch must be at least 1\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_bulk_batch_size) < 1 ||
      absl::GetFlag(FLAGS_bulk_batch_size) > 10000) {
    std::fprintf(stderr, "--bulk_batch_size must be 1 to 10000\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_metrics_integration_labels) < 0 ||
      absl::GetFlag(FLAGS_metrics_integration_labels) > 1000) {
    std::fprintf(stderr, "--metrics_integration_labels must be 0 to 1000\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_delivery_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_delivery_connect_timeout) <= absl::ZeroDuration()) {
    std::fprintf(stderr,
                 "--delivery_timeout and --delivery_connect_timeout must be "
                 "positive\n");
    return 2;
  }
  auto destinations = ats::server::DestinationPolicy::Parse(
      absl::GetFlag(FLAGS_allowed_destination_networks));
  if (!destinations.ok()) {
    std::fprintf(stderr, "--allowed_destination_networks: %s\n",
                 std::string(destinations.status().message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_dispatch_lease) <=
      absl::GetFlag(FLAGS_delivery_timeout)) {
    std::fprintf(stderr,
                 "--dispatch_lease (%s) must exceed --delivery_timeout (%s): "
                 "a delivery still under way when its lease expires may be "
                 "sent twice\n",
                 absl::FormatDuration(absl::GetFlag(FLAGS_dispatch_lease))
                     .c_str(),
                 absl::FormatDuration(absl::GetFlag(FLAGS_delivery_timeout))
                     .c_str());
    return 2;
  }

  ats::server::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls_cert_path = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_path = absl::GetFlag(FLAGS_tls_key);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  options.dispatch = absl::GetFlag(FLAGS_dispatch);
  options.trigger_form_cache_ttl = absl::GetFlag(FLAGS_trigger_form_cache_ttl);
  options.dispatcher.max_in_flight = absl::GetFlag(FLAGS_dispatch_in_flight);
  options.dispatcher.max_in_flight_per_destination =
      absl::GetFlag(FLAGS_dispatch_per_destination);
  options.dispatcher.claim_batch = absl::GetFlag(FLAGS_dispatch_claim_batch);
  options.dispatcher.lease = absl::GetFlag(FLAGS_dispatch_lease);
  options.dispatcher.retry_schedule = *retry_schedule;
  options.dispatcher.auto_disable_after =
      absl::GetFlag(FLAGS_auto_disable_after);
  options.dispatcher.auto_disable_min_failures =
      absl::GetFlag(FLAGS_auto_disable_min_failures);
  // Deliveries under way at shutdown get the same grace as calls.
  options.dispatcher.stop_grace = options.shutdown_grace;
  options.bulk.batch_size = absl::GetFlag(FLAGS_bulk_batch_size);
  options.delivery.total_timeout = absl::GetFlag(FLAGS_delivery_timeout);
  options.delivery.connect_timeout =
      absl::GetFlag(FLAGS_delivery_connect_timeout);
  options.destinations = *std::move(destinations);
  options.limits.key_calls_per_second = absl::GetFlag(FLAGS_rate_limit);
  options.limits.key_burst = absl::GetFlag(FLAGS_rate_burst);
  options.limits.auth_failures_per_minute =
      absl::GetFlag(FLAGS_auth_failure_limit);
  options.metrics_listen_address = absl::GetFlag(FLAGS_metrics_listen);
  // Made before the store, which reports to it.
  ats::server::SystemClock clock;
  std::unique_ptr<ats::server::ServerMetrics> metrics;
  if (!options.metrics_listen_address.empty()) {
    metrics = std::make_unique<ats::server::ServerMetrics>(
        clock, absl::GetFlag(FLAGS_metrics_integration_labels));
    options.metrics = metrics.get();
  }
  // Checked before the database is opened: bad flags leave no file behind.
  absl::Status valid = ats::server::ValidateServerOptions(options);
  if (!valid.ok()) {
    std::fprintf(stderr, "%s\n", std::string(valid.message()).c_str());
    return 2;
  }

  RaiseOpenFileLimit();

  // Signals are taken by one thread with sigwait, so block them everywhere
  // before any other thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const std::string db = absl::GetFlag(FLAGS_db);
  const bool postgres = IsPostgresUri(db);
  options.dispatcher.store_shared = postgres;
  // The files a SQLite database keeps beside it (API keys, the secrets key)
  // are named after it; a PostgreSQL deployment keeps them where a SQLite
  // database at var/ats.db would.
  const std::string files_named_after = postgres ? "var/ats.db" : db;
  ats::storage::SqliteStoreOptions store_options;
  store_options.path = files_named_after;
  store_options.synchronous_full = synchronous == "full";
  store_options.secrets_key_file = absl::GetFlag(FLAGS_secrets_key_file);
  store_options.secrets_old_key_files =
      absl::GetFlag(FLAGS_secrets_old_key_files);
  if (metrics != nullptr) store_options.observer = metrics->StoreObserver();
  absl::StatusOr<std::unique_ptr<ats::storage::Store>> store;
  if (postgres) {
    ats::storage::PostgresStoreOptions postgres_options;
    postgres_options.uri = db;
    postgres_options.secrets_key_file =
        ats::storage::SecretsKeyFileOf(store_options);
    absl::Status key_directory = ats::storage::CreatePrivateDirectories(
        std::filesystem::path(postgres_options.secrets_key_file)
            .parent_path()
            .string());
    if (!key_directory.ok()) return Fail(key_directory);
    postgres_options.secrets_old_key_files =
        store_options.secrets_old_key_files;
    postgres_options.connections = absl::GetFlag(FLAGS_db_connections);
    postgres_options.observer = store_options.observer;
    store = ats::storage::OpenPostgresStore(postgres_options);
  } else {
    store = ats::storage::OpenSqliteStore(store_options);
  }
  if (!store.ok()) return Fail(store.status());

  ats::server::SecureRandom random;
  const ats::server::KeyFiles key_files = ats::server::KeyFilesOf(
      store_options.path, absl::GetFlag(FLAGS_key_dir));
  auto bootstrap =
      ats::server::BootstrapIfEmpty(**store, clock, random, key_files);
  if (!bootstrap.ok()) return Fail(bootstrap.status());
  if (*bootstrap) {
    spdlog::info("first start: operator key written to {}, admin key of the "
                 "default account written to {}",
                 key_files.operator_key, key_files.admin_key);
  }
  std::vector<std::string> private_files =
      postgres ? std::vector<std::string>()
               : ats::storage::DatabaseFiles(store_options.path);
  private_files.push_back(ats::storage::SecretsKeyFileOf(store_options));
  for (const std::string& path : store_options.secrets_old_key_files) {
    private_files.push_back(path);
  }
  private_files.push_back(key_files.operator_key);
  private_files.push_back(key_files.admin_key);
  WarnAboutOpenFiles(private_files);

  auto server =
      ats::server::AtsServer::Start(options, **store, clock, random);
  if (!server.ok()) return Fail(server.status());
  spdlog::info("ats-server listening on {} (port {}), database {}",
               options.listen_address, (*server)->port(),
               postgres ? RedactedUri(db) : db);
  if (metrics != nullptr) {
    spdlog::info(
        "metrics on {} (port {}), path /metrics; {} integrations "
        "labelled",
        options.metrics_listen_address, (*server)->metrics_port(),
        metrics->integration_labels());
  }
  if (options.dispatch) {
    spdlog::info("delivering events: {} at once beyond each destination's "
                 "first, up to {} per destination, "
                 "{} attempts, lease {}",
                 options.dispatcher.max_in_flight,
                 options.dispatcher.max_in_flight_per_destination,
                 options.dispatcher.retry_schedule.size(),
                 absl::FormatDuration(options.dispatcher.lease));
  } else {
    spdlog::info("not delivering events (--dispatch=false)");
  }
  if (!options.destinations.allowed().empty()) {
    spdlog::info(
        "webhooks may go to {} besides public addresses "
        "(--allowed_destination_networks)",
        absl::StrJoin(options.destinations.allowed(), ", ",
                      [](std::string* out,
                         const ats::server::IpNetwork& network) {
                        out->append(network.ToString());
                      }));
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received {}, shutting down (grace {})",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM",
               absl::FormatDuration(options.shutdown_grace));
  (*server)->Shutdown();
  server->reset();
  store->reset();
  spdlog::info("stopped");
  return 0;
}
