// HttpConnector (server/delivery/http_connector.h) against the real partner-sink
// program (tools/partner-sink), started on a loopback port for each test:
// what the partner receives, how its answers are reported, and how the
// connector bounds time, memory and connections.

#include "server/delivery/http_connector.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/common/clock.h"
#include "server/common/destination_guard.h"
#include "server/contract/webhook_signature.h"
#include "tests/support/child_process.h"
#include "tests/support/loopback_port.h"

namespace ats::server {
namespace {

using ::ats::testing::ChildProcess;
using ::google::protobuf::Struct;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr char kNewSecret[] = "whsec_c2VjcmV0IGtleSBudW1iZXIgdHdvIGZvciByb3RhdGlvbiE=";
constexpr char kBody[] =
    R"({"eventId":"events/e1","account":"accounts/a1","jobTitle":"Chef"})";

Struct ParseJson(const std::string& json) {
  Struct object;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &object);
  EXPECT_TRUE(status.ok()) << status.ToString() << ": " << json;
  return object;
}

int64_t Number(const Struct& object, const std::string& field) {
  const auto it = object.fields().find(field);
  if (it == object.fields().end()) {
    ADD_FAILURE() << "no field " << field;
    return -1;
  }
  return static_cast<int64_t>(it->second.number_value());
}

std::string Text(const Struct& object, const std::string& field) {
  const auto it = object.fields().find(field);
  return it == object.fields().end() ? "<missing>" : it->second.string_value();
}

// A header of an event as GET /received/{id} shows it (names in any case).
std::string Header(const Struct& event, const std::string& name) {
  const auto headers = event.fields().find("headers");
  if (headers == event.fields().end()) return "<no headers>";
  for (const auto& [key, value] : headers->second.struct_value().fields()) {
    if (absl::EqualsIgnoreCase(key, name)) return value.string_value();
  }
  return "<missing>";
}

// The partner-sink program on a loopback port, and a client of its control
// API.
class PartnerSink {
 public:
  // Starts the sink with `secrets` on a free port and waits until it
  // listens; nullptr (with a test failure) if it does not.
  static std::unique_ptr<PartnerSink> Start(
      const std::vector<std::string>& secrets) {
    const int port = ats::testing::PickFreeLoopbackPort();
    std::vector<std::string> argv = {ATS_PARTNER_SINK_BIN, "--listen",
                                     absl::StrCat("127.0.0.1:", port)};
    for (const std::string& secret : secrets) {
      argv.push_back("--secret");
      argv.push_back(secret);
    }
    absl::StatusOr<ChildProcess> process = ChildProcess::Start(argv);
    if (!process.ok()) {
      ADD_FAILURE() << process.status();
      return nullptr;
    }
    if (!process->WaitForTcpPort(port, absl::Seconds(20))) {
      ADD_FAILURE() << "partner-sink did not listen: " << process->Log();
      return nullptr;
    }
    return std::unique_ptr<PartnerSink>(
        new PartnerSink(*std::move(process), port));
  }

  int port() const { return port_; }
  std::string Url(const std::string& path = "/webhooks") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }

  // GET /received.
  Struct Received() { return ParseJson(Get("/received")); }
  // GET /stats.
  Struct Stats() { return ParseJson(Get("/stats")); }

  // GET /received/{id}; nullopt on 404.
  std::optional<Struct> Event(const std::string& id) {
    const httplib::Result result = control_.Get("/received/" + id);
    if (!result) {
      ADD_FAILURE() << "GET /received/" << id << ": "
                    << httplib::to_string(result.error());
      return std::nullopt;
    }
    if (result->status == 404) return std::nullopt;
    EXPECT_EQ(result->status, 200) << result->body;
    return ParseJson(result->body);
  }

  // POST `json` to the control API at `path`; returns the HTTP status.
  int Post(const std::string& path, const std::string& json) {
    const httplib::Result result = control_.Post(path, json, "application/json");
    if (!result) {
      ADD_FAILURE() << "POST " << path << ": "
                    << httplib::to_string(result.error());
      return 0;
    }
    return result->status;
  }

  std::string Log() const { return process_.Log(); }

 private:
  PartnerSink(ChildProcess process, int port)
      : process_(std::move(process)), port_(port), control_("127.0.0.1", port) {
    control_.set_read_timeout(10, 0);
  }

  std::string Get(const std::string& path) {
    const httplib::Result result = control_.Get(path);
    if (!result) {
      ADD_FAILURE() << "GET " << path << ": "
                    << httplib::to_string(result.error());
      return "{}";
    }
    EXPECT_EQ(result->status, 200) << result->body;
    return result->body;
  }

  ChildProcess process_;
  int port_;
  httplib::Client control_;
};

// Options whose destination policy opens loopback, where the sink listens
// (the connector refuses loopback by default).
HttpConnectorOptions LoopbackOptions() {
  HttpConnectorOptions options;
  options.destinations = *DestinationPolicy::Parse("127.0.0.0/8,::1/128");
  return options;
}

// TCP sockets listening on one port of 127.0.0.1 and ::1 that never accept:
// a connection made to them waits in their backlog, where Connections()
// finds it. Nothing answers, so a request sent there hangs.
class SilentListener {
 public:
  SilentListener() {
    for (int tries = 0; tries < 20 && port_ == 0; ++tries) {
      Close();
      const int v6 = Listen(AF_INET6, 0);
      if (v6 < 0) continue;
      sockaddr_in6 bound = {};
      socklen_t length = sizeof(bound);
      getsockname(v6, reinterpret_cast<sockaddr*>(&bound), &length);
      const int port = ntohs(bound.sin6_port);
      const int v4 = Listen(AF_INET, port);
      fds_ = {v6, v4};
      if (v4 >= 0) port_ = port;
    }
    if (port_ == 0) ADD_FAILURE() << "cannot listen on 127.0.0.1 and ::1";
  }
  ~SilentListener() { Close(); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  int port() const { return port_; }

  // Returns how many connections reached either socket so far (and closes
  // them).
  int Connections() {
    int count = 0;
    for (const int fd : fds_) {
      for (;;) {
        const int accepted = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK);
        if (accepted < 0) break;
        close(accepted);
        ++count;
      }
    }
    return count;
  }

 private:
  // Returns a non-blocking socket of `family` listening on `port` (0 picks
  // one) of its loopback address, or -1.
  static int Listen(int family, int port) {
    const int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int ok = -1;
    if (family == AF_INET6) {
      const int only_v6 = 1;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only_v6, sizeof(only_v6));
      sockaddr_in6 address = {};
      address.sin6_family = AF_INET6;
      address.sin6_addr = in6addr_loopback;
      address.sin6_port = htons(port);
      ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    } else {
      sockaddr_in address = {};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      address.sin_port = htons(port);
      ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    }
    if (ok != 0 || listen(fd, 16) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  void Close() {
    for (const int fd : fds_) {
      if (fd >= 0) close(fd);
    }
    fds_.clear();
  }

  std::vector<int> fds_;
  int port_ = 0;
};

class HttpConnectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sink_ = PartnerSink::Start({kSecret});
    ASSERT_NE(sink_, nullptr);
  }

  Delivery MakeDelivery(const std::string& id,
                        const std::string& path = "/webhooks") const {
    return Delivery{sink_->Url(path), id, kBody, kSecret};
  }

  SystemClock clock_;
  std::unique_ptr<PartnerSink> sink_;
};

TEST_F(HttpConnectorTest, SignedPostIsAcceptedAndVerifiedBySink) {
  // A fake clock set to a whole second near now: the timestamp is known.
  FakeClock clock(absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now())));
  HttpConnector connector(clock, LoopbackOptions());
  const DeliveryOutcome outcome =
      connector.Deliver(MakeDelivery("events/e1", "/webhooks/acme"));
  EXPECT_EQ(outcome.http_status, 200) << outcome.error << sink_->Log();
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(outcome.response_body, "ok");
  EXPECT_FALSE(outcome.retry_after.has_value());
  EXPECT_GT(outcome.latency, absl::ZeroDuration());

  const std::optional<Struct> event = sink_->Event("events/e1");
  ASSERT_TRUE(event.has_value());
  const int64_t timestamp = absl::ToUnixSeconds(clock.Now());
  EXPECT_EQ(Text(*event, "body"), kBody);
  EXPECT_EQ(Text(*event, "path"), "/webhooks/acme");
  EXPECT_EQ(Number(*event, "timestamp"), timestamp);
  EXPECT_EQ(Header(*event, "webhook-id"), "events/e1");
  EXPECT_EQ(Header(*event, "webhook-timestamp"), absl::StrCat(timestamp));
  const absl::StatusOr<std::string> signature =
      WebhookSignature(kSecret, "events/e1", timestamp, kBody);
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(Header(*event, "webhook-signature"), *signature);
  EXPECT_EQ(Header(*event, "content-type"), "application/json");
  EXPECT_EQ(Header(*event, "user-agent"), "ats-trigger-service/1");
  EXPECT_EQ(Header(*event, "expect"), "<missing>");

  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "accepted"), 1);
  EXPECT_EQ(Number(received, "rejected"), 0);
}

TEST_F(HttpConnectorTest, TimestampComesFromTheInjectedClock) {
  // 2024-01-01: more than five minutes off, so the sink refuses it.
  FakeClock clock;
  HttpConnector connector(clock, LoopbackOptions());
  const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/old"));
  EXPECT_EQ(outcome.http_status, 401);
  EXPECT_TRUE(absl::StartsWith(outcome.error, "HTTP 401: webhook-timestamp 1704067200 "))
      << outcome.error;
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "rejected"), 1);
  EXPECT_EQ(Number(received, "accepted"), 0);
}

TEST_F(HttpConnectorTest, RotatedSecretIsRejectedUntilThePartnerHasIt) {
  HttpConnector connector(clock_, LoopbackOptions());
  Delivery delivery = MakeDelivery("events/rotated");
  delivery.signing_secret = kNewSecret;
  DeliveryOutcome outcome = connector.Deliver(delivery);
  EXPECT_EQ(outcome.http_status, 401);
  EXPECT_EQ(outcome.error, "HTTP 401: no known secret matches webhook-signature");
  EXPECT_EQ(Number(sink_->Received(), "rejected"), 1);

  ASSERT_EQ(sink_->Post("/secrets", absl::StrCat(R"({"secret":")", kNewSecret,
                                                 R"("})")),
            200);
  outcome = connector.Deliver(delivery);
  EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  // During the rotation the old secret still verifies too.
  outcome = connector.Deliver(MakeDelivery("events/old-secret"));
  EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "accepted"), 2);
  EXPECT_EQ(Number(received, "rejected"), 1);

  EXPECT_EQ(sink_->Post("/secrets", R"({"secret":"not-a-secret"})"), 400);
}

TEST_F(HttpConnectorTest, UnavailableReportsRetryAfterSeconds) {
  HttpConnector connector(clock_, LoopbackOptions());
  ASSERT_EQ(sink_->Post("/behaviour",
                        R"({"status": 503, "retry_after": "2", "times": 1})"),
            200);
  DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/busy"));
  EXPECT_EQ(outcome.http_status, 503);
  EXPECT_EQ(outcome.error, "HTTP 503: programmed failure");
  ASSERT_TRUE(outcome.retry_after.has_value());
  EXPECT_EQ(*outcome.retry_after, absl::Seconds(2));

  // `times` is used up: the retry is accepted, as a first delivery.
  outcome = connector.Deliver(MakeDelivery("events/busy"));
  EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  EXPECT_FALSE(outcome.retry_after.has_value());
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "failed"), 1);
  EXPECT_EQ(Number(received, "accepted"), 1);
  EXPECT_EQ(Number(received, "duplicates"), 0);
}

TEST_F(HttpConnectorTest, TooManyRequestsReportsRetryAfterDate) {
  HttpConnector connector(clock_, LoopbackOptions());
  const std::string date =
      absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                       absl::Now() + absl::Seconds(120), absl::UTCTimeZone());
  ASSERT_EQ(sink_->Post("/behaviour",
                        absl::StrCat(R"({"status": 429, "retry_after": ")",
                                     date, R"(", "times": 1})")),
            200);
  const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/slow"));
  EXPECT_EQ(outcome.http_status, 429);
  ASSERT_TRUE(outcome.retry_after.has_value()) << date;
  EXPECT_GT(*outcome.retry_after, absl::Seconds(60));
  EXPECT_LE(*outcome.retry_after, absl::Seconds(121));
}

TEST_F(HttpConnectorTest, GoneIsReported) {
  HttpConnector connector(clock_, LoopbackOptions());
  ASSERT_EQ(sink_->Post("/behaviour",
                        R"({"status": 410, "body": "integration removed\n"})"),
            200);
  const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/gone"));
  EXPECT_EQ(outcome.http_status, 410);
  EXPECT_EQ(outcome.error, "HTTP 410: integration removed");
  EXPECT_FALSE(outcome.retry_after.has_value());
}

TEST_F(HttpConnectorTest, RedirectIsNotFollowed) {
  HttpConnector connector(clock_, LoopbackOptions());
  const std::string target = sink_->Url("/webhooks/elsewhere");
  ASSERT_EQ(sink_->Post("/behaviour",
                        absl::StrCat(R"({"status": 307, "path": "/webhooks/old",)",
                                     R"("headers": {"Location": ")", target,
                                     R"("}})")),
            200);
  const DeliveryOutcome outcome =
      connector.Deliver(MakeDelivery("events/moved", "/webhooks/old"));
  EXPECT_EQ(outcome.http_status, 307);
  EXPECT_TRUE(absl::StartsWith(
      outcome.error,
      absl::StrCat("HTTP 307 (redirect to ", target, " not followed)")))
      << outcome.error;
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "failed"), 1);
  EXPECT_EQ(Number(received, "accepted"), 0);
}

TEST_F(HttpConnectorTest, HangingPartnerTimesOut) {
  HttpConnectorOptions options = LoopbackOptions();
  options.total_timeout = absl::Milliseconds(300);
  HttpConnector connector(clock_, options);
  ASSERT_EQ(sink_->Post("/behaviour", R"({"delay_ms": 5000, "times": 1})"), 200);
  const absl::Time start = absl::Now();
  const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/hang"));
  const absl::Duration elapsed = absl::Now() - start;
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(absl::StrContains(outcome.error, "curl error 28 (Timeout was reached)"))
      << outcome.error;
  EXPECT_EQ(outcome.response_body, "");
  EXPECT_LT(elapsed, absl::Seconds(3));
  EXPECT_LT(outcome.latency, absl::Seconds(3));
}

TEST_F(HttpConnectorTest, RefusedConnectionIsReported) {
  HttpConnector connector(clock_, LoopbackOptions());
  Delivery delivery = MakeDelivery("events/refused");
  delivery.url = absl::StrCat("http://127.0.0.1:",
                              ats::testing::PickFreeLoopbackPort(), "/webhooks");
  const DeliveryOutcome outcome = connector.Deliver(delivery);
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(absl::StartsWith(outcome.error,
                               "curl error 7 (Couldn't connect to server)"))
      << outcome.error;
}

TEST_F(HttpConnectorTest, HugeResponseBodyIsReadButNotKept) {
  HttpConnector connector(clock_, LoopbackOptions());
  ASSERT_EQ(sink_->Post("/behaviour",
                        R"({"status": 500, "body_bytes": 10000000, "times": 1})"),
            200);
  DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/huge"));
  EXPECT_EQ(outcome.http_status, 500);
  const size_t kept = HttpConnectorOptions().max_response_body_bytes;
  EXPECT_EQ(outcome.response_body, std::string(kept, 'x'));
  EXPECT_TRUE(outcome.response_body_truncated);
  EXPECT_EQ(outcome.error, "HTTP 500: " + std::string(200, 'x'));

  ASSERT_EQ(sink_->Post("/behaviour",
                        R"({"status": 200, "body_bytes": 10000000, "times": 1})"),
            200);
  outcome = connector.Deliver(MakeDelivery("events/huge"));
  EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(outcome.response_body.size(), kept);
  EXPECT_TRUE(outcome.response_body_truncated);
  // The bodies were drained, not cut off: the connection served them all.
  outcome = connector.Deliver(MakeDelivery("events/after-huge"));
  EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  EXPECT_FALSE(outcome.response_body_truncated);
  EXPECT_EQ(Number(sink_->Received(), "connections"), 1);
}

TEST_F(HttpConnectorTest, DuplicatesAreCountedBySink) {
  HttpConnector connector(clock_, LoopbackOptions());
  for (int i = 0; i < 3; ++i) {
    const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/dup"));
    EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  }
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "accepted"), 1);
  EXPECT_EQ(Number(received, "duplicates"), 2);
  EXPECT_EQ(received.fields().at("events").list_value().values_size(), 1);
  const std::optional<Struct> event = sink_->Event("events/dup");
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(Number(*event, "deliveries"), 3);
}

TEST_F(HttpConnectorTest, SequentialDeliveriesReuseOneConnection) {
  HttpConnector connector(clock_, LoopbackOptions());
  for (int i = 0; i < 10; ++i) {
    const DeliveryOutcome outcome =
        connector.Deliver(MakeDelivery(absl::StrCat("events/seq", i)));
    ASSERT_EQ(outcome.http_status, 200) << outcome.error;
  }
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "accepted"), 10);
  EXPECT_EQ(Number(received, "connections"), 1);
}

TEST_F(HttpConnectorTest, WithoutIdleConnectionsEveryDeliveryConnectsAnew) {
  // The control for the test above: the sink does see new connections.
  HttpConnectorOptions options = LoopbackOptions();
  options.max_idle_connections = 0;
  HttpConnector connector(clock_, options);
  for (int i = 0; i < 5; ++i) {
    const DeliveryOutcome outcome =
        connector.Deliver(MakeDelivery(absl::StrCat("events/new", i)));
    ASSERT_EQ(outcome.http_status, 200) << outcome.error;
  }
  EXPECT_EQ(Number(sink_->Received(), "connections"), 5);
}

TEST_F(HttpConnectorTest, ConcurrentCallersShareThePool) {
  HttpConnector connector(clock_, LoopbackOptions());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 15;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const DeliveryOutcome outcome = connector.Deliver(
            MakeDelivery(absl::StrCat("events/t", t, "-", i)));
        if (outcome.http_status == 200) ++succeeded;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(succeeded.load(), kThreads * kPerThread);
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "accepted"), kThreads * kPerThread);
  // At most one connection per concurrent caller.
  EXPECT_LE(Number(received, "connections"), kThreads);
}

TEST_F(HttpConnectorTest, ManyDeliveriesAtOnceAllArrive) {
  // Not a timing assertion: prints the rate, the HTTP ceiling the dispatcher
  // works under (no storage). ATS_CONNECTOR_EVENTS sets how many (default
  // 500), ATS_CONNECTOR_IN_FLIGHT how many at once (default 128).
  int count = 500;
  int window = 128;
  if (const char* env = std::getenv("ATS_CONNECTOR_EVENTS")) {
    count = std::max(1, std::atoi(env));
  }
  if (const char* env = std::getenv("ATS_CONNECTOR_IN_FLIGHT")) {
    window = std::max(1, std::atoi(env));
  }
  HttpConnector connector(clock_, LoopbackOptions());
  absl::Mutex mu;
  int started = 0;
  int finished = 0;
  int succeeded = 0;
  bool progress = false;  // Set by every outcome.
  std::string first_error;
  const absl::Time start = absl::Now();
  auto send_more = [&] {
    for (;;) {
      {
        absl::MutexLock lock(&mu);
        if (started >= count || started - finished >= window) return;
        ++started;
      }
      connector.Send(MakeDelivery(absl::StrCat("events/m", started)),
                     [&](DeliveryOutcome outcome) {
                       absl::MutexLock lock(&mu);
                       ++finished;
                       if (outcome.http_status == 200) {
                         ++succeeded;
                       } else if (first_error.empty()) {
                         first_error = outcome.error;
                       }
                       progress = true;
                     });
    }
  };
  for (;;) {
    send_more();
    absl::MutexLock lock(&mu);
    if (finished >= count) break;
    if (!mu.AwaitWithTimeout(absl::Condition(&progress), absl::Seconds(20))) {
      break;  // Stuck: the counts below tell.
    }
    progress = false;
  }
  absl::MutexLock lock(&mu);
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  EXPECT_EQ(succeeded, count) << first_error;
  std::printf("connector: %d signed POSTs, %d at once, in %.2f s: %.0f/s\n",
              count, window, seconds, count / seconds);
  EXPECT_EQ(Number(sink_->Received(), "accepted"), count);
}

TEST_F(HttpConnectorTest, DestroyingEndsAttemptsUnderWayWithAnError) {
  ASSERT_EQ(sink_->Post("/behaviour", R"({"delay_ms": 5000})"), 200);
  std::optional<DeliveryOutcome> outcome;
  {
    HttpConnector connector(clock_, LoopbackOptions());
    connector.Send(MakeDelivery("events/late"),
                   [&](DeliveryOutcome reported) { outcome = reported; });
    absl::SleepFor(absl::Milliseconds(200));  // Let it reach the sink.
  }
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->http_status, 0);
  EXPECT_TRUE(absl::StrContains(outcome->error, "shutting down"))
      << outcome->error;
}

TEST_F(HttpConnectorTest, OnlyHttpAndHttpsUrlsAreFetched) {
  HttpConnector connector(clock_, LoopbackOptions());
  for (const std::string& url :
       {std::string("file:///etc/passwd"),
        absl::StrCat("ftp://127.0.0.1:", sink_->port(), "/webhooks"),
        absl::StrCat("gopher://127.0.0.1:", sink_->port(), "/webhooks")}) {
    Delivery delivery = MakeDelivery("events/scheme");
    delivery.url = url;
    const DeliveryOutcome outcome = connector.Deliver(delivery);
    EXPECT_EQ(outcome.http_status, 0) << url;
    EXPECT_TRUE(absl::StartsWith(outcome.error,
                                 "curl error 1 (Unsupported protocol)"))
        << url << ": " << outcome.error;
  }
  Delivery delivery = MakeDelivery("events/scheme");
  delivery.url = "not a url";
  const DeliveryOutcome outcome = connector.Deliver(delivery);
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(absl::StartsWith(outcome.error, "curl error")) << outcome.error;
  EXPECT_EQ(Number(sink_->Received(), "connections"), 0);
}

TEST_F(HttpConnectorTest, MalformedSecretOrIdIsNotSent) {
  HttpConnector connector(clock_, LoopbackOptions());
  Delivery delivery = MakeDelivery("events/bad-secret");
  delivery.signing_secret = "nope";
  DeliveryOutcome outcome = connector.Deliver(delivery);
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(absl::StartsWith(outcome.error, "not sent: ")) << outcome.error;

  delivery = MakeDelivery("events/x\r\nX-Injected: 1");
  outcome = connector.Deliver(delivery);
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(absl::StartsWith(outcome.error, "not sent: ")) << outcome.error;
  EXPECT_EQ(Number(sink_->Received(), "connections"), 0);
}

TEST_F(HttpConnectorTest, ErrorBodyIsSanitized) {
  HttpConnector connector(clock_, LoopbackOptions());
  ASSERT_EQ(sink_->Post("/behaviour",
                        R"({"status": 400, "body": "bad\tinput\u0001\u00e9\n"})"),
            200);
  const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/odd"));
  EXPECT_EQ(outcome.http_status, 400);
  // Tab -> space, control byte and both UTF-8 bytes of é -> '?', trailing
  // newline dropped.
  EXPECT_EQ(outcome.error, "HTTP 400: bad input???");
}

// The sink on its own: what the demo and the dispatcher's tests rely on.

TEST_F(HttpConnectorTest, SinkRejectsUnsignedWebhooks) {
  httplib::Client client("127.0.0.1", sink_->port());
  const httplib::Result result =
      client.Post("/webhooks", kBody, "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 401);
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "rejected"), 1);
  EXPECT_EQ(received.fields().at("rejections").list_value().values(0)
                .struct_value().fields().at("reason").string_value(),
            "missing webhook-id");
}

TEST_F(HttpConnectorTest, SinkStatsCountWithoutBodies) {
  Struct stats = sink_->Stats();
  EXPECT_EQ(Number(stats, "accepted"), 0);
  EXPECT_EQ(Number(stats, "first_accept_unix_ms"), 0);
  EXPECT_EQ(Number(stats, "last_accept_unix_ms"), 0);

  const int64_t before = absl::ToUnixMillis(absl::Now());
  HttpConnector connector(clock_, LoopbackOptions());
  for (const char* id : {"events/s1", "events/s2", "events/s1"}) {
    EXPECT_EQ(connector.Deliver(MakeDelivery(id)).http_status, 200);
  }
  ASSERT_EQ(sink_->Post("/behaviour", R"({"status": 500, "times": 1})"), 200);
  EXPECT_EQ(connector.Deliver(MakeDelivery("events/s3")).http_status, 500);
  httplib::Client unsigned_client("127.0.0.1", sink_->port());
  ASSERT_TRUE(unsigned_client.Post("/webhooks", kBody, "application/json"));
  const int64_t after = absl::ToUnixMillis(absl::Now());

  stats = sink_->Stats();
  EXPECT_EQ(stats.fields_size(), 6);
  EXPECT_EQ(Number(stats, "accepted"), 2);
  EXPECT_EQ(Number(stats, "duplicates"), 1);
  EXPECT_EQ(Number(stats, "failed"), 1);
  EXPECT_EQ(Number(stats, "rejected"), 1);
  const int64_t first = Number(stats, "first_accept_unix_ms");
  const int64_t last = Number(stats, "last_accept_unix_ms");
  EXPECT_LE(before, first);
  EXPECT_LE(first, last);
  EXPECT_LE(last, after);
}

TEST_F(HttpConnectorTest, SinkBehaviourCanTargetOnePath) {
  HttpConnector connector(clock_, LoopbackOptions());
  ASSERT_EQ(sink_->Post("/behaviour", R"({"status": 503, "path": "/webhooks/b"})"),
            200);
  EXPECT_EQ(connector.Deliver(MakeDelivery("events/a", "/webhooks/a")).http_status,
            200);
  EXPECT_EQ(connector.Deliver(MakeDelivery("events/b", "/webhooks/b")).http_status,
            503);
  // Without `times` it lasts until reset.
  EXPECT_EQ(connector.Deliver(MakeDelivery("events/b", "/webhooks/b")).http_status,
            503);
  ASSERT_EQ(sink_->Post("/reset", "{}"), 200);
  EXPECT_EQ(connector.Deliver(MakeDelivery("events/b", "/webhooks/b")).http_status,
            200);
  const Struct received = sink_->Received();
  EXPECT_EQ(Number(received, "accepted"), 1);
  EXPECT_EQ(Number(received, "failed"), 0);
}

TEST_F(HttpConnectorTest, SinkRefusesMalformedBehaviour) {
  EXPECT_EQ(sink_->Post("/behaviour", R"({"statuss": 503})"), 400);
  EXPECT_EQ(sink_->Post("/behaviour", R"({"status": 99})"), 400);
  EXPECT_EQ(sink_->Post("/behaviour", R"({"times": 0})"), 400);
  EXPECT_EQ(sink_->Post("/behaviour", R"({"path": "/elsewhere"})"), 400);
  EXPECT_EQ(sink_->Post("/behaviour", "not json"), 400);
  EXPECT_FALSE(sink_->Event("events/none").has_value());
}

// Spellings of loopback (and of the unspecified address, which reaches the
// local host) that resolvers and curl accept; PORT is the listener's.
class RefusedDestinationTest : public ::testing::TestWithParam<const char*> {
 protected:
  SystemClock clock_;
};

TEST_P(RefusedDestinationTest, IsNeverConnectedTo) {
  SilentListener listener;
  ASSERT_NE(listener.port(), 0);
  // The default policy: public addresses only.
  HttpConnector connector(clock_);
  const std::string url = absl::StrReplaceAll(
      GetParam(), {{"PORT", absl::StrCat(listener.port())}});
  const DeliveryOutcome outcome =
      connector.Deliver(Delivery{url, "events/e1", kBody, kSecret});
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(outcome.refused_destination) << outcome.error;
  EXPECT_TRUE(absl::StartsWith(outcome.error, "destination ")) << outcome.error;
  EXPECT_TRUE(absl::StrContains(outcome.error, " is not allowed: loopback (") ||
              absl::StrContains(outcome.error, " is not allowed: unspecified"))
      << outcome.error;
  EXPECT_EQ(listener.Connections(), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, RefusedDestinationTest,
    ::testing::Values(
        "http://127.0.0.1:PORT/webhooks", "https://127.0.0.1:PORT/webhooks",
        "http://127.1:PORT/", "http://2130706433:PORT/",
        "http://0x7f000001:PORT/", "http://0177.0.0.1:PORT/",
        "http://0x7f.1:PORT/", "http://017700000001:PORT/",
        "http://%31%32%37.0.0.1:PORT/", "http://localhost:PORT/",
        "http://LocalHost:PORT/", "http://[::1]:PORT/",
        "http://[::ffff:127.0.0.1]:PORT/", "http://[::ffff:7f00:1]:PORT/",
        "http://0.0.0.0:PORT/", "http://0:PORT/"));

TEST_F(HttpConnectorTest, RefusalNamesTheAddress) {
  HttpConnector connector(clock_);
  const DeliveryOutcome outcome = connector.Deliver(MakeDelivery("events/e1"));
  EXPECT_EQ(outcome.http_status, 0);
  EXPECT_TRUE(outcome.refused_destination);
  EXPECT_EQ(outcome.error,
            "destination 127.0.0.1 is not allowed: loopback (127.0.0.0/8)");
  EXPECT_EQ(Number(sink_->Received(), "accepted"), 0);
  EXPECT_EQ(Number(sink_->Received(), "connections"), 0);
}

TEST_F(HttpConnectorTest, AllowedNetworksAreConnectedTo) {
  // The control for the refusals above: with loopback opened, the same
  // listener does see the connection.
  SilentListener listener;
  ASSERT_NE(listener.port(), 0);
  HttpConnectorOptions options = LoopbackOptions();
  options.total_timeout = absl::Milliseconds(300);
  HttpConnector connector(clock_, options);
  const DeliveryOutcome outcome = connector.Deliver(Delivery{
      absl::StrCat("http://2130706433:", listener.port(), "/"), "events/e1",
      kBody, kSecret});
  EXPECT_FALSE(outcome.refused_destination) << outcome.error;
  EXPECT_EQ(listener.Connections(), 1);
}

TEST_F(HttpConnectorTest, ProxyEnvironmentIsIgnored) {
  // A proxy would be connected to instead of the checked address.
  SilentListener proxy;
  ASSERT_NE(proxy.port(), 0);
  const std::string proxy_url = absl::StrCat("http://127.0.0.1:", proxy.port());
  const char* const kVariables[] = {"http_proxy", "https_proxy", "HTTPS_PROXY",
                                    "ALL_PROXY", "all_proxy"};
  for (const char* variable : kVariables) {
    setenv(variable, proxy_url.c_str(), 1);
  }
  HttpConnector connector(clock_, LoopbackOptions());
  const DeliveryOutcome outcome =
      connector.Deliver(MakeDelivery("events/direct"));
  for (const char* variable : kVariables) unsetenv(variable);
  EXPECT_EQ(outcome.http_status, 200) << outcome.error;
  EXPECT_EQ(proxy.Connections(), 0);
}

TEST(PartnerSinkTest, PortZeroPicksAFreePortAndPrintsIt) {
  absl::StatusOr<ChildProcess> sink =
      ChildProcess::Start({ATS_PARTNER_SINK_BIN, "--listen", "127.0.0.1:0"});
  ASSERT_TRUE(sink.ok()) << sink.status();
  constexpr char kReady[] = "partner-sink listening on 127.0.0.1:";
  int port = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (port == 0 && absl::Now() < deadline) {
    const std::string log = sink->Log();
    const size_t at = log.find(kReady);
    const size_t end = log.find('\n', at);
    if (at != std::string::npos && end != std::string::npos) {
      const size_t start = at + sizeof(kReady) - 1;
      ASSERT_TRUE(absl::SimpleAtoi(log.substr(start, end - start), &port)) << log;
    } else {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ASSERT_GT(port, 0) << sink->Log();
  httplib::Client client("127.0.0.1", port);
  const httplib::Result result = client.Get("/healthz");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(sink->Stop(), 0) << sink->Log();
}

}  // namespace
}  // namespace ats::server
