// partner-sink: a small HTTP server that plays a partner receiving the
// service's webhooks, for demos and tests.
//
//   partner-sink --listen 127.0.0.1:8090 --secret whsec_... [--log]
//                [--form-file form.json]
//
// POST /webhooks (or any path under it) verifies the Standard Webhooks
// signature over the raw body with any known secret (401 if none matches or
// the timestamp is more than 5 minutes off), deduplicates by webhook-id (a
// duplicate is answered like the first delivery but stored once) and answers
// 200 "ok", or as programmed with POST /behaviour.
//
// POST /form plays a partner's config endpoint (Partner.trigger_form_uri):
// verified and counted like a webhook, it answers 200 with the trigger form
// of --form-file (an ats.v1.TriggerForm in proto3 JSON, served as it is),
// or as programmed with POST /behaviour {"path": "/form", ...}.
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
//                          `times` webhooks (all, if absent) to `path` (any
//                          under /webhooks, if absent; or /form); then 200
//                          again
//   POST /secrets          {"secret": "whsec_..."}: verify with it too
//   POST /reset            forget events, counts, behaviours, added secrets
//   GET  /healthz          "ok"
//
// Prints "partner-sink listening on <host>:<port>" when ready (port 0 picks a
// free port); SIGINT or SIGTERM stops it.
//
// It serves HTTP/1.1 with libevent's evhttp: --threads event loops (one by
// default), each serving any number of keep-alive connections with
// non-blocking I/O, so a client keeping hundreds of connections open costs
// no thread per connection. A programmed delay is a timer, not a sleep.

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/util.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/contract/webhook_signature.h"
#include "tools/partner-sink/sink.h"

namespace ats::partner_sink {
namespace {

// What every request handler needs; shared by the event loops.
struct Context {
  Sink* sink;
  bool log;
};

// The request's path, percent-decoded ('+' stays '+'), without the query.
std::string RequestPath(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* raw = uri == nullptr ? nullptr : evhttp_uri_get_path(uri);
  if (raw == nullptr || *raw == '\0') return "/";
  size_t length = 0;
  char* decoded = evhttp_uridecode(raw, /*decode_plus=*/0, &length);
  if (decoded == nullptr) return raw;
  std::string path(decoded, length);
  std::free(decoded);
  return path;
}

std::string RequestBody(evhttp_request* request) {
  evbuffer* input = evhttp_request_get_input_buffer(request);
  std::string body(evbuffer_get_length(input), '\0');
  evbuffer_copyout(input, body.data(), body.size());
  return body;
}

// The client's address ("127.0.0.1", "::1", ...) and port.
std::pair<std::string, int> Peer(evhttp_request* request) {
  char* address = nullptr;
  ev_uint16_t port = 0;
  evhttp_connection_get_peer(evhttp_request_get_connection(request), &address,
                             &port);
  return {address == nullptr ? "" : address, port};
}

bool FromLoopback(const std::string& address) {
  return address == "127.0.0.1" || address == "::1" ||
         absl::StartsWith(address, "::ffff:127.");
}

// Puts the headers and body of the answer on `request`, to be sent with
// evhttp_send_reply now or later.
void SetAnswer(evhttp_request* request, const Headers& headers,
               const std::string& body, const char* content_type) {
  evkeyvalq* output = evhttp_request_get_output_headers(request);
  for (const auto& [name, value] : headers) {
    evhttp_add_header(output, name.c_str(), value.c_str());
  }
  if (evhttp_find_header(output, "Content-Type") == nullptr) {
    evhttp_add_header(output, "Content-Type", content_type);
  }
  evbuffer_add(evhttp_request_get_output_buffer(request), body.data(),
               body.size());
}

void Reply(evhttp_request* request, int status, const std::string& body,
           const char* content_type) {
  SetAnswer(request, {}, body, content_type);
  evhttp_send_reply(request, status, nullptr, nullptr);
}

void ReplyJson(evhttp_request* request, int status, const std::string& json) {
  Reply(request, status, json + "\n", "application/json");
}

void ReplyError(evhttp_request* request, int status,
                const std::string& message) {
  Reply(request, status, message + "\n", "text/plain");
}

// A webhook answer held back for a programmed delay.
struct DelayedReply {
  evhttp_request* request;
  int status;
};

// Sends a delayed answer. If the client has gone meanwhile, evhttp has
// detached the request from its connection and this just frees it.
void SendDelayedReply(evutil_socket_t, short, void* argument) {
  std::unique_ptr<DelayedReply> reply(static_cast<DelayedReply*>(argument));
  evhttp_send_reply(reply->request, reply->status, nullptr, nullptr);
}

void HandleWebhook(evhttp_request* request, const std::string& path,
                   const Context& context) {
  const auto [address, port] = Peer(request);
  WebhookRequest webhook;
  webhook.path = path;
  webhook.body = RequestBody(request);
  webhook.client = address + ":" + std::to_string(port);
  const evkeyvalq* headers = evhttp_request_get_input_headers(request);
  for (const evkeyval* header = headers->tqh_first; header != nullptr;
       header = header->next.tqe_next) {
    webhook.headers.emplace_back(header->key, header->value);
  }
  WebhookResponse answer = context.sink->HandleWebhook(webhook, absl::Now());
  if (context.log) {
    const char* id = evhttp_find_header(headers, server::kWebhookIdHeader);
    std::printf("%s POST %s webhook-id=%s -> %d %s\n",
                absl::FormatTime(absl::RFC3339_full, absl::Now(),
                                 absl::UTCTimeZone())
                    .c_str(),
                path.c_str(), id == nullptr ? "" : id, answer.status,
                answer.outcome.c_str());
    std::fflush(stdout);
  }
  SetAnswer(request, answer.headers, answer.body, "text/plain");
  if (answer.delay <= absl::ZeroDuration()) {
    evhttp_send_reply(request, answer.status, nullptr, nullptr);
    return;
  }
  const timeval delay = absl::ToTimeval(answer.delay);
  event_base_once(evhttp_connection_get_base(
                      evhttp_request_get_connection(request)),
                  -1, EV_TIMEOUT, &SendDelayedReply,
                  new DelayedReply{request, answer.status}, &delay);
}

void HandleEvent(evhttp_request* request, const std::string& path,
                 const Context& context) {
  const std::optional<std::string> json =
      context.sink->EventJson(path.substr(std::strlen("/received/")));
  if (!json.has_value()) {
    ReplyError(request, 404, "no event with that webhook-id");
    return;
  }
  ReplyJson(request, 200, *json);
}

void HandleBehaviour(evhttp_request* request, const std::string&,
                     const Context& context) {
  absl::StatusOr<Behaviour> behaviour = ParseBehaviour(RequestBody(request));
  if (!behaviour.ok()) {
    ReplyError(request, 400, std::string(behaviour.status().message()));
    return;
  }
  context.sink->SetBehaviour(*std::move(behaviour));
  ReplyJson(request, 200, "{}");
}

void HandleSecrets(evhttp_request* request, const std::string&,
                   const Context& context) {
  absl::StatusOr<std::string> secret = ParseSecret(RequestBody(request));
  const absl::Status added =
      secret.ok() ? context.sink->AddSecret(*secret) : secret.status();
  if (!added.ok()) {
    ReplyError(request, 400, std::string(added.message()));
    return;
  }
  ReplyJson(request, 200, "{}");
}

struct Route {
  evhttp_cmd_type method;  // GET routes answer HEAD too.
  // The path; when it ends in '/', the prefix of the paths (with more after
  // it) the route answers.
  const char* path;
  bool control;  // Part of the control API: loopback clients only.
  void (*handle)(evhttp_request* request, const std::string& path,
                 const Context& context);
};

const Route kRoutes[] = {
    {EVHTTP_REQ_POST, "/webhooks", false, &HandleWebhook},
    {EVHTTP_REQ_POST, "/webhooks/", false, &HandleWebhook},
    {EVHTTP_REQ_POST, kFormPath, false, &HandleWebhook},
    {EVHTTP_REQ_GET, "/received", true,
     [](evhttp_request* request, const std::string&, const Context& context) {
       ReplyJson(request, 200, context.sink->ReceivedJson());
     }},
    {EVHTTP_REQ_GET, "/stats", true,
     [](evhttp_request* request, const std::string&, const Context& context) {
       ReplyJson(request, 200, context.sink->StatsJson());
     }},
    {EVHTTP_REQ_GET, "/received/", true, &HandleEvent},
    {EVHTTP_REQ_POST, "/behaviour", true, &HandleBehaviour},
    {EVHTTP_REQ_POST, "/secrets", true, &HandleSecrets},
    {EVHTTP_REQ_POST, "/reset", true,
     [](evhttp_request* request, const std::string&, const Context& context) {
       context.sink->Reset();
       ReplyJson(request, 200, "{}");
     }},
    {EVHTTP_REQ_GET, "/healthz", false,
     [](evhttp_request* request, const std::string&, const Context&) {
       Reply(request, 200, "ok\n", "text/plain");
     }},
};

bool Matches(const Route& route, evhttp_cmd_type method,
             const std::string& path) {
  if (method != route.method) return false;
  const absl::string_view route_path = route.path;
  if (absl::EndsWith(route_path, "/")) {
    return path.size() > route_path.size() &&
           absl::StartsWith(path, route_path);
  }
  return path == route_path;
}

// evhttp's callback for every request.
void HandleRequest(evhttp_request* request, void* argument) {
  const Context& context = *static_cast<const Context*>(argument);
  evhttp_cmd_type method = evhttp_request_get_command(request);
  // HEAD is answered like GET, without the body (evhttp drops it).
  if (method == EVHTTP_REQ_HEAD) method = EVHTTP_REQ_GET;
  const std::string path = RequestPath(request);
  for (const Route& route : kRoutes) {
    if (!Matches(route, method, path)) continue;
    if (route.control && !FromLoopback(Peer(request).first)) {
      ReplyError(request, 403, "the control API is for loopback clients only");
    } else {
      route.handle(request, path, context);
    }
    return;
  }
  Reply(request, 404, "", "text/plain");
}

// Opens a non-blocking socket listening on host:port with the largest
// backlog (a client may open hundreds of connections at once); port 0 picks
// a free port. Returns the socket and sets `port` to the bound one, or -1.
int Listen(const std::string& host, int& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints,
                  &addresses) != 0) {
    return -1;
  }
  int fd = -1;
  for (const addrinfo* address = addresses; address != nullptr;
       address = address->ai_next) {
    fd = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK,
                address->ai_protocol);
    if (fd < 0) continue;
    const int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(fd, address->ai_addr, address->ai_addrlen) == 0 &&
        listen(fd, SOMAXCONN) == 0) {
      break;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(addresses);
  if (fd < 0) return -1;
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  char service[NI_MAXSERV];
  getnameinfo(reinterpret_cast<sockaddr*>(&bound), length, nullptr, 0, service,
              sizeof(service), NI_NUMERICSERV);
  port = std::atoi(service);
  return fd;
}

// Starts an event loop on a thread of its own, accepting connections on
// `listen_fd` (every loop accepts from the same socket). It runs until the
// process ends.
bool StartLoop(int listen_fd, Context* context) {
  event_config* config = event_config_new();
  // Batches each loop pass's changes to which sockets are watched into
  // fewer epoll_ctl calls (evhttp turns reading and writing on and off for
  // every request).
  event_config_set_flag(config, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  event_base* base = event_base_new_with_config(config);
  event_config_free(config);
  evhttp* http = base == nullptr ? nullptr : evhttp_new(base);
  if (http == nullptr ||
      evhttp_accept_socket_with_handle(http, listen_fd) == nullptr) {
    return false;
  }
  evhttp_set_gencb(http, &HandleRequest, context);
  evhttp_set_max_body_size(http, 64 * 1024 * 1024);
  // How long an idle keep-alive connection (or a slow request) may take.
  evhttp_set_timeout(http, 30);
  std::thread([base] { event_base_dispatch(base); }).detach();
  return true;
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
  std::string form_file;
  app.add_option("--form-file", form_file,
                 "a trigger form (ats.v1.TriggerForm as JSON) to answer "
                 "POST /form with")
      ->check(CLI::ExistingFile);
  int threads = 1;
  app.add_option("--threads", threads,
                 "event loops serving requests, each on a thread of its own "
                 "and each serving any number of connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
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
  // Never destroyed: the loops use them until the process ends.
  std::string form;
  if (!form_file.empty()) {
    std::ifstream in(form_file, std::ios::binary);
    form.assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::cerr << "partner-sink: cannot read --form-file " << form_file
                << "\n";
      return 2;
    }
  }
  auto* const context =
      new Context{new Sink(secrets, absl::Minutes(5), std::move(form)), log};

  // A client that goes away mid-answer must not kill the sink.
  signal(SIGPIPE, SIG_IGN);
  // SIGINT and SIGTERM are waited for below; every loop thread (made from
  // here on) has them blocked.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  const int listen_fd = Listen(host, port);
  if (listen_fd < 0) {
    std::cerr << "partner-sink: cannot listen on " << listen << "\n";
    return 1;
  }
  for (int i = 0; i < threads; ++i) {
    if (!StartLoop(listen_fd, context)) {
      std::cerr << "partner-sink: cannot start an event loop\n";
      return 1;
    }
  }
  std::cout << "partner-sink listening on " << host << ":" << port << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  // The loops stop with the process; exiting normally would run static
  // destructors under them.
  std::fflush(stdout);
  std::_Exit(0);
}

}  // namespace
}  // namespace ats::partner_sink

int main(int argc, char** argv) { return ats::partner_sink::Run(argc, argv); }
