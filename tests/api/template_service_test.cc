// TemplateService against the real server: the starter template, CRUD,
// pagination, roles, tenant isolation, validation, etags, the single default,
// integration-event triggers and their readiness, and stable stage and
// trigger ids.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "server/common/validation.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::JobTemplate;
using ats::v1::Stage;
using ats::v1::Trigger;
using google::protobuf::util::MessageDifferencer;

Trigger WebhookTrigger(const std::string& uri) {
  Trigger trigger;
  trigger.mutable_webhook()->set_uri(uri);
  return trigger;
}

// A template with stages named `stages` and no triggers.
JobTemplate Template(const std::string& display_name,
                     const std::vector<std::string>& stages = {"Applied",
                                                               "Hired"}) {
  JobTemplate job_template;
  job_template.set_display_name(display_name);
  for (const std::string& stage : stages) {
    job_template.add_stages()->set_display_name(stage);
  }
  return job_template;
}

class TemplateServiceTest : public ::testing::Test {
 protected:
  static std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    return TestServer::Context(key);
  }

  grpc::Status Create(const std::string& key, const JobTemplate& job_template,
                      JobTemplate* created,
                      const std::string& request_id = "") {
    ats::v1::CreateJobTemplateRequest request;
    *request.mutable_job_template() = job_template;
    request.set_request_id(request_id);
    return stub_->CreateJobTemplate(As(key).get(), request, created);
  }

  JobTemplate MustCreate(const JobTemplate& job_template) {
    JobTemplate created;
    grpc::Status status = Create(server_.admin_key(), job_template, &created);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return created;
  }

  grpc::Status Get(const std::string& key, const std::string& name,
                   JobTemplate* job_template) {
    ats::v1::GetJobTemplateRequest request;
    request.set_name(name);
    return stub_->GetJobTemplate(As(key).get(), request, job_template);
  }

  JobTemplate MustGet(const std::string& name) {
    JobTemplate job_template;
    grpc::Status status = Get(server_.admin_key(), name, &job_template);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job_template;
  }

  grpc::Status List(const std::string& key, int page_size,
                    const std::string& page_token,
                    ats::v1::ListJobTemplatesResponse* response) {
    ats::v1::ListJobTemplatesRequest request;
    request.set_page_size(page_size);
    request.set_page_token(page_token);
    return stub_->ListJobTemplates(As(key).get(), request, response);
  }

  // Every template of the account of `key`, in one page.
  std::vector<JobTemplate> ListAll(const std::string& key) {
    ats::v1::ListJobTemplatesResponse response;
    grpc::Status status = List(key, 1000, "", &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.next_page_token(), "");
    return {response.job_templates().begin(), response.job_templates().end()};
  }

  grpc::Status Update(const std::string& key, const JobTemplate& job_template,
                      const std::vector<std::string>& paths,
                      const std::string& etag, JobTemplate* updated) {
    ats::v1::UpdateJobTemplateRequest request;
    *request.mutable_job_template() = job_template;
    for (const std::string& path : paths) {
      request.mutable_update_mask()->add_paths(path);
    }
    request.set_etag(etag);
    return stub_->UpdateJobTemplate(As(key).get(), request, updated);
  }

  grpc::Status Delete(const std::string& key, const std::string& name) {
    ats::v1::DeleteJobTemplateRequest request;
    request.set_name(name);
    google::protobuf::Empty empty;
    return stub_->DeleteJobTemplate(As(key).get(), request, &empty);
  }

  grpc::Status GetDefault(const std::string& key, JobTemplate* job_template) {
    return stub_->GetDefaultJobTemplate(As(key).get(), {}, job_template);
  }

  grpc::Status SetDefault(const std::string& key, const std::string& name,
                          JobTemplate* job_template) {
    ats::v1::SetDefaultJobTemplateRequest request;
    request.set_name(name);
    return stub_->SetDefaultJobTemplate(As(key).get(), request, job_template);
  }

  // Expects the account of `key` to have exactly one default template, and
  // returns its name.
  std::string OnlyDefault(const std::string& key) {
    std::vector<std::string> defaults;
    for (const JobTemplate& job_template : ListAll(key)) {
      if (job_template.default_()) defaults.push_back(job_template.name());
    }
    EXPECT_EQ(defaults.size(), 1u) << absl::StrJoin(defaults, ", ");
    return defaults.empty() ? "" : defaults[0];
  }

  TestServer server_;
  std::unique_ptr<ats::v1::TemplateService::Stub> stub_ = server_.templates();
};

// Expects `job_template` to be the starter template.
void ExpectStarter(const JobTemplate& job_template) {
  EXPECT_EQ(job_template.display_name(), "Standard pipeline");
  EXPECT_TRUE(job_template.default_());
  EXPECT_EQ(StageNames(job_template), kStarterStages);
  for (int i = 0; i < job_template.stages_size(); ++i) {
    const Stage& stage = job_template.stages(i);
    EXPECT_EQ(stage.position(), i);
    EXPECT_TRUE(absl::StartsWith(stage.name(),
                                 job_template.name() + "/stages/"))
        << stage.name();
    EXPECT_EQ(stage.triggers_size(), 0);
  }
  EXPECT_EQ(job_template.etag(), "r1");
}

// ------------------------------------------------------- Starter template

TEST_F(TemplateServiceTest, BootstrapAccountHasTheStarterTemplate) {
  const std::vector<JobTemplate> templates = ListAll(server_.admin_key());
  ASSERT_EQ(templates.size(), 1u);
  ExpectStarter(templates[0]);
  EXPECT_TRUE(server::ParseResourceName(templates[0].name(),
                                        "jobTemplates/{}", nullptr))
      << templates[0].name();
  JobTemplate default_template;
  ASSERT_TRUE(GetDefault(server_.admin_key(), &default_template).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(default_template, templates[0]));
}

TEST_F(TemplateServiceTest, NewAccountsHaveTheStarterTemplate) {
  // Account B was created through CreateAccount.
  const std::vector<JobTemplate> templates = ListAll(server_.other_admin_key());
  ASSERT_EQ(templates.size(), 1u);
  ExpectStarter(templates[0]);

  ats::v1::CreateAccountRequest request;
  request.mutable_account()->set_display_name("Third company");
  ats::v1::Account account;
  ASSERT_TRUE(server_.accounts()
                  ->CreateAccount(As(server_.operator_key()).get(), request,
                                  &account)
                  .ok());
  const std::string key = server_.CreateKey(ats::v1::ROLE_ADMIN, account.name());
  JobTemplate default_template;
  ASSERT_TRUE(GetDefault(key, &default_template).ok());
  ExpectStarter(default_template);
  EXPECT_NE(default_template.name(), templates[0].name());
}

// ------------------------------------------------------------ Basic CRUD

TEST_F(TemplateServiceTest, CreateStoresTemplateWithServerNames) {
  JobTemplate asked = Template("Engineering", {"Applied", "Tech test"});
  asked.set_description("For engineers.\nTwo rounds.");
  asked.set_name("jobTemplates/ignored");
  asked.set_default_(true);
  Trigger delayed = WebhookTrigger("https://hooks.example/ats");
  delayed.mutable_delay()->set_seconds(3600);
  delayed.set_name("jobTemplates/x/stages/y/triggers/z");
  *asked.mutable_stages(1)->add_triggers() = TagTrigger("tested");
  *asked.mutable_stages(1)->add_triggers() = delayed;

  const JobTemplate created = MustCreate(asked);
  EXPECT_TRUE(server::ParseResourceName(created.name(), "jobTemplates/{}",
                                        nullptr));
  EXPECT_NE(created.name(), "jobTemplates/ignored");
  EXPECT_EQ(created.display_name(), "Engineering");
  EXPECT_EQ(created.description(), "For engineers.\nTwo rounds.");
  EXPECT_FALSE(created.default_());
  EXPECT_EQ(created.etag(), "r1");
  EXPECT_TRUE(created.has_create_time());
  EXPECT_TRUE(MessageDifferencer::Equals(created.create_time(),
                                         created.update_time()));
  ASSERT_EQ(created.stages_size(), 2);
  EXPECT_EQ(StageNames(created), (std::vector<std::string>{"Applied",
                                                           "Tech test"}));
  const Stage& stage = created.stages(1);
  EXPECT_EQ(stage.position(), 1);
  std::vector<std::string> ids;
  ASSERT_TRUE(server::ParseResourceName(
      stage.name(), "jobTemplates/{}/stages/{}", &ids));
  EXPECT_EQ("jobTemplates/" + ids[0], created.name());
  ASSERT_EQ(stage.triggers_size(), 2);
  for (const Trigger& trigger : stage.triggers()) {
    EXPECT_TRUE(absl::StartsWith(trigger.name(), stage.name() + "/triggers/"))
        << trigger.name();
  }
  EXPECT_EQ(stage.triggers(0).readiness(), ats::v1::TRIGGER_READINESS_READY);
  EXPECT_EQ(stage.triggers(0).readiness_reason(), "");
  // The account has no webhook signing secret yet.
  EXPECT_EQ(stage.triggers(1).readiness(),
            ats::v1::TRIGGER_READINESS_WILL_SKIP);
  EXPECT_TRUE(absl::StrContains(stage.triggers(1).readiness_reason(),
                                "RotateWebhookSigningSecret"));
  EXPECT_EQ(stage.triggers(0).add_tag().tag(), "tested");
  EXPECT_EQ(stage.triggers(1).webhook().uri(), "https://hooks.example/ats");
  EXPECT_EQ(stage.triggers(1).delay().seconds(), 3600);

  EXPECT_TRUE(MessageDifferencer::Equals(MustGet(created.name()), created));
  JobTemplate read;
  ASSERT_TRUE(Get(server_.recruiter_key(), created.name(), &read).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(read, created));
}

TEST_F(TemplateServiceTest, CreateRetryReturnsTheSameTemplate) {
  JobTemplate first;
  ASSERT_TRUE(
      Create(server_.admin_key(), Template("Sales"), &first, "req-1").ok());
  JobTemplate second;
  grpc::Status status =
      Create(server_.admin_key(), Template("Sales"), &second, "req-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
  EXPECT_EQ(ListAll(server_.admin_key()).size(), 2u);
}

TEST_F(TemplateServiceTest, DisplayNamesAreUniqueIgnoringCase) {
  MustCreate(Template("Sales"));
  JobTemplate created;
  grpc::Status status =
      Create(server_.admin_key(), Template("SALES"), &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();

  const JobTemplate other = MustCreate(Template("Support"));
  JobTemplate renamed = other;
  renamed.set_display_name("sales");
  JobTemplate updated;
  status = Update(server_.admin_key(), renamed, {"display_name"},
                  other.etag(), &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS)
      << status.error_message();
  // Another account may use the name.
  EXPECT_TRUE(
      Create(server_.other_admin_key(), Template("Sales"), &created).ok());
}

TEST_F(TemplateServiceTest, ListPagesInDisplayNameOrder) {
  for (const char* name : {"delta", "Alpha", "charlie", "Bravo"}) {
    MustCreate(Template(name));
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    ats::v1::ListJobTemplatesResponse response;
    grpc::Status status = List(server_.recruiter_key(), 2, token, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_LE(response.job_templates_size(), 2);
    for (const JobTemplate& job_template : response.job_templates()) {
      seen.push_back(job_template.display_name());
    }
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen, (std::vector<std::string>{"Alpha", "Bravo", "charlie",
                                            "delta", "Standard pipeline"}));
  EXPECT_EQ(pages, 3);

  ats::v1::ListJobTemplatesResponse response;
  ExpectInvalid(List(server_.admin_key(), -1, "", &response), {"page_size"});
  ExpectInvalid(List(server_.admin_key(), 2, "garbage", &response),
                {"page_token"});
}

TEST_F(TemplateServiceTest, UpdateChangesMaskedFieldsOnly) {
  JobTemplate asked = Template("Engineering");
  asked.set_description("Old description");
  const JobTemplate created = MustCreate(asked);
  server_.clock().Advance(absl::Minutes(1));

  JobTemplate change;
  change.set_name(created.name());
  change.set_display_name("Engineering v2");
  change.set_description("ignored: not in the mask");
  JobTemplate updated;
  grpc::Status status = Update(server_.admin_key(), change, {"display_name"},
                               created.etag(), &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.display_name(), "Engineering v2");
  EXPECT_EQ(updated.description(), "Old description");
  EXPECT_EQ(StageNames(updated), StageNames(created));
  EXPECT_EQ(updated.etag(), "r2");
  EXPECT_TRUE(MessageDifferencer::Equals(updated.create_time(),
                                         created.create_time()));
  EXPECT_FALSE(MessageDifferencer::Equals(updated.update_time(),
                                          created.update_time()));
  EXPECT_TRUE(MessageDifferencer::Equals(MustGet(created.name()), updated));

  // The HTTP forms of the etag are accepted too.
  change.set_description("New description");
  status = Update(server_.admin_key(), change, {"description"}, "\"r2\"",
                  &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.description(), "New description");
  EXPECT_EQ(updated.etag(), "r3");
}

TEST_F(TemplateServiceTest, UpdateNeedsMaskAndCurrentEtag) {
  const JobTemplate created = MustCreate(Template("Engineering"));
  JobTemplate change = created;
  change.set_display_name("Renamed");
  JobTemplate updated;
  ExpectInvalid(Update(server_.admin_key(), change, {"display_name"}, "",
                       &updated),
                {"etag"});
  ExpectInvalid(Update(server_.admin_key(), change, {}, created.etag(),
                       &updated),
                {"update_mask"});
  ExpectInvalid(Update(server_.admin_key(), change, {"default"},
                       created.etag(), &updated),
                {"update_mask"});
  change.clear_name();
  ExpectInvalid(Update(server_.admin_key(), change, {"display_name"},
                       created.etag(), &updated),
                {"job_template.name"});
  change.set_name(created.name());

  ASSERT_TRUE(Update(server_.admin_key(), change, {"display_name"},
                     created.etag(), &updated)
                  .ok());
  // A second edit from the same read is stale.
  change.set_display_name("Renamed again");
  grpc::Status status = Update(server_.admin_key(), change, {"display_name"},
                               created.etag(), &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED)
      << status.error_message();
  EXPECT_EQ(MustGet(created.name()).display_name(), "Renamed");
}

TEST_F(TemplateServiceTest, DeleteRemovesTemplate) {
  const JobTemplate created = MustCreate(Template("Temporary"));
  grpc::Status status = Delete(server_.admin_key(), created.name());
  ASSERT_TRUE(status.ok()) << status.error_message();
  JobTemplate read;
  EXPECT_EQ(Get(server_.admin_key(), created.name(), &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete(server_.admin_key(), created.name()).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ListAll(server_.admin_key()).size(), 1u);
}

// ------------------------------------------------------------ The default

TEST_F(TemplateServiceTest, DefaultCannotBeDeleted) {
  const std::string starter = OnlyDefault(server_.admin_key());
  grpc::Status status = Delete(server_.admin_key(), starter);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(),
                                "make another template the default first"))
      << status.error_message();
  EXPECT_EQ(OnlyDefault(server_.admin_key()), starter);
}

TEST_F(TemplateServiceTest, SetDefaultMovesTheDefault) {
  const std::string starter = OnlyDefault(server_.admin_key());
  const JobTemplate first = MustCreate(Template("First"));
  const JobTemplate second = MustCreate(Template("Second"));

  JobTemplate result;
  grpc::Status status = SetDefault(server_.admin_key(), first.name(), &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(result.default_());
  EXPECT_EQ(result.name(), first.name());
  EXPECT_EQ(OnlyDefault(server_.admin_key()), first.name());
  JobTemplate current;
  ASSERT_TRUE(GetDefault(server_.recruiter_key(), &current).ok());
  EXPECT_EQ(current.name(), first.name());
  // The old default changed as clients see it, so its etag did too.
  EXPECT_NE(MustGet(starter).etag(), "r1");

  // Setting the current default again changes nothing.
  ASSERT_TRUE(SetDefault(server_.admin_key(), first.name(), &result).ok());
  EXPECT_EQ(OnlyDefault(server_.admin_key()), first.name());

  ASSERT_TRUE(SetDefault(server_.admin_key(), second.name(), &result).ok());
  EXPECT_EQ(OnlyDefault(server_.admin_key()), second.name());

  // The former defaults can go now; the new one still cannot.
  EXPECT_TRUE(Delete(server_.admin_key(), starter).ok());
  EXPECT_TRUE(Delete(server_.admin_key(), first.name()).ok());
  EXPECT_EQ(Delete(server_.admin_key(), second.name()).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(OnlyDefault(server_.admin_key()), second.name());
  // Account B's default is untouched.
  EXPECT_NE(OnlyDefault(server_.other_admin_key()), "");

  EXPECT_EQ(SetDefault(server_.admin_key(), "jobTemplates/missing", &result)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// ----------------------------------------------------- Roles and tenants

TEST_F(TemplateServiceTest, RecruitersReadButDoNotWrite) {
  const JobTemplate created = MustCreate(Template("Engineering"));
  const std::string& recruiter = server_.recruiter_key();
  JobTemplate read;
  EXPECT_TRUE(Get(recruiter, created.name(), &read).ok());
  EXPECT_TRUE(GetDefault(recruiter, &read).ok());
  ats::v1::ListJobTemplatesResponse list;
  EXPECT_TRUE(List(recruiter, 0, "", &list).ok());

  EXPECT_EQ(Create(recruiter, Template("Mine"), &read).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Update(recruiter, created, {"display_name"}, created.etag(), &read)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Delete(recruiter, created.name()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(SetDefault(recruiter, created.name(), &read).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Operators belong to no account, and have no templates.
  EXPECT_EQ(Get(server_.operator_key(), created.name(), &read).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Get("", created.name(), &read).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(TemplateServiceTest, OtherAccountsTemplatesAreNotFound) {
  const JobTemplate created = MustCreate(Template("Engineering"));
  const std::string& other = server_.other_admin_key();
  JobTemplate read;
  grpc::Status status = Get(other, created.name(), &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("job template ", created.name(), " not found"));
  EXPECT_EQ(Update(other, created, {"display_name"}, created.etag(), &read)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Delete(other, created.name()).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(SetDefault(other, created.name(), &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  for (const JobTemplate& job_template : ListAll(other)) {
    EXPECT_NE(job_template.name(), created.name());
  }
  EXPECT_EQ(MustGet(created.name()).etag(), "r1");
}

// ------------------------------------------------------------- Validation

TEST_F(TemplateServiceTest, CreateValidatesTemplateFields) {
  JobTemplate asked;
  asked.set_description(std::string(2001, 'x'));
  JobTemplate created;
  ExpectInvalid(Create(server_.admin_key(), asked, &created),
                {"job_template.display_name", "job_template.description",
                 "job_template.stages"});

  asked = Template(std::string(201, 'x'));
  ExpectInvalid(Create(server_.admin_key(), asked, &created),
                {"job_template.display_name"});
  ExpectInvalid(Create(server_.admin_key(), Template("Bad id"), &created,
                       "not a request id!"),
                {"request_id"});
}

TEST_F(TemplateServiceTest, CreateValidatesStages) {
  JobTemplate created;
  ExpectInvalid(Create(server_.admin_key(),
                       Template("T", {"Applied", "", std::string(101, 's'),
                                      "APPLIED"}),
                       &created),
                {"job_template.stages[1].display_name",
                 "job_template.stages[2].display_name",
                 "job_template.stages[3].display_name"});

  std::vector<std::string> many;
  for (int i = 0; i < 31; ++i) many.push_back(absl::StrCat("Stage ", i));
  grpc::Status status = Create(server_.admin_key(), Template("T", many),
                               &created);
  ExpectInvalid(status, {"job_template.stages"});
  EXPECT_TRUE(absl::StrContains(status.error_message(), "at most 30"))
      << status.error_message();
  many.pop_back();
  EXPECT_TRUE(Create(server_.admin_key(), Template("T", many), &created).ok());

  JobTemplate crowded = Template("Crowded", {"Only"});
  for (int i = 0; i < 11; ++i) {
    *crowded.mutable_stages(0)->add_triggers() =
        TagTrigger(absl::StrCat("t", i));
  }
  status = Create(server_.admin_key(), crowded, &created);
  ExpectInvalid(status, {"job_template.stages[0].triggers"});
  EXPECT_TRUE(absl::StrContains(status.error_message(), "at most 10"))
      << status.error_message();
  crowded.mutable_stages(0)->mutable_triggers()->RemoveLast();
  EXPECT_TRUE(Create(server_.admin_key(), crowded, &created).ok());
}

TEST_F(TemplateServiceTest, CreateValidatesTriggerShapes) {
  JobTemplate asked = Template("Triggers", {"Only"});
  Stage* stage = asked.mutable_stages(0);
  stage->add_triggers();  // No action.
  *stage->add_triggers() = TagTrigger("Not A Tag");
  *stage->add_triggers() = WebhookTrigger("ftp://files.example");
  *stage->add_triggers() = WebhookTrigger("");
  Trigger late = TagTrigger("late");
  late.mutable_delay()->set_seconds(31 * 24 * 3600);
  *stage->add_triggers() = late;
  Trigger negative = TagTrigger("early");
  negative.mutable_delay()->set_seconds(-1);
  *stage->add_triggers() = negative;
  *stage->add_triggers() = IntegrationTrigger("partners/acme", {});
  Trigger values = IntegrationTrigger(
      "integrations/abc", {{"", "v"}, {"ok", std::string(257, 'v')}});
  *stage->add_triggers() = values;
  Trigger twice = WebhookTrigger("https://hooks.example/twice");
  twice.mutable_webhook()->add_candidate_fields(ats::v1::CANDIDATE_FIELD_TAGS);
  twice.mutable_webhook()->add_candidate_fields(ats::v1::CANDIDATE_FIELD_TAGS);
  *stage->add_triggers() = twice;
  JobTemplate created;
  const std::string t = "job_template.stages[0].triggers";
  ExpectInvalid(Create(server_.admin_key(), asked, &created),
                {t + "[0]", t + "[1].add_tag.tag", t + "[2].webhook.uri",
                 t + "[3].webhook.uri", t + "[4].delay", t + "[5].delay",
                 t + "[6].integration_event.integration",
                 t + "[7].integration_event.option_values[]",
                 t + "[7].integration_event.option_values[ok]",
                 t + "[8].webhook.candidate_fields[1]"});

  // Thirty days exactly is the longest delay (add_tag triggers take none).
  // A webhook's candidate fields are kept as declared.
  Trigger month = WebhookTrigger("https://hooks.example/month");
  month.mutable_delay()->set_seconds(30 * 24 * 3600);
  month.mutable_webhook()->add_candidate_fields(ats::v1::CANDIDATE_FIELD_EMAIL);
  JobTemplate ok = Template("Month", {"Only"});
  *ok.mutable_stages(0)->add_triggers() = month;
  ASSERT_TRUE(Create(server_.admin_key(), ok, &created).ok());
  ASSERT_EQ(created.stages(0).triggers_size(), 1);
  const ats::v1::WebhookAction& kept = created.stages(0).triggers(0).webhook();
  ASSERT_EQ(kept.candidate_fields_size(), 1);
  EXPECT_EQ(kept.candidate_fields(0), ats::v1::CANDIDATE_FIELD_EMAIL);
}

// ------------------------------------------------- Integration triggers

TEST_F(TemplateServiceTest, UnknownIntegrationIsNotFound) {
  JobTemplate asked = Template("Assessments", {"Test"});
  *asked.mutable_stages(0)->add_triggers() = IntegrationTrigger(
      "integrations/nosuchintegration", {{"test_package", "basic"}});
  JobTemplate created;
  grpc::Status status = Create(server_.admin_key(), asked, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "integration integrations/nosuchintegration not found");

  // Another account's integration is just as unknown.
  const std::string theirs =
      MustActivateNewPartner(server_, server_.other_admin_key(), "Acme Tests")
          .name();
  *asked.mutable_stages(0)->mutable_triggers(0) =
      IntegrationTrigger(theirs, {{"test_package", "basic"}});
  status = Create(server_.admin_key(), asked, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND)
      << status.error_message();
  EXPECT_TRUE(Create(server_.other_admin_key(), asked, &created).ok());
}

TEST_F(TemplateServiceTest, IntegrationTriggerOptionsAreChecked) {
  const std::string integration =
      MustActivateNewPartner(server_, server_.admin_key(), "Acme Tests").name();

  JobTemplate asked = Template("Assessments", {"Applied", "Test"});
  *asked.mutable_stages(1)->add_triggers() = IntegrationTrigger(
      integration, {{"test_package", "advanced"}, {"language", "de"}});
  const JobTemplate created = MustCreate(asked);
  ASSERT_EQ(created.stages(1).triggers_size(), 1);
  const Trigger& trigger = created.stages(1).triggers(0);
  EXPECT_EQ(trigger.integration_event().integration(), integration);
  EXPECT_EQ(trigger.integration_event().option_values().at("test_package"),
            "advanced");
  EXPECT_EQ(trigger.readiness(), ats::v1::TRIGGER_READINESS_READY);

  const std::string values =
      "job_template.stages[1].triggers[0].integration_event.option_values";
  struct Case {
    std::vector<std::pair<std::string, std::string>> values;
    std::vector<std::string> fields;
  };
  const std::vector<Case> cases = {
      {{{"test_package", "expert"}}, {values + "[test_package]"}},
      {{}, {values + "[test_package]"}},
      {{{"test_package", ""}}, {values + "[test_package]"}},
      {{{"language", "en"}}, {values + "[test_package]"}},
      {{{"test_package", "basic"}, {"colour", "red"}}, {values + "[colour]"}},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    JobTemplate bad = Template(absl::StrCat("Bad ", i), {"Applied", "Test"});
    *bad.mutable_stages(1)->add_triggers() =
        IntegrationTrigger(integration, cases[i].values);
    JobTemplate result;
    ExpectInvalid(Create(server_.admin_key(), bad, &result), cases[i].fields);
  }
}

TEST_F(TemplateServiceTest, InactiveIntegrationMakesTriggersSkip) {
  const std::string integration =
      MustActivateNewPartner(server_, server_.admin_key(), "Acme Tests").name();
  JobTemplate asked = Template("Assessments", {"Applied", "Test"});
  *asked.mutable_stages(1)->add_triggers() =
      IntegrationTrigger(integration, {{"test_package", "basic"}});
  *asked.mutable_stages(1)->add_triggers() = TagTrigger("tested");
  const JobTemplate created = MustCreate(asked);

  MustSetIntegrationActive(server_, server_.admin_key(), integration,
                           /*active=*/false);
  JobTemplate read = MustGet(created.name());
  const Trigger& skipped = read.stages(1).triggers(0);
  EXPECT_EQ(skipped.readiness(), ats::v1::TRIGGER_READINESS_WILL_SKIP);
  EXPECT_TRUE(absl::StrContains(skipped.readiness_reason(), integration));
  EXPECT_TRUE(absl::StrContains(skipped.readiness_reason(), "inactive"))
      << skipped.readiness_reason();
  EXPECT_EQ(read.stages(1).triggers(1).readiness(),
            ats::v1::TRIGGER_READINESS_READY);
  for (const JobTemplate& listed : ListAll(server_.recruiter_key())) {
    if (listed.name() != created.name()) continue;
    EXPECT_EQ(listed.stages(1).triggers(0).readiness(),
              ats::v1::TRIGGER_READINESS_WILL_SKIP);
  }

  // A new trigger cannot use the inactive integration...
  JobTemplate another = Template("Another", {"Test"});
  *another.mutable_stages(0)->add_triggers() =
      IntegrationTrigger(integration, {{"test_package", "basic"}});
  JobTemplate result;
  grpc::Status status = Create(server_.admin_key(), another, &result);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), integration));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "eactivate"))
      << status.error_message();

  // ...but the template's other stages can still be edited, since its
  // existing trigger is unchanged.
  JobTemplate change = read;
  change.mutable_stages(0)->set_display_name("Inbox");
  status = Update(server_.admin_key(), change, {"stages"}, read.etag(),
                  &result);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(result.stages(1).triggers(0).name(),
            read.stages(1).triggers(0).name());
  EXPECT_EQ(result.stages(1).triggers(0).readiness(),
            ats::v1::TRIGGER_READINESS_WILL_SKIP);
  // Changing the trigger's options needs the integration active again.
  change = result;
  (*change.mutable_stages(1)
        ->mutable_triggers(0)
        ->mutable_integration_event()
        ->mutable_option_values())["test_package"] = "advanced";
  EXPECT_EQ(Update(server_.admin_key(), change, {"stages"}, result.etag(),
                   &result)
                .error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  MustSetIntegrationActive(server_, server_.admin_key(), integration,
                           /*active=*/true);
  read = MustGet(created.name());
  EXPECT_EQ(read.stages(1).triggers(0).readiness(),
            ats::v1::TRIGGER_READINESS_READY);
  EXPECT_EQ(read.stages(1).triggers(0).readiness_reason(), "");
}

// ------------------------------------------------- Stable stage/trigger ids

TEST_F(TemplateServiceTest, UpdateKeepsNamedStagesAndTriggers) {
  JobTemplate asked = Template("Engineering", {"Applied", "Interview"});
  *asked.mutable_stages(0)->add_triggers() = TagTrigger("applied");
  const JobTemplate created = MustCreate(asked);
  const Stage& applied = created.stages(0);
  const Stage& interview = created.stages(1);

  // Reorder, rename one, add a stage and a trigger.
  JobTemplate change;
  change.set_name(created.name());
  *change.add_stages() = interview;
  change.mutable_stages(0)->set_display_name("Interviews");
  change.add_stages()->set_display_name("Offer");
  *change.add_stages() = applied;
  *change.mutable_stages(2)->add_triggers() = TagTrigger("second");
  JobTemplate updated;
  grpc::Status status = Update(server_.admin_key(), change, {"stages"},
                               created.etag(), &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(updated.stages_size(), 3);
  EXPECT_EQ(StageNames(updated),
            (std::vector<std::string>{"Interviews", "Offer", "Applied"}));
  EXPECT_EQ(updated.stages(0).name(), interview.name());
  EXPECT_EQ(updated.stages(0).position(), 0);
  EXPECT_NE(updated.stages(1).name(), applied.name());
  EXPECT_NE(updated.stages(1).name(), interview.name());
  EXPECT_TRUE(absl::StartsWith(updated.stages(1).name(),
                               created.name() + "/stages/"));
  EXPECT_EQ(updated.stages(2).name(), applied.name());
  EXPECT_EQ(updated.stages(2).position(), 2);
  ASSERT_EQ(updated.stages(2).triggers_size(), 2);
  EXPECT_EQ(updated.stages(2).triggers(0).name(),
            applied.triggers(0).name());
  EXPECT_NE(updated.stages(2).triggers(1).name(),
            applied.triggers(0).name());
  EXPECT_EQ(updated.etag(), "r2");

  // Dropping a stage drops it; its name cannot come back.
  JobTemplate shrink;
  shrink.set_name(created.name());
  *shrink.add_stages() = updated.stages(2);
  status = Update(server_.admin_key(), shrink, {"stages"}, updated.etag(),
                  &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(updated.stages_size(), 1);
  EXPECT_EQ(updated.stages(0).name(), applied.name());
  JobTemplate revive;
  revive.set_name(created.name());
  *revive.add_stages() = interview;
  ExpectInvalid(Update(server_.admin_key(), revive, {"stages"},
                       updated.etag(), &updated),
                {"job_template.stages[0].name"});
}

TEST_F(TemplateServiceTest, UpdateRejectsForeignStageAndTriggerNames) {
  JobTemplate asked = Template("Engineering", {"Applied"});
  *asked.mutable_stages(0)->add_triggers() = TagTrigger("applied");
  const JobTemplate created = MustCreate(asked);
  JobTemplate other_asked = Template("Other", {"Elsewhere"});
  *other_asked.mutable_stages(0)->add_triggers() = TagTrigger("other");
  const JobTemplate other = MustCreate(other_asked);

  JobTemplate change;
  change.set_name(created.name());
  *change.add_stages() = other.stages(0);
  change.mutable_stages(0)->clear_triggers();
  *change.add_stages() = created.stages(0);
  change.mutable_stages(1)->set_display_name("Applied again");
  *change.mutable_stages(1)->add_triggers() = other.stages(0).triggers(0);
  Stage* twice = change.add_stages();
  *twice = created.stages(0);
  twice->set_display_name("Twice");
  twice->clear_triggers();
  JobTemplate updated;
  ExpectInvalid(Update(server_.admin_key(), change, {"stages"},
                       created.etag(), &updated),
                {"job_template.stages[0].name",
                 "job_template.stages[1].triggers[1].name",
                 "job_template.stages[2].name"});
  EXPECT_EQ(MustGet(created.name()).etag(), "r1");
}

}  // namespace
}  // namespace ats::testing
