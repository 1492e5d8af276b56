// partner-sink: a small HTTP server that plays a partner receiving the
// service's webhooks, for demos and tests.
//
//   partner-sink --listen 127.0.0.1:8090 --secret whsec_... [--log]
//
// POST /webhooks (or any path under it) verifies the Standard Webhooks
// signature over the raw body with any known secret (401 if none matches or
// the timestamp is more than 5 minutes off), deduplicates by webhook-id (a
// duplicate is answered like the first delivery but stored once) and answers
// 200 "ok", or as programmed with POST /behaviour.
//
// Control API (JSON; from loopback clients only):
//   GET  /received         counts (accepted, duplicates, rejected, failed,
//                          connections), events, recent rejections
//   GET  /stats            {"accepted": N, "duplicates": N, "rejected": N,
//                          "failed": N, "first_accept_unix_ms": T,
//                          "last_accept_unix_ms": T}: counts only (accepted =
//                          unique verified events; times 0 before the first)
//   GET  /received/{id}    one event with the headers it came with
//   POST /behaviour        {"status": 503, "retry_after": "2", "delay_ms": 100,
//                          "times": 3, "body": "...", "body_bytes": 0,
//                          "headers": {"Location": "..."},
//                          "path": "/webhooks/x"}: how to answer the next
//                          `times` webhooks (all, if absent) to `path` (any,
//                          if absent); then 200 again
//   POST /secrets          {"secret": "whsec_..."}: verify with it too
//   POST /reset            forget events, counts, behaviours, added secrets
//   GET  /healthz          "ok"
//
// Prints "partner-sink listening on <host>:<port>" when ready (port 0 picks a
// free port); SIGINT or SIGTERM stops it.

#include <httplib.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/webhook_signature.h"
#include "tools/partner-sink/sink.h"

namespace ats::partner_sink {
namespace {

// Pseudo-headers httplib adds to a request; not sent by the client.
bool IsHttplibPseudoHeader(const std::string& name) {
  return name == "REMOTE_ADDR" || name == "REMOTE_PORT" ||
         name == "LOCAL_ADDR" || name == "LOCAL_PORT";
}

bool FromLoopback(const httplib::Request& request) {
  return request.remote_addr == "127.0.0.1" || request.remote_addr == "::1" ||
         request.remote_addr.rfind("::ffff:127.", 0) == 0;
}

// Wraps a control API handler: loopback clients only.
httplib::Server::Handler Control(httplib::Server::Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& request,
                                        httplib::Response& response) {
    if (!FromLoopback(request)) {
      response.status = 403;
      response.set_content("the control API is for loopback clients only\n",
                           "text/plain");
      return;
    }
    handler(request, response);
  };
}

void ReplyJson(httplib::Response& response, int status, std::string json) {
  response.status = status;
  response.set_content(json + "\n", "application/json");
}

void ReplyError(httplib::Response& response, int status,
                const std::string& message) {
  response.status = status;
  response.set_content(message + "\n", "text/plain");
}

void AddRoutes(httplib::Server& server, Sink& sink, bool log) {
  server.Post(R"(/webhooks(/.*)?)", [&sink, log](const httplib::Request& request,
                                                 httplib::Response& response) {
    WebhookRequest webhook;
    webhook.path = request.path;
    webhook.body = request.body;
    webhook.client =
        request.remote_addr + ":" + std::to_string(request.remote_port);
    for (const auto& [name, value] : request.headers) {
      if (!IsHttplibPseudoHeader(name)) webhook.headers.emplace_back(name, value);
    }
    WebhookResponse answer = sink.HandleWebhook(webhook, absl::Now());
    if (log) {
      std::printf("%s POST %s webhook-id=%s -> %d %s\n",
                  absl::FormatTime(absl::RFC3339_full, absl::Now(),
                                   absl::UTCTimeZone())
                      .c_str(),
                  request.path.c_str(),
                  request.get_header_value("webhook-id").c_str(), answer.status,
                  answer.outcome.c_str());
      std::fflush(stdout);
    }
    absl::SleepFor(answer.delay);
    response.status = answer.status;
    for (const auto& [name, value] : answer.headers) {
      response.set_header(name, value);
    }
    response.set_content(std::move(answer.body), "text/plain");
  });

  server.Get("/received", Control([&sink](const httplib::Request&,
                                          httplib::Response& response) {
    ReplyJson(response, 200, sink.ReceivedJson());
  }));
  server.Get("/stats", Control([&sink](const httplib::Request&,
                                       httplib::Response& response) {
    ReplyJson(response, 200, sink.StatsJson());
  }));
  server.Get(R"(/received/(.+))",
             Control([&sink](const httplib::Request& request,
                             httplib::Response& response) {
               const std::optional<std::string> event =
                   sink.EventJson(request.matches[1]);
               if (!event.has_value()) {
                 ReplyError(response, 404, "no event with that webhook-id");
                 return;
               }
               ReplyJson(response, 200, *event);
             }));
  server.Post("/behaviour", Control([&sink](const httplib::Request& request,
                                            httplib::Response& response) {
    absl::StatusOr<Behaviour> behaviour = ParseBehaviour(request.body);
    if (!behaviour.ok()) {
      ReplyError(response, 400, std::string(behaviour.status().message()));
      return;
    }
    sink.SetBehaviour(*std::move(behaviour));
    ReplyJson(response, 200, "{}");
  }));
  server.Post("/secrets", Control([&sink](const httplib::Request& request,
                                          httplib::Response& response) {
    absl::StatusOr<std::string> secret = ParseSecret(request.body);
    absl::Status added =
        secret.ok() ? sink.AddSecret(*secret) : secret.status();
    if (!added.ok()) {
      ReplyError(response, 400, std::string(added.message()));
      return;
    }
    ReplyJson(response, 200, "{}");
  }));
  server.Post("/reset", Control([&sink](const httplib::Request&,
                                        httplib::Response& response) {
    sink.Reset();
    ReplyJson(response, 200, "{}");
  }));
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
    response.set_content("ok\n", "text/plain");
  });
}

int Run(int argc, char** argv) {
  CLI::App app{
      "partner-sink: receives the service's signed webhooks like a partner "
      "would, for demos and tests"};
  std::string listen = "127.0.0.1:8090";
  std::vector<std::string> secrets;
  bool log = false;
  app.add_option("--listen", listen,
                 "host:port to listen on; port 0 picks a free port")
      ->capture_default_str();
  app.add_option("--secret", secrets,
                 "an integration's whsec_ signing secret; repeat for several "
                 "(POST /secrets adds more at runtime)")
      ->allow_extra_args(false);
  app.add_flag("--log", log, "print one line per webhook received");
  CLI11_PARSE(app, argc, argv);

  const size_t colon = listen.rfind(':');
  int port = -1;
  std::string host = listen.substr(0, colon == std::string::npos ? 0 : colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (colon == std::string::npos || host.empty() ||
      !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    std::cerr << "partner-sink: --listen must be host:port, not \"" << listen
              << "\"\n";
    return 2;
  }

  for (const std::string& secret : secrets) {
    if (const auto key = server::WebhookSigningKey(secret); !key.ok()) {
      std::cerr << "partner-sink: --secret: " << key.status().message()
                << "\n";
      return 2;
    }
  }
  auto* const sink = new Sink(secrets);  // Never destroyed, like the server.

  // Signals go to one thread, which stops the server; every other thread
  // (made from here on) has them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // Never destroyed, so the signal thread may use it until the process ends.
  auto* const server = new httplib::Server();
  server->new_task_queue = [] { return new httplib::ThreadPool(32); };
  server->set_keep_alive_max_count(10000);
  server->set_keep_alive_timeout(30);
  server->set_payload_max_length(64 * 1024 * 1024);
  AddRoutes(*server, *sink, log);

  if (port == 0) {
    port = server->bind_to_any_port(host);
  } else if (!server->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) {
    std::cerr << "partner-sink: cannot listen on " << listen << "\n";
    return 1;
  }

  static std::atomic<bool> listening_done{false};
  std::thread([server, stop_signals] {
    int signal = 0;
    sigwait(&stop_signals, &signal);
    // stop() only takes effect once listening has begun: repeat until done.
    while (!listening_done.load()) {
      server->stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }).detach();

  std::cout << "partner-sink listening on " << host << ":" << port << std::endl;
  server->listen_after_bind();
  listening_done.store(true);
  return 0;
}

}  // namespace
}  // namespace ats::partner_sink

int main(int argc, char** argv) { return ats::partner_sink::Run(argc, argv); }
