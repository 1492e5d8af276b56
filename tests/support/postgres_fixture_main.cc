// ats_postgres_fixture: starts and stops the throwaway PostgreSQL cluster
// that CTest shares between test binaries (a FIXTURES_SETUP and
// FIXTURES_CLEANUP pair).
//
//   ats_postgres_fixture start STATE_FILE   starts one, records it there
//   ats_postgres_fixture stop STATE_FILE    stops it and removes its files

#include <cstdio>
#include <cstring>
#include <string>

#include "tests/support/postgres_cluster.h"

int main(int argc, char** argv) {
  using ::ats::testing::PostgresCluster;
  const bool start = argc == 3 && std::strcmp(argv[1], "start") == 0;
  const bool stop = argc == 3 && std::strcmp(argv[1], "stop") == 0;
  if (!start && !stop) {
    std::fprintf(stderr, "usage: %s start|stop STATE_FILE\n", argv[0]);
    return 2;
  }
  const std::string state_file = argv[2];
  auto cluster = start ? PostgresCluster::Start()
                       : PostgresCluster::Attach(state_file);
  absl::Status status = cluster.status();
  if (status.ok() && start) status = (*cluster)->WriteState(state_file);
  if (!status.ok()) {
    std::fprintf(stderr, "ats_postgres_fixture %s: %s\n", argv[1],
                 status.ToString().c_str());
    return 1;
  }
  // A started cluster outlives this process; a stopped one goes with it.
  (*cluster)->set_owned(stop);
  if (start) std::printf("PostgreSQL at %s\n", (*cluster)->Uri().c_str());
  if (stop) std::remove(state_file.c_str());
  return 0;
}
