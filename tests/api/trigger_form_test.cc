// Dynamic trigger forms against the real server and a real partner: the
// partner-sink program serving a form at POST /form on a loopback port.
// Creating or changing a trigger fetches the form (signed, cached), values
// are checked against it, and a partner that is down or serves a bad form
// stops the write with nothing stored, while stored triggers keep firing.

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"
#include "tests/delivery/sink_process.h"

namespace ats::testing {
namespace {

using ats::v1::Trigger;
using ats::v1::TriggerForm;

// The sink's form: one field of each type.
constexpr char kForm[] = R"json({"fields": [
  {"key": "package", "label": "Test package", "type": "select",
   "required": true,
   "options": [{"value": "java", "label": "Java"}],
   "optionGroups": [{"label": "Data",
                     "options": [{"value": "sql", "label": "SQL"}]}]},
  {"key": "skills", "label": "Skills", "type": "multi_select",
   "options": [{"value": "go"}, {"value": "rust"}]},
  {"key": "note", "label": "Note", "type": "text", "maxLength": 5},
  {"key": "minutes", "label": "Minutes", "type": "number",
   "min": 10, "max": 120},
  {"key": "proctored", "label": "Proctored", "type": "checkbox"}]})json";

class TriggerFormTest : public JobServiceFixture {
 protected:
  void SetUp() override {
    // Signatures carry the server's clock, which the sink checks.
    server_.clock().Set(absl::Now());
    const std::string form_file = server_.dir() + "/form.json";
    std::ofstream(form_file) << kForm;
    auto sink =
        SinkProcess::Start(ATS_PARTNER_SINK_BIN, {"--form-file", form_file});
    ASSERT_TRUE(sink.ok()) << sink.status();
    sink_ = *std::move(sink);
    integration_ = ActivateFormPartner("Formful", FormUri());
    job_ = CreateJob("Backend engineer");
  }

  std::string FormUri() const {
    return absl::StrCat("http://127.0.0.1:", sink_->port(), "/form");
  }

  // Lists a partner whose config endpoint is `form_uri`, activates it with
  // a secret API key, and has the sink verify its signatures. Returns the
  // integration's name.
  std::string ActivateFormPartner(const std::string& display_name,
                                  const std::string& form_uri) {
    ats::v1::Partner listing = TestListing(display_name);
    listing.clear_trigger_options();
    listing.set_trigger_form_uri(form_uri);
    ats::v1::ActivationField* key = listing.add_activation_fields();
    key->set_key("api_key");
    key->set_display_name("API key");
    key->set_secret(true);
    const ats::v1::Partner partner = MustListPartner(server_, listing);
    ats::v1::ActivateIntegrationRequest request;
    request.set_partner(partner.name());
    (*request.mutable_activation_values())["api_key"] = "key-123";
    ats::v1::ActivateIntegrationResponse activated;
    grpc::Status status = server_.integrations()->ActivateIntegration(
        TestServer::Context(server_.admin_key()).get(), request, &activated);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(sink_->AddSecret(activated.signing_secret()).ok());
    return activated.integration().name();
  }

  grpc::Status CreateTrigger(const std::string& stage, const Trigger& trigger,
                             Trigger* created = nullptr) {
    ats::v1::CreateTriggerRequest request;
    request.set_parent(stage);
    *request.mutable_trigger() = trigger;
    Trigger ignored;
    return Call(&Stub::CreateTrigger, request,
                created == nullptr ? &ignored : created);
  }

  int TriggersOn(const std::string& stage) {
    ats::v1::ListTriggersRequest request;
    request.set_parent(stage);
    ats::v1::ListTriggersResponse response;
    EXPECT_TRUE(Call(&Stub::ListTriggers, request, &response).ok());
    return response.triggers_size();
  }

  // Form requests the sink verified and answered.
  int64_t FormRequests() {
    auto received = sink_->Received();
    EXPECT_TRUE(received.ok()) << received.status();
    return received.ok() ? received->accepted : -1;
  }

  // Rotates the signing secret of integration `name` and returns it.
  std::string RotatedSecret(const std::string& name) {
    ats::v1::RotateSigningSecretRequest request;
    request.set_name(name);
    ats::v1::RotateSigningSecretResponse response;
    grpc::Status status = server_.integrations()->RotateSigningSecret(
        TestServer::Context(server_.admin_key()).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.signing_secret();
  }

  Trigger Valid() const {
    return IntegrationTrigger(integration_, {{"package", "sql"},
                                             {"skills", "go,rust"},
                                             {"minutes", "45"},
                                             {"proctored", "true"}});
  }

  std::unique_ptr<SinkProcess> sink_;
  std::string integration_;
  ats::v1::Job job_;
};

TEST_F(TriggerFormTest, FetchesSignedFormOnceWithinTheCacheTtl) {
  const std::string stage = job_.stages(1).name();
  ASSERT_TRUE(CreateTrigger(stage, Valid()).ok());
  EXPECT_EQ(FormRequests(), 1);
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_EQ(received->rejected, 0) << "signature verified";
  ASSERT_EQ(received->bodies.size(), 1u);
  const std::string body = received->bodies.begin()->second;
  EXPECT_TRUE(absl::StrContains(body, "\"job\":\"" + job_.name()));
  EXPECT_TRUE(absl::StrContains(body, "\"jobTitle\":\"Backend engineer\""));
  EXPECT_TRUE(absl::StrContains(body, "\"stage\":\"" + stage));
  EXPECT_TRUE(absl::StrContains(body, "\"stageDisplayName\":\"Screening\""));
  EXPECT_TRUE(absl::StrContains(body, "\"api_key\":\"key-123\""));

  ASSERT_TRUE(CreateTrigger(stage, Valid()).ok());
  EXPECT_EQ(FormRequests(), 1) << "the second create used the cached form";
  ASSERT_TRUE(CreateTrigger(job_.stages(2).name(), Valid()).ok());
  EXPECT_EQ(FormRequests(), 2) << "another stage has a form of its own";

  server_.clock().Advance(absl::Seconds(61));
  ASSERT_TRUE(CreateTrigger(stage, Valid()).ok());
  EXPECT_EQ(FormRequests(), 3) << "the cached form expired";
  EXPECT_EQ(TriggersOn(stage), 3);
}

TEST_F(TriggerFormTest, ChecksValuesByFieldType) {
  const std::string stage = job_.stages(1).name();
  const Trigger bad = IntegrationTrigger(integration_, {{"package", "cobol"},
                                                        {"skills", "go,go"},
                                                        {"note", "too long"},
                                                        {"minutes", "500"},
                                                        {"proctored", "yes"},
                                                        {"color", "red"}});
  ExpectInvalid(CreateTrigger(stage, bad),
                {"trigger.integration_event.option_values[color]",
                 "trigger.integration_event.option_values[minutes]",
                 "trigger.integration_event.option_values[note]",
                 "trigger.integration_event.option_values[package]",
                 "trigger.integration_event.option_values[proctored]",
                 "trigger.integration_event.option_values[skills]"});
  ExpectInvalid(CreateTrigger(stage, IntegrationTrigger(integration_, {})),
                {"trigger.integration_event.option_values[package]"});
  ExpectInvalid(CreateTrigger(stage, IntegrationTrigger(integration_,
                                                        {{"package", "sql"},
                                                         {"minutes", "1e3"}})),
                {"trigger.integration_event.option_values[minutes]"});
  EXPECT_EQ(TriggersOn(stage), 0);

  Trigger created;
  ASSERT_TRUE(CreateTrigger(stage, Valid(), &created).ok());
  ats::v1::UpdateTriggerRequest update;
  *update.mutable_trigger() = created;
  (*update.mutable_trigger()
        ->mutable_integration_event()
        ->mutable_option_values())["minutes"] = "5";
  update.mutable_update_mask()->add_paths("integration_event");
  Trigger updated;
  ExpectInvalid(Call(&Stub::UpdateTrigger, update, &updated),
                {"trigger.integration_event.option_values[minutes]"});
}

TEST_F(TriggerFormTest, RefusesMalformedFormsAndStoresNothing) {
  const std::vector<std::string> behaviours = {
      R"({"path": "/form", "body": "not json"})",
      R"({"path": "/form", "body": "{\"fields\": [{\"key\": \"a\", )"
      R"(\"label\": \"A\", \"type\": \"radio\"}]}"})",
      R"({"path": "/form", "body": "{\"fields\": [{\"key\": \"a\", )"
      R"(\"label\": \"A\", \"type\": \"checkbox\"}, {\"key\": \"a\", )"
      R"(\"label\": \"B\", \"type\": \"checkbox\"}]}"})",
      R"({"path": "/form", "body_bytes": 10000000})",
      R"({"path": "/form", "status": 401})",
  };
  for (size_t i = 0; i < behaviours.size(); ++i) {
    SCOPED_TRACE(behaviours[i]);
    ASSERT_TRUE(sink_->SetBehaviour(behaviours[i]).ok());
    // A stage of its own each time: a good form is never cached for it.
    const std::string stage = job_.stages(static_cast<int>(i)).name();
    const grpc::Status status = CreateTrigger(stage, Valid());
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << status.error_message();
    EXPECT_TRUE(absl::StrContains(status.error_message(), "\"Formful\""))
        << status.error_message();
    EXPECT_EQ(TriggersOn(stage), 0);
  }
}

TEST_F(TriggerFormTest, PartnerDownIsUnavailableAndStoredTriggersStillFire) {
  const std::string stage = job_.stages(1).name();
  ASSERT_TRUE(CreateTrigger(stage, Valid()).ok());

  ASSERT_TRUE(sink_->SetBehaviour(R"({"path": "/form", "status": 503})").ok());
  grpc::Status status = CreateTrigger(job_.stages(2).name(), Valid());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "\"Formful\""));
  EXPECT_EQ(TriggersOn(job_.stages(2).name()), 0);

  // Slower than the 5 s the server waits.
  ASSERT_TRUE(
      sink_->SetBehaviour(R"({"path": "/form", "delay_ms": 6000})").ok());
  status = CreateTrigger(job_.stages(2).name(), Valid());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_EQ(TriggersOn(job_.stages(2).name()), 0);

  // Connection refused: a partner whose endpoint nobody listens on.
  const std::string gone = ActivateFormPartner("Gone", FormUri());
  sink_.reset();
  status = CreateTrigger(job_.stages(3).name(),
                         IntegrationTrigger(gone, {{"package", "java"}}));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "\"Gone\""));
  EXPECT_EQ(TriggersOn(job_.stages(3).name()), 0);

  // The stored trigger fires with its stored values; nothing is fetched.
  const ats::v1::Application application = MustAdd(job_, NewCandidate("Ada"));
  ats::v1::MoveCandidateRequest move;
  move.set_name(application.name());
  move.set_stage(stage);
  ats::v1::MoveCandidateResponse moved;
  status = Call(&Stub::MoveCandidate, move, &moved);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(moved.events_size(), 1);
  EXPECT_EQ(moved.events(0).option_values().at("skills"), "go,rust");
}

TEST_F(TriggerFormTest, GetTriggerFormShowsFetchedAndStaticForms) {
  ats::v1::GetTriggerFormRequest request;
  request.set_stage(job_.stages(0).name());
  request.set_integration(integration_);
  TriggerForm form;
  grpc::Status status = Call(&Stub::GetTriggerForm, request, &form);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(form.fields_size(), 5);
  EXPECT_EQ(form.fields(0).type(), "select");
  EXPECT_EQ(form.fields(0).option_groups(0).options(0).value(), "sql");
  EXPECT_EQ(form.fields(3).max().value(), 120);

  const ats::v1::Integration fixed =
      MustActivateNewPartner(server_, server_.admin_key(), "Fixed");
  request.set_integration(fixed.name());
  status = Call(&Stub::GetTriggerForm, request, &form);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(form.fields_size(), 2);
  EXPECT_EQ(form.fields(0).key(), "test_package");
  EXPECT_EQ(form.fields(0).type(), "select");
  EXPECT_EQ(form.fields(1).type(), "text");

  request.set_stage(job_.name() + "/stages/nope");
  EXPECT_EQ(Call(&Stub::GetTriggerForm, request, &form).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(TriggerFormTest, JobsCreatedWithTheirOwnStagesFetchForms) {
  ats::v1::CreateJobRequest request;
  request.set_skip_template(true);
  request.mutable_job()->set_title("Data analyst");
  ats::v1::Stage* stage = request.mutable_job()->add_stages();
  stage->set_display_name("Assessment");
  *stage->add_triggers() =
      IntegrationTrigger(integration_, {{"package", "java"}, {"minutes", "1"}});
  ats::v1::Job job;
  ExpectInvalid(Call(&Stub::CreateJob, request, &job),
                {"job.stages[0].triggers[0].integration_event.option_values["
                 "minutes]"});
  *stage->mutable_triggers(0) = Valid();
  grpc::Status status = Call(&Stub::CreateJob, request, &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FormRequests(), 1) << "the form was kept between the two calls";
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok());
  EXPECT_TRUE(absl::StrContains(received->bodies.begin()->second,
                                "\"jobTitle\":\"Data analyst\""));

  // A job copying a template copies its triggers' values: nothing is asked.
  auto templates = server_.templates();
  ats::v1::JobTemplate standard;
  ASSERT_TRUE(templates
                  ->GetDefaultJobTemplate(
                      TestServer::Context(server_.admin_key()).get(),
                      ats::v1::GetDefaultJobTemplateRequest(), &standard)
                  .ok());
  ats::v1::UpdateJobTemplateRequest update;
  *update.mutable_job_template() = standard;
  *update.mutable_job_template()->mutable_stages(1)->add_triggers() = Valid();
  update.mutable_update_mask()->add_paths("stages");
  update.set_etag(standard.etag());
  status = templates->UpdateJobTemplate(
      TestServer::Context(server_.admin_key()).get(), update, &standard);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(FormRequests(), 2);
  ats::v1::CreateJobRequest copy;
  copy.mutable_job()->set_title("Copy");
  ASSERT_TRUE(Call(&Stub::CreateJob, copy, &job).ok());
  EXPECT_EQ(job.stages(1).triggers_size(), 1);
  EXPECT_EQ(FormRequests(), 2);
}

TEST_F(TriggerFormTest, UpdatePartnerSetsTheFormUri) {
  const ats::v1::Integration fixed =
      MustActivateNewPartner(server_, server_.admin_key(), "Fixed");
  ASSERT_TRUE(sink_->AddSecret(RotatedSecret(fixed.name())).ok());
  ats::v1::UpdatePartnerRequest update;
  update.mutable_partner()->set_name(fixed.partner());
  update.mutable_partner()->set_trigger_form_uri(FormUri());
  update.mutable_update_mask()->add_paths("trigger_form_uri");
  ats::v1::Partner updated;
  grpc::Status status = server_.integrations()->UpdatePartner(
      TestServer::Context(server_.operator_key()).get(), update, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.trigger_form_uri(), FormUri());

  ats::v1::GetTriggerFormRequest request;
  request.set_stage(job_.stages(0).name());
  request.set_integration(fixed.name());
  TriggerForm form;
  status = Call(&Stub::GetTriggerForm, request, &form);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(form.fields_size(), 5) << "the partner's form, not its options";
}

TEST_F(TriggerFormTest, TemplateStagesFetchTheirForms) {
  auto templates = server_.templates();
  ats::v1::CreateJobTemplateRequest create;
  create.mutable_job_template()->set_display_name("With forms");
  ats::v1::Stage* stage = create.mutable_job_template()->add_stages();
  stage->set_display_name("Assessment");
  *stage->add_triggers() =
      IntegrationTrigger(integration_, {{"package", "nope"}});
  ats::v1::JobTemplate created;
  ExpectInvalid(
      templates->CreateJobTemplate(
          TestServer::Context(server_.admin_key()).get(), create, &created),
      {"job_template.stages[0].triggers[0].integration_event.option_values["
       "package]"});
  EXPECT_EQ(FormRequests(), 1);

  *stage->mutable_triggers(0) = Valid();
  grpc::Status status = templates->CreateJobTemplate(
      TestServer::Context(server_.admin_key()).get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  auto received = sink_->Received();
  ASSERT_TRUE(received.ok());
  bool saw_template = false;
  for (const auto& [id, body] : received->bodies) {
    saw_template =
        saw_template || absl::StrContains(body,
                                          "\"jobTemplateDisplayName\":\"With "
                                          "forms\"");
  }
  EXPECT_TRUE(saw_template);

  ats::v1::GetTriggerFormRequest request;
  request.set_stage(created.stages(0).name());
  request.set_integration(integration_);
  TriggerForm form;
  status = Call(&Stub::GetTriggerForm, request, &form);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(form.fields_size(), 5);
}

// The form URI obeys the destination policy: on save when its host is an
// address, and on connect when it is a name that leads to a refused address;
// neither sends anything.
TEST(TriggerFormDestinationTest, RefusesFormUrisTheGuardRefuses) {
  TestServer server(/*allowed_networks=*/"");
  server.clock().Set(absl::Now());
  ats::v1::CreatePartnerRequest request;
  *request.mutable_partner() = TestListing("Private");
  request.mutable_partner()->set_trigger_form_uri("http://10.0.0.1/form");
  ats::v1::Partner partner;
  ExpectInvalid(
      server.integrations()->CreatePartner(
          TestServer::Context(server.operator_key()).get(), request, &partner),
      {"partner.trigger_form_uri"});

  // A name, accepted on save, whose address (loopback) is refused on connect.
  request.mutable_partner()->set_trigger_form_uri("http://localhost:9/form");
  partner = MustListPartner(server, request.partner());
  const ats::v1::Integration integration =
      MustActivatePartner(server, server.admin_key(), partner);
  auto jobs = server.jobs();
  ats::v1::CreateJobRequest create_job;
  create_job.mutable_job()->set_title("Guarded");
  ats::v1::Job job;
  ASSERT_TRUE(jobs->CreateJob(TestServer::Context(server.recruiter_key()).get(),
                              create_job, &job)
                  .ok());
  ats::v1::CreateTriggerRequest create;
  create.set_parent(job.stages(0).name());
  *create.mutable_trigger() =
      IntegrationTrigger(integration.name(), {{"test_package", "basic"}});
  ats::v1::Trigger trigger;
  const grpc::Status status = jobs->CreateTrigger(
      TestServer::Context(server.recruiter_key()).get(), create, &trigger);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "is not allowed"))
      << status.error_message();
}

}  // namespace
}  // namespace ats::testing
