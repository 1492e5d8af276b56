// End to end: the real ats-admin binary against the real ats-server and the
// real partner-sink on loopback, as an admin at a shell would use it. Every
// command family, the exit codes, and `--output json` parsed back into the
// API's messages.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ats/v1/account_service.pb.h"
#include "ats/v1/integration_service.pb.h"
#include "ats/v1/job_service.pb.h"
#include "ats/v1/template_service.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/delivery/sink_process.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/loopback_port.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

#ifndef ATS_SERVER_BIN
#error "ATS_SERVER_BIN must name the ats-server binary"
#endif
#ifndef ATS_ADMIN_BIN
#error "ATS_ADMIN_BIN must name the ats-admin binary"
#endif
#ifndef ATS_README
#error "ATS_README must name the README whose ats-admin walk-through runs"
#endif

namespace ats::testing {
namespace {

// Bounds on waits, generous for a loaded machine; none is a timing
// assertion.
constexpr absl::Duration kStartTimeout = absl::Seconds(30);
constexpr absl::Duration kCommandTimeout = absl::Seconds(90);

// Exit codes ats-admin documents.
constexpr int kExitUsage = 2;
constexpr int kExitNotFound = 3;
constexpr int kExitPermission = 4;
constexpr int kExitConflict = 5;
constexpr int kExitUnavailable = 6;
constexpr int kExitNotDelivered = 7;
constexpr int kExitWaitTimedOut = 8;

// A configuration file that does not exist, which keeps the one of the user
// running the tests (its current context) out of them.
constexpr char kNoConfigFile[] = "/nonexistent/ats-admin/config.yaml";

// The environment setting naming it, for /usr/bin/env.
std::string NoConfig() {
  return absl::StrCat("ATS_ADMIN_CONFIG=", kNoConfigFile);
}

// `result`'s stdout as message M; a test failure if it is not one.
template <typename M>
M Parse(const CommandResult& result) {
  M message;
  const auto status =
      google::protobuf::util::JsonStringToMessage(result.out, &message);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n"
                           << result.out << result.err;
  return message;
}

std::string Describe(const CommandResult& result) {
  return absl::StrCat("exit ", result.exit_code, "\nstdout:\n", result.out,
                      "\nstderr:\n", result.err);
}

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(ATS_ADMIN_BIN, X_OK), 0)
        << "no ats-admin at " << ATS_ADMIN_BIN;
    auto sink = SinkProcess::Start(ATS_PARTNER_SINK_BIN);
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = *std::move(sink);
    port_ = PickFreeLoopbackPort();
    auto server = ChildProcess::Start(
        {ATS_SERVER_BIN, absl::StrCat("--listen=127.0.0.1:", port_),
         "--db=" + dir_.File("ats.db"), "--key_dir=" + dir_.path(),
         "--log_level=warn", "--shutdown_grace=2s",
         "--retry_schedule=0s,50ms,100ms",
         "--allowed_destination_networks=127.0.0.0/8,::1/128"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_.emplace(*std::move(server));
    ASSERT_TRUE(server_->WaitForTcpPort(port_, kStartTimeout))
        << server_->Log();
  }

  // Runs ats-admin with `args`, the server's address in ATS_SERVER and its
  // key directory in ATS_KEY_DIR, as a user in the checkout would (with no
  // configuration file, whatever the user running the test has).
  CommandResult Admin(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {
        "/usr/bin/env", absl::StrCat("ATS_SERVER=127.0.0.1:", port_),
        "ATS_KEY_DIR=" + dir_.path(), NoConfig(), ATS_ADMIN_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, kCommandTimeout);
  }

  // Runs ats-admin and expects success; returns what it printed.
  CommandResult AdminOk(const std::vector<std::string>& args) {
    CommandResult result = Admin(args);
    EXPECT_EQ(result.exit_code, 0) << absl::StrJoin(args, " ") << "\n"
                                   << Describe(result);
    return result;
  }

  std::string ReadAdminKey() {
    std::ifstream in(dir_.File("ats.admin.key"));
    std::string key;
    std::getline(in, key);
    return key;
  }

  std::string WriteFile(const std::string& name, const std::string& contents) {
    const std::string path = dir_.File(name);
    std::ofstream(path) << contents;
    return path;
  }

  // Lists the Assessly partner (at the sink) and activates it; returns the
  // integration, whose secret the sink then accepts.
  ats::v1::Integration ActivatePartner() {
    const std::string file = WriteFile(
        "assessly.json",
        absl::StrCat(
            R"({"displayName": "Assessly", "category": "PARTNER_CATEGORY_ASSESSMENT",
                         "webhookUri": ")",
            sink_->webhook_url(), R"(",
                         "activationFields": [{"key": "api_key", "displayName": "API key", "required": true, "secret": true}],
                         "triggerOptions": [{"key": "test_package", "displayName": "Test", "required": true,
                                             "allowedValues": ["java-senior", "sql-basics"]}],
                         "candidateFields": ["CANDIDATE_FIELD_GIVEN_NAME"]})"));
    const auto partner = Parse<ats::v1::Partner>(
        AdminOk({"partners", "create", "--file", file, "-o", "json"}));
    EXPECT_EQ(partner.trigger_options_size(), 1);
    const auto activated = Parse<ats::v1::ActivateIntegrationResponse>(
        AdminOk({"integrations", "activate", partner.name(), "--value",
                 "api_key=ak_live_123", "-o", "json"}));
    EXPECT_TRUE(sink_->AddSecret(activated.signing_secret()).ok());
    return activated.integration();
  }

  // A job copied from the default template.
  ats::v1::Job CreateJob(const std::string& title) {
    return Parse<ats::v1::Job>(
        AdminOk({"jobs", "create", title, "--state", "open", "-o", "json"}));
  }

  // A job copied from the default template whose Screening stage sends
  // `integration`'s test.
  ats::v1::Job JobTestingAtScreening(const std::string& title,
                                     const ats::v1::Integration& integration) {
    const ats::v1::Job job = CreateJob(title);
    AdminOk({"jobs", "triggers", "add", job.name(), "Screening",
             "--integration", integration.name(), "--option",
             "test_package=sql-basics"});
    return job;
  }

  // Adds a candidate to `job` (at its first stage); returns the candidate.
  ats::v1::Candidate AddCandidate(const std::string& given_name,
                                  const std::string& job) {
    return Parse<ats::v1::Candidate>(
        AdminOk({"candidates", "add", "--given-name", given_name, "--email",
                 given_name + "@example.com", "--job", job, "-o", "json"}));
  }

  TempDir dir_;
  std::unique_ptr<SinkProcess> sink_;
  int port_ = 0;
  std::optional<ChildProcess> server_;
};

TEST_F(AdminTest, TheWholeStoryFromTheMarketplaceToADeliveredEvent) {
  // The Marketplace and the integration.
  const ats::v1::Integration integration = ActivatePartner();
  EXPECT_TRUE(absl::StrContains(AdminOk({"partners", "list"}).out, "Assessly"));
  const auto listed = Parse<ats::v1::ListIntegrationsResponse>(
      AdminOk({"integrations", "list", "--state", "active", "-o", "json"}));
  ASSERT_EQ(listed.integrations_size(), 1);
  EXPECT_EQ(listed.integrations(0).name(), integration.name());
  const auto renamed = Parse<ats::v1::Integration>(
      AdminOk({"integrations", "update", integration.name(), "--display-name",
               "Assessly EU", "-o", "json"}));
  EXPECT_EQ(renamed.display_name(), "Assessly EU");
  EXPECT_TRUE(absl::StrContains(
      AdminOk({"integrations", "show", integration.name()}).out,
      "Assessly EU"));

  // The default template gets the partner's test on Screening, so new jobs
  // carry it.
  const auto edited = Parse<ats::v1::JobTemplate>(
      AdminOk({"templates", "edit", "--stage", "Screening", "--integration",
               integration.name(), "--option", "test_package=java-senior", "-o",
               "json"}));
  ASSERT_GE(edited.stages_size(), 2);
  ASSERT_EQ(edited.stages(1).triggers_size(), 1);
  EXPECT_EQ(edited.stages(1).triggers(0).integration_event().integration(),
            integration.name());
  const std::string shown_template = AdminOk({"templates", "show"}).out;
  EXPECT_TRUE(absl::StrContains(shown_template, "test_package=java-senior"))
      << shown_template;

  // A recruiter's key, used from here on as a recruiter would.
  const auto key = Parse<ats::v1::CreateApiKeyResponse>(
      AdminOk({"keys", "create", "recruiting team", "--role", "recruiter", "-o",
               "json"}));
  ASSERT_FALSE(key.secret().empty());
  EXPECT_TRUE(
      absl::StrContains(AdminOk({"keys", "list"}).out, "recruiting team"));
  auto recruiter = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--token", key.secret()});
    return AdminOk(args);
  };

  const auto job = Parse<ats::v1::Job>(recruiter(
      {"jobs", "create", "Backend engineer", "--state", "open", "-o", "json"}));
  ASSERT_GE(job.stages_size(), 2);
  EXPECT_EQ(job.stages(1).triggers_size(), 1) << "the job copies the template";
  const std::string jobs = recruiter({"jobs", "list"}).out;
  EXPECT_TRUE(absl::StrContains(jobs, "Backend engineer")) << jobs;
  // --no-headers leaves out just the header line, for scripts.
  const std::string bare = recruiter({"jobs", "list", "--no-headers"}).out;
  EXPECT_EQ(bare, jobs.substr(jobs.find('\n') + 1)) << jobs << bare;
  EXPECT_FALSE(bare.empty());
  const auto ada = Parse<ats::v1::Candidate>(
      recruiter({"candidates", "add", "--given-name", "Ada", "--family-name",
                 "Lovelace", "--email", "ada@example.com", "--tag", "backend",
                 "--job", job.name(), "-o", "json"}));
  EXPECT_EQ(ada.tags_size(), 1);

  // The move fires the Screening trigger; the event is delivered to the sink.
  const auto moved = Parse<ats::v1::MoveCandidateResponse>(
      recruiter({"move", job.name(), ada.name(), "Screening", "-o", "json"}));
  EXPECT_TRUE(moved.moved());
  ASSERT_EQ(moved.events_size(), 1);
  const std::string event = moved.events(0).name();
  const CommandResult watched =
      recruiter({"events", "watch", event, "--max-wait", "60"});
  EXPECT_TRUE(absl::StrContains(watched.out, "SENT")) << Describe(watched);
  const auto delivered =
      Parse<ats::v1::Event>(recruiter({"events", "show", event, "-o", "json"}));
  EXPECT_EQ(delivered.state(), ats::v1::EVENT_STATE_SENT);
  ASSERT_GE(delivered.attempts_size(), 1);
  EXPECT_EQ(delivered.attempts(0).http_status(), 200);
  EXPECT_EQ(delivered.option_values().at("test_package"), "java-senior");
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->deliveries.count(event), 1u);

  const auto events = Parse<ats::v1::ListEventsResponse>(
      recruiter({"events", "list", "--job", job.name(), "--state", "sent", "-o",
                 "json"}));
  ASSERT_EQ(events.events_size(), 1);
  EXPECT_EQ(events.events(0).name(), event);
  const std::string shown_event = recruiter({"events", "show", event}).out;
  EXPECT_TRUE(absl::StrContains(shown_event, "HTTP")) << shown_event;

  // The job's pipeline shows Ada in Screening under its trigger.
  const std::string pipeline = recruiter({"jobs", "show", job.name()}).out;
  EXPECT_TRUE(absl::StrContains(pipeline, "Screening")) << pipeline;
  EXPECT_TRUE(absl::StrContains(pipeline, ada.name())) << pipeline;
}

TEST_F(AdminTest, JobStagesAndTriggersAreAddedAndRemoved) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job = CreateJob("Data engineer");
  const auto stage = Parse<ats::v1::Stage>(
      AdminOk({"jobs", "stages", "add", job.name(), "Take-home", "--position",
               "1", "-o", "json"}));
  EXPECT_EQ(stage.position(), 1);
  const auto trigger = Parse<ats::v1::Trigger>(
      AdminOk({"jobs", "triggers", "add", job.name(), "Take-home",
               "--integration", integration.name(), "--option",
               "test_package=sql-basics", "--delay", "1h", "-o", "json"}));
  EXPECT_EQ(trigger.delay().seconds(), 3600);
  const auto tagging = Parse<ats::v1::Trigger>(
      AdminOk({"jobs", "triggers", "add", job.name(), stage.name(), "--tag",
               "take-home", "-o", "json"}));
  EXPECT_EQ(tagging.add_tag().tag(), "take-home");
  // A webhook trigger declares the candidate fields it receives.
  const auto hook = Parse<ats::v1::Trigger>(
      AdminOk({"jobs", "triggers", "add", job.name(), "Hired", "--webhook",
               "https://hooks.example/hired", "--field", "email", "--field",
               "GIVEN_NAME", "-o", "json"}));
  ASSERT_EQ(hook.webhook().candidate_fields_size(), 2);
  EXPECT_EQ(hook.webhook().candidate_fields(0), ats::v1::CANDIDATE_FIELD_EMAIL);
  EXPECT_EQ(hook.webhook().candidate_fields(1),
            ats::v1::CANDIDATE_FIELD_GIVEN_NAME);
  EXPECT_TRUE(absl::StrContains(AdminOk({"jobs", "show", job.name()}).out,
                                "webhook https://hooks.example/hired "
                                "(email, given_name)"));
  EXPECT_EQ(Admin({"jobs", "triggers", "add", job.name(), "Hired", "--webhook",
                   "https://hooks.example/x", "--field", "age"})
                .exit_code,
            kExitUsage);

  // A move into Take-home tags the candidate and schedules the delayed
  // event, which can be cancelled.
  const auto grace = AddCandidate("grace", job.name());
  const auto moved = Parse<ats::v1::MoveCandidateResponse>(
      AdminOk({"move", job.name(), grace.name(), "Take-home", "-o", "json"}));
  ASSERT_EQ(moved.events_size(), 1);
  EXPECT_EQ(moved.events(0).state(), ats::v1::EVENT_STATE_SCHEDULED);
  const auto tagged = Parse<ats::v1::ListCandidatesResponse>(
      AdminOk({"candidates", "list", "--tag", "take-home", "-o", "json"}));
  ASSERT_EQ(tagged.candidates_size(), 1);
  EXPECT_EQ(tagged.candidates(0).name(), grace.name());
  const auto cancelled = Parse<ats::v1::Event>(
      AdminOk({"events", "cancel", moved.events(0).name(), "-o", "json"}));
  EXPECT_EQ(cancelled.state(), ats::v1::EVENT_STATE_CANCELED);

  AdminOk({"jobs", "triggers", "remove", trigger.name()});
  AdminOk({"jobs", "triggers", "remove", tagging.name(), "-o", "json"});
  // The stage still holds Grace: removing it is a conflict until she moves.
  EXPECT_EQ(
      Admin({"jobs", "stages", "remove", job.name(), "Take-home"}).exit_code,
      kExitConflict);
  AdminOk({"move", job.name(), grace.name(), "Inbox"});
  AdminOk({"jobs", "stages", "remove", job.name(), "Take-home"});
  const auto after =
      Parse<ats::v1::Job>(AdminOk({"jobs", "show", job.name(), "-o", "json"}));
  for (const ats::v1::Stage& remaining : after.stages()) {
    EXPECT_NE(remaining.display_name(), "Take-home");
  }
}

TEST_F(AdminTest, MovingRulesAreWrittenAndShownReadably) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job = CreateJob("Data engineer");
  AdminOk({"jobs", "stages", "add", job.name(), "Rejected"});
  const auto trigger = Parse<ats::v1::Trigger>(
      AdminOk({"jobs", "triggers", "add", job.name(), "Screening",
               "--integration", integration.name(), "--option",
               "test_package=sql-basics", "--rule", "score<50 -> Rejected",
               "--rule", "score=50..80 or status=pending -> interview",
               "--rule", "status=failed -> nothing", "-o", "json"}));
  ASSERT_EQ(trigger.rules_size(), 3);
  const ats::v1::MovingRule& low = trigger.rules(0);
  ASSERT_EQ(low.conditions_size(), 1);
  EXPECT_EQ(low.conditions(0).result_score().comparison(),
            ats::v1::SCORE_COMPARISON_BELOW);
  EXPECT_EQ(low.conditions(0).result_score().value(), 50);
  // Display names come back as the stages' names.
  EXPECT_TRUE(absl::StartsWith(low.move_to_stage(), job.name() + "/stages/"))
      << low.move_to_stage();
  const ats::v1::MovingRule& middle = trigger.rules(1);
  EXPECT_EQ(middle.match(), ats::v1::RULE_MATCH_ANY);
  ASSERT_EQ(middle.conditions_size(), 2);
  EXPECT_EQ(middle.conditions(0).result_score().comparison(),
            ats::v1::SCORE_COMPARISON_BETWEEN);
  EXPECT_EQ(middle.conditions(0).result_score().upper_value(), 80);
  EXPECT_EQ(middle.conditions(1).status().statuses(0),
            ats::v1::PARTNER_RESULT_STATUS_PENDING);
  EXPECT_TRUE(trigger.rules(2).do_nothing());
  const std::string shown = AdminOk({"jobs", "show", job.name()}).out;
  EXPECT_TRUE(absl::StrContains(shown, "rules: score<50 -> jobs/")) << shown;
  EXPECT_TRUE(absl::StrContains(shown, "status=failed -> nothing")) << shown;

  // Bad rules are usage errors before any call, or the server's
  // INVALID_ARGUMENT naming the rule.
  for (const char* bad : {"score<50", "score<abc -> Rejected",
                          "score<50 and status=failed or score>1 -> Rejected",
                          "status<3 -> Rejected", "-> "}) {
    const CommandResult refused =
        Admin({"jobs", "triggers", "add", job.name(), "Screening",
               "--integration", integration.name(), "--option",
               "test_package=sql-basics", "--rule", bad});
    EXPECT_EQ(refused.exit_code, kExitUsage)
        << bad << ": " << Describe(refused);
  }
  const CommandResult unknown = Admin(
      {"jobs", "triggers", "add", job.name(), "Screening", "--integration",
       integration.name(), "--option", "test_package=sql-basics", "--rule",
       "drug_test=clear -> Interview"});
  EXPECT_EQ(unknown.exit_code, kExitUsage) << Describe(unknown);
  EXPECT_TRUE(
      absl::StrContains(unknown.err, "trigger.rules[0].conditions[0].outcome"))
      << unknown.err;
}

TEST_F(AdminTest, ADeadEventIsRetriedAndARotatedSecretSigns) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job = CreateJob("Site reliability engineer");
  AdminOk({"jobs", "triggers", "add", job.name(), "Screening", "--integration",
           integration.name(), "--option", "test_package=java-senior"});
  // Every attempt of the (three-step) retry schedule fails: the event dies.
  ASSERT_TRUE(sink_->SetBehaviour(R"({"status": 500, "times": 3})").ok());
  const auto lin = AddCandidate("lin", job.name());
  const auto moved = Parse<ats::v1::MoveCandidateResponse>(
      AdminOk({"move", job.name(), lin.name(), "Screening", "-o", "json"}));
  ASSERT_EQ(moved.events_size(), 1);
  const std::string event = moved.events(0).name();
  const auto dead = Parse<ats::v1::Event>(
      AdminOk({"events", "watch", event, "--max-wait", "60", "-o", "json"}));
  EXPECT_EQ(dead.state(), ats::v1::EVENT_STATE_DEAD);

  // Rotating gives a new secret (the sink accepts it as well as the old).
  const auto rotated = Parse<ats::v1::RotateSigningSecretResponse>(AdminOk(
      {"integrations", "rotate-secret", integration.name(), "-o", "json"}));
  ASSERT_TRUE(sink_->AddSecret(rotated.signing_secret()).ok());
  AdminOk({"events", "retry", event});
  const auto sent = Parse<ats::v1::Event>(
      AdminOk({"events", "watch", event, "--max-wait", "60", "-o", "json"}));
  EXPECT_EQ(sent.state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_GE(sent.attempt_count(), 1);

  // A deactivated integration makes the trigger skip; reactivated, it runs.
  AdminOk({"integrations", "deactivate", integration.name()});
  const auto skipped = Parse<ats::v1::MoveCandidateResponse>(
      AdminOk({"move", job.name(), AddCandidate("mo", job.name()).name(),
               "Screening", "-o", "json"}));
  ASSERT_EQ(skipped.events_size(), 1);
  EXPECT_EQ(skipped.events(0).state(), ats::v1::EVENT_STATE_SKIPPED);
  const auto reactivated = Parse<ats::v1::Integration>(AdminOk(
      {"integrations", "reactivate", integration.name(), "-o", "json"}));
  EXPECT_EQ(reactivated.state(), ats::v1::INTEGRATION_STATE_ACTIVE);
}

TEST_F(AdminTest, CandidatesAreImportedFromCsvRowByRow) {
  const ats::v1::Job job = CreateJob("Designer");
  const std::string csv =
      WriteFile("people.csv",
                "given_name,family_name,email,tags\n"
                "Ada,Lovelace,ada@example.com,design senior\n"
                "\"Grace, Jr.\",Hopper,grace@example.com,design\n"
                "Ada again,Lovelace,ada@example.com,\n");
  const CommandResult imported =
      Admin({"candidates", "import", csv, "--job", job.name()});
  // The duplicate email fails its row and the command, after the others.
  EXPECT_EQ(imported.exit_code, kExitConflict) << Describe(imported);
  EXPECT_TRUE(absl::StrContains(imported.out, "grace@example.com"))
      << imported.out;
  const auto listed = Parse<ats::v1::ListCandidatesResponse>(
      AdminOk({"candidates", "list", "--tag", "design", "-o", "json"}));
  ASSERT_EQ(listed.candidates_size(), 2);
  const auto grace = Parse<ats::v1::Candidate>(AdminOk(
      {"candidates", "show", listed.candidates(0).name(), "-o", "json"}));
  EXPECT_EQ(grace.given_name(), "Grace, Jr.");
  const auto pipeline =
      Parse<ats::v1::Job>(AdminOk({"jobs", "show", job.name(), "-o", "json"}));
  EXPECT_EQ(pipeline.stages(0).candidate_count(), 2);
}

TEST_F(AdminTest, AccountsTemplatesAndKeysAreManaged) {
  const auto account = Parse<ats::v1::Account>(
      AdminOk({"accounts", "create", "Acme Corp", "-o", "json"}));
  const auto accounts = Parse<ats::v1::ListAccountsResponse>(
      AdminOk({"accounts", "list", "-o", "json"}));
  EXPECT_EQ(accounts.accounts_size(), 2);
  EXPECT_TRUE(absl::StrContains(
      AdminOk({"accounts", "show", account.name()}).out, "Acme Corp"));

  const auto copy = Parse<ats::v1::JobTemplate>(
      AdminOk({"templates", "create", "Engineering", "-o", "json"}));
  EXPECT_GE(copy.stages_size(), 5);
  const auto renamed = Parse<ats::v1::JobTemplate>(
      AdminOk({"templates", "edit", copy.name(), "--add-stage", "Take-home",
               "--remove-stage", "Offer", "-o", "json"}));
  EXPECT_EQ(renamed.stages_size(), copy.stages_size());
  const auto chosen = Parse<ats::v1::JobTemplate>(
      AdminOk({"templates", "set-default", copy.name(), "-o", "json"}));
  EXPECT_TRUE(chosen.default_());
  const auto listed = Parse<ats::v1::ListJobTemplatesResponse>(
      AdminOk({"templates", "list", "-o", "json"}));
  EXPECT_EQ(listed.job_templates_size(), 2);
  const ats::v1::Job job = CreateJob("Platform engineer");
  EXPECT_EQ(job.template_(), copy.name());

  const auto key = Parse<ats::v1::CreateApiKeyResponse>(
      AdminOk({"keys", "create", "temp", "--role", "recruiter", "-o", "json"}));
  AdminOk({"keys", "revoke", key.api_key().name()});
  EXPECT_EQ(Admin({"jobs", "list", "--token", key.secret()}).exit_code,
            kExitPermission);
  const auto keys = Parse<ats::v1::ListApiKeysResponse>(
      AdminOk({"keys", "list", "--revoked", "-o", "json"}));
  bool revoked_listed = false;
  for (const auto& listed_key : keys.api_keys()) {
    revoked_listed |= listed_key.name() == key.api_key().name() &&
                      listed_key.has_revoke_time();
  }
  EXPECT_TRUE(revoked_listed);
}

TEST_F(AdminTest, ExitCodesSayWhatWentWrong) {
  // Usage: a bad flag value, a missing subcommand, invalid input.
  EXPECT_EQ(Admin({"jobs", "list", "--state", "bogus"}).exit_code, kExitUsage);
  EXPECT_EQ(Admin({"jobs"}).exit_code, kExitUsage);
  EXPECT_EQ(Admin({"nonsense"}).exit_code, kExitUsage);
  const CommandResult invalid = Admin(
      {"candidates", "add", "--given-name", "Ada", "--email", "not-an-email"});
  EXPECT_EQ(invalid.exit_code, kExitUsage) << Describe(invalid);
  EXPECT_TRUE(absl::StrContains(invalid.err, "  candidate.email: "))
      << invalid.err;
  // Each violation is printed once.
  EXPECT_EQ(invalid.err.find("candidate.email"),
            invalid.err.rfind("candidate.email"))
      << invalid.err;

  const CommandResult missing = Admin({"jobs", "show", "jobs/nope"});
  EXPECT_EQ(missing.exit_code, kExitNotFound) << Describe(missing);
  EXPECT_TRUE(absl::StrContains(missing.err, "NOT_FOUND")) << missing.err;

  EXPECT_EQ(Admin({"jobs", "list", "--token", "ats_bogus"}).exit_code,
            kExitPermission);
  // An admin key may not list partners in the Marketplace.
  EXPECT_EQ(Admin({"partners", "create", "--display-name", "X", "--category",
                   "other", "--webhook-uri", "http://127.0.0.1:1/x", "--token",
                   ReadAdminKey()})
                .exit_code,
            kExitPermission);

  const ats::v1::Integration integration = ActivatePartner();
  EXPECT_EQ(Admin({"integrations", "activate", integration.partner(), "--value",
                   "api_key=again"})
                .exit_code,
            kExitConflict);

  const int closed_port = PickFreeLoopbackPort();
  const CommandResult unreachable =
      Admin({"jobs", "list", "--server",
             absl::StrCat("127.0.0.1:", closed_port), "--timeout", "2"});
  EXPECT_EQ(unreachable.exit_code, kExitUnavailable) << Describe(unreachable);

  // No key anywhere: unauthenticated, and the message says where keys come
  // from.
  const CommandResult keyless =
      RunCommand({"/usr/bin/env", "ATS_KEY_DIR=" + dir_.File("nowhere"),
                  NoConfig(), ATS_ADMIN_BIN, "jobs", "list", "--server",
                  absl::StrCat("127.0.0.1:", port_)},
                 kCommandTimeout);
  EXPECT_EQ(keyless.exit_code, kExitPermission) << Describe(keyless);
  EXPECT_TRUE(absl::StrContains(keyless.err, "no API key: pass --token"))
      << keyless.err;
}

// The subcommands a --help lists, from its "Subcommands:" section.
std::vector<std::string> SubcommandsIn(const std::string& help) {
  std::vector<std::string> names;
  const size_t start = help.find("\nSubcommands:\n");
  if (start == std::string::npos) return names;
  std::istringstream lines(help.substr(start + 14));
  static const std::regex kListed("  (\\S+)\\s.*|  (\\S+)");
  std::smatch listed;
  for (std::string line; std::getline(lines, line) && !line.empty();) {
    if (std::regex_match(line, listed, kListed)) {
      names.push_back(listed[1].matched ? listed[1] : listed[2]);
    }
  }
  return names;
}

TEST(AdminHelpTest, EveryCommandsHelpHasAnExample) {
  // Walks the tree the help itself shows, so a new command is covered
  // without being listed here.
  std::vector<std::vector<std::string>> pending = {{}};
  std::set<std::string> walked;
  while (!pending.empty()) {
    const std::vector<std::string> command = pending.back();
    pending.pop_back();
    const std::string name = absl::StrJoin(command, " ");
    walked.insert(name);
    std::vector<std::string> argv = {ATS_ADMIN_BIN};
    argv.insert(argv.end(), command.begin(), command.end());
    argv.push_back("--help");
    const CommandResult help = RunCommand(argv, kCommandTimeout);
    EXPECT_EQ(help.exit_code, 0) << name << Describe(help);
    EXPECT_TRUE(absl::StrContains(help.out, "\nExample:\n  ats-admin "))
        << "ats-admin " << name << " --help has no example:\n"
        << help.out;
    for (const std::string& subcommand : SubcommandsIn(help.out)) {
      pending.push_back(command);
      pending.back().push_back(subcommand);
    }
  }
  // The walk read the tree, deep groups and new commands included.
  EXPECT_GE(walked.size(), 60u) << absl::StrJoin(walked, "\n");
  for (const char* command :
       {"jobs stages add", "bulk-ops watch", "config use-context",
        "config get-contexts", "completion", "move", "trigger"}) {
    EXPECT_EQ(walked.count(command), 1u) << command;
  }
}

TEST_F(AdminTest, VersionPrintsTheVersion) {
  const CommandResult version =
      RunCommand({ATS_ADMIN_BIN, "--version"}, kCommandTimeout);
  EXPECT_EQ(version.exit_code, 0) << Describe(version);
  EXPECT_EQ(version.out, std::string("ats-admin ") + ATS_VERSION + "\n");
}

TEST_F(AdminTest, OneCandidateAndManyAreTriggeredByHand) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job = CreateJob("QA engineer");
  const auto ada = AddCandidate("ada", job.name());
  const auto manual = Parse<ats::v1::Event>(
      AdminOk({"trigger", integration.name(), ada.name(), "--job", job.name(),
               "--option", "test_package=sql-basics", "-o", "json"}));
  EXPECT_EQ(manual.source(), ats::v1::EVENT_SOURCE_MANUAL);
  EXPECT_EQ(manual.job(), job.name());
  const auto sent = Parse<ats::v1::Event>(AdminOk(
      {"events", "watch", manual.name(), "--max-wait", "60", "-o", "json"}));
  EXPECT_EQ(sent.state(), ats::v1::EVENT_STATE_SENT);
  // A missing required option is the server's INVALID_ARGUMENT: usage.
  EXPECT_EQ(Admin({"trigger", integration.name(), ada.name()}).exit_code,
            kExitUsage);

  // Everyone in the job, plus one unknown name in an explicit list.
  AddCandidate("grace", job.name());
  const CommandResult bulk =
      AdminOk({"bulk-trigger", integration.name(), "--job", job.name(),
               "--option", "test_package=java-senior"});
  // Not a terminal: plain progress lines, then the operation's fields.
  EXPECT_TRUE(std::regex_search(
      bulk.out, std::regex("bulkOperations/\\S+  2/2  created 2")))
      << Describe(bulk);
  const std::string list_file = WriteFile(
      "candidates.txt", absl::StrCat(ada.name(), "\ncandidates/nobody\n"));
  const auto listed = Parse<ats::v1::BulkOperation>(
      AdminOk({"bulk-trigger", integration.name(), "--file", list_file,
               "--option", "test_package=java-senior", "-o", "json"}));
  EXPECT_EQ(listed.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(listed.created_count(), 1);
  EXPECT_EQ(listed.skipped_count(), 1);
  const auto skipped = Parse<ats::v1::ListBulkOperationItemsResponse>(
      AdminOk({"bulk-ops", "items", listed.name(), "--outcome", "skipped", "-o",
               "json"}));
  ASSERT_EQ(skipped.items_size(), 1);
  EXPECT_EQ(skipped.items(0).candidate(), "candidates/nobody");
  const auto operations = Parse<ats::v1::ListBulkOperationsResponse>(
      AdminOk({"bulk-ops", "list", "-o", "json"}));
  EXPECT_EQ(operations.bulk_operations_size(), 2);
  const auto shown = Parse<ats::v1::BulkOperation>(
      AdminOk({"bulk-ops", "show", listed.name(), "-o", "json"}));
  EXPECT_EQ(shown.total_count(), 2);
  EXPECT_TRUE(absl::StrContains(
      AdminOk({"bulk-ops", "watch", listed.name()}).out, "SUCCEEDED"));
  // An operation that ended cannot be cancelled.
  EXPECT_EQ(Admin({"bulk-trigger", "--cancel", listed.name()}).exit_code,
            kExitConflict);
  EXPECT_EQ(Admin({"bulk-ops", "cancel", listed.name()}).exit_code,
            kExitConflict);
  // Two selections at once, or none, is a usage error.
  EXPECT_EQ(Admin({"bulk-trigger", integration.name(), "--all", "--tag", "x"})
                .exit_code,
            kExitUsage);
  EXPECT_EQ(Admin({"bulk-trigger", integration.name()}).exit_code, kExitUsage);
}

TEST_F(AdminTest, CtrlCStopsWatchingABulkTriggerButNotTheOperation) {
  const ats::v1::Integration integration = ActivatePartner();
  // Enough candidates for the operation to run a while in batches.
  constexpr int kCandidates = 12000;
  std::string csv = "given_name,email\n";
  for (int i = 0; i < kCandidates; ++i) {
    absl::StrAppend(&csv, "P", i, ",p", i, "@example.com\n");
  }
  AdminOk({"candidates", "import", WriteFile("many.csv", csv), "-o", "json"});

  auto bulk =
      ChildProcess::Start({ATS_ADMIN_BIN, "bulk-trigger", integration.name(),
                           "--all", "--option", "test_package=java-senior"},
                          {{"ATS_SERVER", absl::StrCat("127.0.0.1:", port_)},
                           {"ATS_KEY_DIR", dir_.path()},
                           {"ATS_ADMIN_CONFIG", kNoConfigFile}});
  ASSERT_TRUE(bulk.ok()) << bulk.status();
  const absl::Time deadline = absl::Now() + kCommandTimeout;
  while (!absl::StrContains(bulk->Log(), "bulkOperations/") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(bulk->Stop(SIGINT), 0) << bulk->Log();
  const std::string log = bulk->Log();
  std::smatch name;
  ASSERT_TRUE(std::regex_search(log, name, std::regex("bulkOperations/\\w+")))
      << log;
  if (!absl::StrContains(log, "SUCCEEDED")) {
    // Interrupted before the end: it says how to follow the operation.
    EXPECT_TRUE(absl::StrContains(
        log, absl::StrCat("ats-admin bulk-ops watch ", name.str())))
        << log;
  }
  // Either way the operation went on to the end.
  const auto done = Parse<ats::v1::BulkOperation>(
      AdminOk({"bulk-ops", "watch", name.str(), "-o", "json"}));
  EXPECT_EQ(done.state(), ats::v1::BULK_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(done.created_count(), kCandidates);
}

TEST_F(AdminTest, ContextsChooseTheServerAndTheKey) {
  // A second server, with its own database and keys.
  TempDir other;
  const int other_port = PickFreeLoopbackPort();
  auto second = ChildProcess::StartListening(
      {ATS_SERVER_BIN, absl::StrCat("--listen=127.0.0.1:", other_port),
       "--db=" + other.File("ats.db"), "--log_level=warn",
       "--shutdown_grace=2s"},
      other_port, kStartTimeout);
  ASSERT_TRUE(second.ok()) << second.status();
  const std::string one = absl::StrCat("127.0.0.1:", port_);
  const std::string two = absl::StrCat("127.0.0.1:", other_port);

  // ats-admin as a user with a configuration file and nothing in the
  // environment, plus `env`.
  const std::string config = dir_.File("home/ats-admin/config.yaml");
  auto admin = [&](const std::vector<std::string>& args,
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {
        "/usr/bin/env", "-u", "ATS_SERVER",  "-u",
        "ATS_TOKEN",    "-u", "ATS_KEY_DIR", "ATS_ADMIN_CONFIG=" + config};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(ATS_ADMIN_BIN);
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv, kCommandTimeout);
  };
  auto admin_ok = [&](const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {}) {
    const CommandResult result = admin(args, env);
    EXPECT_EQ(result.exit_code, 0) << absl::StrJoin(args, " ") << "\n"
                                   << Describe(result);
    return result;
  };

  admin_ok({"config", "set-context", "one", "--server", one, "--key-file",
            dir_.File("ats.admin.key")});
  admin_ok({"config", "set-context", "two", "--server", two, "--key-file",
            other.File("ats.admin.key")});
  // Written whole, for its owner only.
  EXPECT_EQ(FileMode(config), 0600);
  EXPECT_EQ(FileMode(dir_.File("home/ats-admin")), 0700);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(
                              dir_.File("home/ats-admin")),
                          std::filesystem::directory_iterator()),
            1);

  EXPECT_TRUE(absl::StrContains(admin_ok({"config", "use-context", "one"}).out,
                                "\"one\""));
  EXPECT_EQ(admin_ok({"config", "current-context"}).out, "one\n");
  admin_ok({"jobs", "create", "Only on one", "--state", "open"});
  EXPECT_TRUE(absl::StrContains(admin_ok({"jobs", "list"}).out, "Only on one"));

  // Switching the context switches the server called.
  admin_ok({"config", "use-context", "two"});
  const CommandResult on_two = admin_ok({"jobs", "list", "-o", "json"});
  EXPECT_EQ(Parse<ats::v1::ListJobsResponse>(on_two).jobs_size(), 0)
      << on_two.out;
  EXPECT_TRUE(absl::StrContains(
      admin_ok({"--context", "one", "jobs", "list"}).out, "Only on one"));
  const std::string listed = admin_ok({"config", "get-contexts"}).out;
  EXPECT_TRUE(std::regex_search(listed, std::regex("\n {9}one +" + one + " +" +
                                                   dir_.File("ats.admin.key"))))
      << listed;
  EXPECT_TRUE(std::regex_search(listed, std::regex("\n\\* +two +" + two)))
      << listed;

  // Flags and the environment outrank the context, setting by setting:
  // server one with the key of two is refused, with one's key it works.
  EXPECT_EQ(admin({"jobs", "list"}, {"ATS_SERVER=" + one}).exit_code,
            kExitPermission);
  EXPECT_TRUE(absl::StrContains(
      admin_ok({"jobs", "list"},
               {"ATS_SERVER=" + one, "ATS_TOKEN=" + ReadAdminKey()})
          .out,
      "Only on one"));
  EXPECT_TRUE(
      absl::StrContains(admin_ok({"jobs", "list", "--server", one, "--key-file",
                                  dir_.File("ats.admin.key")})
                            .out,
                        "Only on one"));

  // A key file others may read still serves, with the server's warning.
  ASSERT_EQ(::chmod(other.File("ats.admin.key").c_str(), 0644), 0);
  const CommandResult warned = admin_ok({"jobs", "list"});
  EXPECT_TRUE(absl::StrContains(
      warned.err, other.File("ats.admin.key") +
                      " (0644) is readable or writable by other users"))
      << warned.err;

  EXPECT_EQ(admin({"--context", "three", "jobs", "list"}).exit_code,
            kExitNotFound);
  EXPECT_EQ(admin({"config", "use-context", "three"}).exit_code, kExitNotFound);
  admin_ok({"config", "delete-context", "two"});
  EXPECT_EQ(admin({"config", "current-context"}).exit_code, kExitNotFound);
  EXPECT_FALSE(
      absl::StrContains(admin_ok({"config", "get-contexts"}).out, "two"));

  // A file the user broke says where.
  std::ofstream(config) << "contexts:\n  - name: one\n    keyfile: x\n";
  const CommandResult broken = admin({"jobs", "list"});
  EXPECT_EQ(broken.exit_code, kExitUsage) << Describe(broken);
  EXPECT_TRUE(absl::StrContains(broken.err, config + ":3: unknown key"))
      << broken.err;
  EXPECT_EQ(second->Stop(), 0) << second->Log();
}

// Checks with PyYAML that the YAML document argv[2] holds the JSON
// document argv[1] (as YAML 1.1 reads it: yes, no, dates... are not
// strings unless quoted).
constexpr char kSameDocument[] = R"py(
import json, sys, yaml
with open(sys.argv[1]) as j, open(sys.argv[2]) as y:
    from_json, from_yaml = json.load(j), yaml.safe_load(y)
if from_json != from_yaml:
    sys.exit("JSON: %r\nYAML: %r" % (from_json, from_yaml))
)py";

TEST_F(AdminTest, YamlOutputIsTheJsonDocument) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job = JobTestingAtScreening("Analyst", integration);
  // Values a YAML reader takes for other things than strings when bare.
  const auto odd = Parse<ats::v1::Candidate>(
      AdminOk({"candidates", "add", "--given-name", "1e3", "--family-name",
               "no", "--email", "odd@example.com", "--tag", "true", "--tag",
               "2026-01-01", "--job", job.name(), "-o", "json"}));
  const auto moved = Parse<ats::v1::MoveCandidateResponse>(AdminOk(
      {"move", job.name(), odd.name(), "Screening", "--wait", "-o", "json"}));
  ASSERT_EQ(moved.events_size(), 1);
  const std::string config = dir_.File("config.yaml");
  RunCommand({"/usr/bin/env", "ATS_ADMIN_CONFIG=" + config, ATS_ADMIN_BIN,
              "config", "set-context", "yes", "--server", "127.0.0.1:1"},
             kCommandTimeout);

  for (std::vector<std::string> command : std::vector<std::vector<std::string>>{
           {"jobs", "show", job.name()},
           {"candidates", "show", odd.name()},
           {"events", "show", moved.events(0).name()},
           {"events", "list", "--job", job.name()},
           {"templates", "show"},
           {"integrations", "list"},
           {"config", "get-contexts"}}) {
    SCOPED_TRACE(absl::StrJoin(command, " "));
    command.insert(command.begin(),
                   {"/usr/bin/env", "ATS_ADMIN_CONFIG=" + config,
                    absl::StrCat("ATS_SERVER=127.0.0.1:", port_),
                    "ATS_KEY_DIR=" + dir_.path(), ATS_ADMIN_BIN});
    command.insert(command.end(), {"-o", "json"});
    const CommandResult json = RunCommand(command, kCommandTimeout);
    command.back() = "yaml";
    const CommandResult yaml = RunCommand(command, kCommandTimeout);
    ASSERT_EQ(json.exit_code, 0) << Describe(json);
    ASSERT_EQ(yaml.exit_code, 0) << Describe(yaml);
    EXPECT_NE(yaml.out.substr(0, 1), "{") << yaml.out;
    const CommandResult same = RunCommand(
        {"python3", "-c", kSameDocument, WriteFile("out.json", json.out),
         WriteFile("out.yaml", yaml.out)},
        kCommandTimeout);
    EXPECT_EQ(same.exit_code, 0) << same.err << "\n" << yaml.out;
  }
}

TEST_F(AdminTest, MoveAndTriggerWaitUntilTheEventIsDelivered) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job = JobTestingAtScreening("Data scientist", integration);

  // A table, then each state change until SENT.
  const auto ada = AddCandidate("ada", job.name());
  const CommandResult waited =
      AdminOk({"move", job.name(), ada.name(), "Screening", "--wait"});
  EXPECT_TRUE(std::regex_search(
      waited.out, std::regex("\n\\d\\d:\\d\\d:\\d\\d  events/\\S+  SENT  "
                             "attempts 1\n")))
      << waited.out;

  // JSON: the response as it ended, the changes on stderr.
  const auto grace = AddCandidate("grace", job.name());
  const CommandResult json = AdminOk(
      {"move", job.name(), grace.name(), "Screening", "--wait", "-o", "json"});
  const auto moved = Parse<ats::v1::MoveCandidateResponse>(json);
  ASSERT_EQ(moved.events_size(), 1);
  EXPECT_EQ(moved.events(0).state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_TRUE(absl::StrContains(json.err, "  SENT  ")) << json.err;
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->deliveries.count(moved.events(0).name()), 1u);

  const auto triggered = Parse<ats::v1::Event>(
      AdminOk({"trigger", integration.name(), ada.name(), "--option",
               "test_package=java-senior", "--wait", "-o", "json"}));
  EXPECT_EQ(triggered.state(), ats::v1::EVENT_STATE_SENT);
  EXPECT_GE(triggered.attempts_size(), 1);

  // A move that fires nothing has nothing to wait for.
  EXPECT_EQ(
      Admin({"move", job.name(), ada.name(), "Screening", "--wait"}).exit_code,
      0);
}

TEST_F(AdminTest, WaitSaysWhenAnEventDiesOrTimeRunsOut) {
  const ats::v1::Integration integration = ActivatePartner();
  const ats::v1::Job job =
      JobTestingAtScreening("Support engineer", integration);
  // The partner fails every attempt of the (three-step) retry schedule.
  ASSERT_TRUE(sink_->SetBehaviour(R"({"status": 500, "times": 100})").ok());
  const auto lin = AddCandidate("lin", job.name());
  const CommandResult dead =
      Admin({"move", job.name(), lin.name(), "Screening", "--wait"});
  EXPECT_EQ(dead.exit_code, kExitNotDelivered) << Describe(dead);
  EXPECT_TRUE(absl::StrContains(dead.out, "  DEAD  attempts 3")) << dead.out;
  EXPECT_TRUE(absl::StrContains(dead.out, "500")) << dead.out;
  EXPECT_TRUE(absl::StrContains(dead.err, "not delivered: events/"))
      << dead.err;

  // A delayed event is not due before --timeout passes.
  AdminOk({"jobs", "triggers", "add", job.name(), "Interview", "--integration",
           integration.name(), "--option", "test_package=java-senior",
           "--delay", "1h"});
  const CommandResult late = Admin({"move", job.name(), lin.name(), "Interview",
                                    "--wait", "--timeout", "1", "-o", "yaml"});
  EXPECT_EQ(late.exit_code, kExitWaitTimedOut) << Describe(late);
  EXPECT_TRUE(absl::StrContains(late.err, "is SCHEDULED")) << late.err;
  EXPECT_TRUE(absl::StrContains(late.out, "state: EVENT_STATE_SCHEDULED"))
      << late.out;
}

// Runs `script` in bash after loading ats-admin's bash completion, with
// complete_words WORD... printing "WORD...: " and what completing the last
// word offers.
CommandResult InBashWithCompletion(const std::string& script) {
  return RunCommand(
      {"bash", "-c",
       absl::StrCat(
           "source <(", ATS_ADMIN_BIN, " completion bash) || exit 1\n",
           "complete_words() {\n"
           "  COMP_WORDS=(\"$@\"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
           "  COMPREPLY=(); _ats_admin; echo \"$*: ${COMPREPLY[*]}\"\n"
           "}\n",
           script)},
      kCommandTimeout);
}

TEST(AdminCompletionTest, BashCompletesCommandsOptionsAndValues) {
  const CommandResult completed = InBashWithCompletion(
      "complete -p ats-admin\n"
      "complete_words ats-admin jo\n"
      "complete_words ats-admin jobs st\n"
      "complete_words ats-admin config ''\n"
      "complete_words ats-admin --server 127.0.0.1:1 jobs tr\n"
      "complete_words ats-admin events list --st\n"
      "complete_words ats-admin move j c s --wa\n"
      "complete_words ats-admin -o ''\n"
      "complete_words ats-admin jobs list --output y\n"
      "complete_words ats-admin completion ''\n");
  EXPECT_EQ(completed.exit_code, 0) << Describe(completed);
  EXPECT_EQ(completed.out,
            "complete -o default -F _ats_admin ats-admin\n"
            "ats-admin jo: jobs\n"
            "ats-admin jobs st: stages\n"
            "ats-admin config : set-context use-context get-contexts "
            "current-context delete-context\n"
            "ats-admin --server 127.0.0.1:1 jobs tr: triggers\n"
            "ats-admin events list --st: --state\n"
            "ats-admin move j c s --wa: --wait\n"
            "ats-admin -o : table json yaml\n"
            "ats-admin jobs list --output y: yaml\n"
            "ats-admin completion : bash zsh\n");
}

TEST(AdminCompletionTest, ZshCompletesTheSameTree) {
  if (RunCommand({"zsh", "-c", "true"}, kCommandTimeout).exit_code != 0) {
    GTEST_SKIP() << "no zsh (tools/setup.sh installs it)";
  }
  // The completion system's functions, standing in for the real ones,
  // print what they were given.
  const CommandResult completed = RunCommand(
      {"zsh", "-f", "-c",
       absl::StrCat(
           "compdef() { print -r -- \"compdef $*\" }\n"
           "_describe() { print -r -- \"$3: ${(P)4}\" }\n"
           "compadd() { shift; print -r -- \"values: $*\" }\n"
           "_files() { print files }\n"
           "source <(",
           ATS_ADMIN_BIN, " completion zsh) || exit 1\n",
           "words=(ats-admin jobs stages ''); CURRENT=4; PREFIX=; _ats_admin\n"
           "words=(ats-admin jobs list --st); CURRENT=4; PREFIX=--st; "
           "_ats_admin\n"
           "words=(ats-admin -o ''); CURRENT=3; PREFIX=; _ats_admin\n"
           "words=(ats-admin candidates import ''); CURRENT=4; PREFIX=; "
           "_ats_admin\n")},
      kCommandTimeout);
  EXPECT_EQ(completed.exit_code, 0) << Describe(completed);
  const std::vector<std::string> lines =
      absl::StrSplit(completed.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << completed.out;
  EXPECT_EQ(lines[0], "compdef _ats_admin ats-admin");
  EXPECT_TRUE(absl::StartsWith(lines[1], "command: add:Add a stage"))
      << lines[1];
  EXPECT_TRUE(absl::StrContains(lines[2], " --state:")) << lines[2];
  EXPECT_EQ(lines[3], "values: table json yaml");
  EXPECT_EQ(lines[4], "files");
}

TEST(AdminTlsTest, ConnectsOverTlsTrustingTheGivenCertificate) {
  TempDir dir;
  const std::string cert = dir.File("server.pem");
  const CommandResult made =
      RunCommand({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                  "-days", "1", "-subj", "/CN=localhost", "-addext",
                  "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                  dir.File("server.key"), "-out", cert},
                 kCommandTimeout);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const int port = PickFreeLoopbackPort();
  auto server = ChildProcess::Start(
      {ATS_SERVER_BIN, absl::StrCat("--listen=127.0.0.1:", port),
       "--db=" + dir.File("ats.db"), "--tls_cert=" + cert,
       "--tls_key=" + dir.File("server.key")});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(server->WaitForTcpPort(port, kStartTimeout)) << server->Log();
  auto admin = [&](std::vector<std::string> flags) {
    std::vector<std::string> argv = {"/usr/bin/env",
                                     NoConfig(),
                                     ATS_ADMIN_BIN,
                                     "accounts",
                                     "list",
                                     "--timeout",
                                     "5",
                                     "--server",
                                     absl::StrCat("127.0.0.1:", port),
                                     "--key-dir",
                                     dir.path()};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return RunCommand(argv, kCommandTimeout);
  };
  const CommandResult trusted = admin({"--ca-cert", cert});
  EXPECT_EQ(trusted.exit_code, 0) << Describe(trusted);
  EXPECT_TRUE(absl::StrContains(trusted.out, "Default account")) << trusted.out;
  // Plaintext, or TLS without trusting the self-signed certificate, fails.
  EXPECT_EQ(admin({}).exit_code, kExitUnavailable);
  EXPECT_EQ(admin({"--tls"}).exit_code, kExitUnavailable);

  // A context carries the TLS settings; --tls=false overrides them.
  auto configured = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {"/usr/bin/env", "ATS_ADMIN_CONFIG=" + dir.File("config.yaml"),
                 ATS_ADMIN_BIN});
    return RunCommand(args, kCommandTimeout);
  };
  EXPECT_EQ(configured({"config", "set-context", "secure", "--server",
                        absl::StrCat("127.0.0.1:", port), "--key-file",
                        dir.File("ats.operator.key"), "--ca-cert", cert})
                .exit_code,
            0);
  EXPECT_EQ(configured({"config", "use-context", "secure"}).exit_code, 0);
  const CommandResult by_context =
      configured({"accounts", "list", "--timeout", "5"});
  EXPECT_EQ(by_context.exit_code, 0) << Describe(by_context);
  EXPECT_EQ(configured({"accounts", "list", "--timeout", "5", "--tls=false"})
                .exit_code,
            kExitUnavailable);
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The shell blocks of the README's "Using it with ats-admin" section, as one
// script.
std::string AdminWalkthrough(const std::string& readme) {
  const size_t start = readme.find("\n## Using it with ats-admin\n");
  if (start == std::string::npos) return "";
  const std::string section =
      readme.substr(start, readme.find("\n## ", start + 1) - start);
  static const std::regex kShellBlock("```sh\n([\\s\\S]*?)```");
  std::string script;
  for (std::sregex_iterator it(section.begin(), section.end(), kShellBlock),
       end;
       it != end; ++it) {
    absl::StrAppend(&script, (*it)[1].str(), "\n");
  }
  return script;
}

TEST(AdminReadmeTest, WalkthroughRunsAsWritten) {
  const std::string script = AdminWalkthrough(ReadFile(ATS_README));
  ASSERT_NE(script.find("ats-admin move"), std::string::npos)
      << "the README lost its ats-admin walk-through";
  TempDir dir;
  const int port = PickFreeLoopbackPort();
  const int sink_port = PickFreeLoopbackPort();
  // The README starts it with tools/serve.sh, which opens loopback to
  // webhooks as this does.
  auto server = ChildProcess::Start({ATS_SERVER_BIN,
                                     absl::StrCat("--listen=127.0.0.1:", port),
                                     "--db=" + dir.File("var/ats.db"),
                                     "--allowed_destination_networks=127.0.0.0/8,::1/128"});
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(server->WaitForTcpPort(port, kStartTimeout)) << server->Log();
  // The walk-through runs from the checkout's root, where var/ and build/
  // are; here the temp dir plays that part.
  const std::string walkthrough = absl::StrReplaceAll(
      script,
      {{"$PWD/build/client",
        std::filesystem::path(ATS_ADMIN_BIN).parent_path().string()},
       {"127.0.0.1:8090", absl::StrCat("127.0.0.1:", sink_port)},
       {"build/tools/partner-sink/partner-sink", ATS_PARTNER_SINK_BIN}});
  const CommandResult result = RunCommand(
      {"/usr/bin/env", absl::StrCat("ATS_SERVER=127.0.0.1:", port),
       "ATS_ADMIN_CONFIG=" + dir.File("config.yaml"), "bash", "-c",
       absl::StrCat("set -euo pipefail; cd ", dir.path(), "\n", walkthrough)},
      absl::Minutes(3));
  EXPECT_EQ(result.exit_code, 0) << Describe(result) << server->Log();
  EXPECT_TRUE(absl::StrContains(result.out, "SENT")) << result.out;
  EXPECT_TRUE(absl::StrContains(result.out, "test_package: sql-basics"))
      << result.out;
  // The contexts' part ran with a configuration file of its own.
  EXPECT_TRUE(std::regex_search(result.out,
                                std::regex("\n\\* +local +127\\.0\\.0\\.1:")))
      << result.out;
  EXPECT_EQ(server->Stop(), 0) << server->Log();
}

}  // namespace
}  // namespace ats::testing
