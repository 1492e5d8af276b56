// ats-server: the ATS Trigger Service.

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "server/bootstrap.h"
#include "server/server.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "host:port to serve gRPC on (port 0 picks a free port)");
ABSL_FLAG(std::string, db, "var/ats.db", "SQLite database file");
ABSL_FLAG(std::string, key_dir, "",
          "where the first start writes operator.key and admin.key "
          "(default: the database's directory)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain; enables TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls_cert");
ABSL_FLAG(int, max_message_bytes, 4 * 1024 * 1024,
          "largest request or response message");
ABSL_FLAG(std::string, log_level, "info",
          "trace, debug, info, warn, error or off");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(10),
          "on SIGINT/SIGTERM, how long calls in flight may finish");
ABSL_FLAG(std::string, sqlite_synchronous, "normal",
          "normal (WAL synced at checkpoints: a power loss may drop the "
          "last commits) or full (every commit synced)");

namespace {

int Fail(const absl::Status& status) {
  spdlog::critical("{}", status.ToString());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the ATS Trigger Service (gRPC) until SIGINT or SIGTERM.");
  absl::ParseCommandLine(argc, argv);

  spdlog::level::level_enum level =
      spdlog::level::from_str(absl::GetFlag(FLAGS_log_level));
  if (level == spdlog::level::off && absl::GetFlag(FLAGS_log_level) != "off") {
    std::fprintf(stderr, "unknown --log_level %s\n",
                 absl::GetFlag(FLAGS_log_level).c_str());
    return 2;
  }
  spdlog::set_level(level);
  const std::string synchronous = absl::GetFlag(FLAGS_sqlite_synchronous);
  if (synchronous != "normal" && synchronous != "full") {
    std::fprintf(stderr, "--sqlite_synchronous must be normal or full\n");
    return 2;
  }

  // Signals are taken by one thread with sigwait, so block them everywhere
  // before any other thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ats::storage::SqliteStoreOptions store_options;
  store_options.path = absl::GetFlag(FLAGS_db);
  store_options.synchronous_full = synchronous == "full";
  auto store = ats::storage::OpenSqliteStore(store_options);
  if (!store.ok()) return Fail(store.status());

  ats::server::SystemClock clock;
  ats::server::SecureRandom random;
  std::string key_dir = absl::GetFlag(FLAGS_key_dir);
  if (key_dir.empty()) {
    key_dir = std::filesystem::path(store_options.path).parent_path().string();
    if (key_dir.empty()) key_dir = ".";
  }
  auto bootstrap =
      ats::server::BootstrapIfEmpty(**store, clock, random, key_dir);
  if (!bootstrap.ok()) return Fail(bootstrap.status());
  if (bootstrap->created) {
    spdlog::info("first start: operator key written to {}, admin key of the "
                 "default account written to {}",
                 bootstrap->operator_key_path, bootstrap->admin_key_path);
  }

  ats::server::ServerOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.tls_cert_path = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_path = absl::GetFlag(FLAGS_tls_key);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  auto server =
      ats::server::AtsServer::Start(options, **store, clock, random);
  if (!server.ok()) return Fail(server.status());
  spdlog::info("ats-server listening on {} (port {}), database {}",
               options.listen_address, (*server)->port(), store_options.path);

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
