// The destination policy on save, against the real server: every URL the
// service will post webhooks to (a partner's webhook_uri, a webhook
// trigger's uri on a job stage or a template) is refused when its host is a
// loopback, private, link-local or otherwise special-purpose address, in any
// spelling a resolver accepts, with INVALID_ARGUMENT naming the field. Host
// names are not resolved on save (they are checked on connect, see
// tests/dispatch and tests/e2e). Nothing here connects anywhere.

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::Partner;
using ats::v1::Trigger;

// Spellings of addresses no webhook may go to while no network is opened.
const std::vector<std::string> kRefused = {
    "http://127.0.0.1:8090/webhooks",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://0x7f.1:8080/x",
    "http://%31%32%37.0.0.1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://[::1]:8090/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://10.0.0.1/",
    "https://172.16.0.1/",
    "https://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://[fd00::1]/",
    "http://[fe80::1]/",
    "http://224.0.0.1/",
    "http://255.255.255.255/",
    "http://192.0.2.1/",
    "http://[2001:db8::1]/",
};

// Host names and public addresses: accepted on save.
const std::vector<std::string> kAccepted = {
    "https://partner.example/hooks",
    "http://localhost:8090/webhooks",
    "https://8.8.8.8/hooks",
    "https://[2606:4700:4700::1111]/hooks",
};

Trigger WebhookTrigger(const std::string& uri) {
  Trigger trigger;
  trigger.mutable_webhook()->set_uri(uri);
  return trigger;
}

class DestinationOnSaveTest : public ::testing::Test {
 protected:
  grpc::Status CreatePartner(const std::string& uri, Partner* created) {
    ats::v1::CreatePartnerRequest request;
    *request.mutable_partner() = TestListing(absl::StrCat("Partner ", ++made_));
    request.mutable_partner()->set_webhook_uri(uri);
    return integrations_->CreatePartner(
        TestServer::Context(server_.operator_key()).get(), request, created);
  }

  grpc::Status CreateWebhookTrigger(const std::string& stage,
                                    const std::string& uri) {
    ats::v1::CreateTriggerRequest request;
    request.set_parent(stage);
    *request.mutable_trigger() = WebhookTrigger(uri);
    Trigger created;
    return jobs_->CreateTrigger(
        TestServer::Context(server_.recruiter_key()).get(), request, &created);
  }

  // A job of account A with stages copied from its default template.
  ats::v1::Job CreateJob() {
    ats::v1::CreateJobRequest request;
    request.mutable_job()->set_title("Backend engineer");
    ats::v1::Job job;
    grpc::Status status = jobs_->CreateJob(
        TestServer::Context(server_.recruiter_key()).get(), request, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return job;
  }

  // Nothing opened: only public addresses are allowed.
  TestServer server_{""};
  std::unique_ptr<ats::v1::IntegrationService::Stub> integrations_ =
      server_.integrations();
  std::unique_ptr<ats::v1::JobService::Stub> jobs_ = server_.jobs();
  std::unique_ptr<ats::v1::TemplateService::Stub> templates_ =
      server_.templates();
  int made_ = 0;
};

TEST_F(DestinationOnSaveTest, CreatePartnerRefusesSpecialAddresses) {
  for (const std::string& uri : kRefused) {
    SCOPED_TRACE(uri);
    Partner created;
    grpc::Status status = CreatePartner(uri, &created);
    ExpectInvalid(status, {"partner.webhook_uri"});
    EXPECT_TRUE(absl::StrContains(status.error_message(), "must not point at"))
        << status.error_message();
  }
  for (const std::string& uri : kAccepted) {
    Partner created;
    grpc::Status status = CreatePartner(uri, &created);
    EXPECT_TRUE(status.ok()) << uri << ": " << status.error_message();
  }
}

TEST_F(DestinationOnSaveTest, MessageNamesTheAddressAndTheFlag) {
  Partner created;
  grpc::Status status = CreatePartner("http://0x7f000001:8090/hook", &created);
  ExpectInvalid(status, {"partner.webhook_uri"});
  EXPECT_TRUE(absl::StrContains(
      status.error_message(),
      "must not point at 127.0.0.1 (written \"0x7f000001\"), which is "
      "loopback (127.0.0.0/8)"))
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(),
                                "--allowed_destination_networks"))
      << status.error_message();
}

TEST_F(DestinationOnSaveTest, UpdatePartnerRefusesSpecialAddresses) {
  Partner partner;
  ASSERT_TRUE(CreatePartner("https://partner.example/hooks", &partner).ok());
  for (const std::string& uri : kRefused) {
    SCOPED_TRACE(uri);
    ats::v1::UpdatePartnerRequest request;
    request.mutable_partner()->set_name(partner.name());
    request.mutable_partner()->set_webhook_uri(uri);
    request.mutable_update_mask()->add_paths("webhook_uri");
    Partner updated;
    grpc::Status status = integrations_->UpdatePartner(
        TestServer::Context(server_.operator_key()).get(), request, &updated);
    ExpectInvalid(status, {"partner.webhook_uri"});
  }
  ats::v1::GetPartnerRequest get;
  get.set_name(partner.name());
  Partner stored;
  ASSERT_TRUE(integrations_
                  ->GetPartner(TestServer::Context(server_.admin_key()).get(),
                               get, &stored)
                  .ok());
  EXPECT_EQ(stored.webhook_uri(), "https://partner.example/hooks");
}

TEST_F(DestinationOnSaveTest, WebhookTriggersOnStagesRefuseSpecialAddresses) {
  const ats::v1::Job job = CreateJob();
  ASSERT_GE(job.stages_size(), 2);
  const std::string stage = job.stages(1).name();
  for (const std::string& uri : kRefused) {
    SCOPED_TRACE(uri);
    ExpectInvalid(CreateWebhookTrigger(stage, uri), {"trigger.webhook.uri"});
  }
  for (const std::string& uri : kAccepted) {
    grpc::Status status = CreateWebhookTrigger(stage, uri);
    EXPECT_TRUE(status.ok()) << uri << ": " << status.error_message();
  }
}

TEST_F(DestinationOnSaveTest, UpdateTriggerRefusesSpecialAddresses) {
  const ats::v1::Job job = CreateJob();
  ats::v1::CreateTriggerRequest create;
  create.set_parent(job.stages(1).name());
  *create.mutable_trigger() = WebhookTrigger("https://hooks.example/ats");
  Trigger trigger;
  ASSERT_TRUE(jobs_
                  ->CreateTrigger(
                      TestServer::Context(server_.recruiter_key()).get(),
                      create, &trigger)
                  .ok());
  ats::v1::UpdateTriggerRequest request;
  *request.mutable_trigger() = WebhookTrigger("http://169.254.169.254/");
  request.mutable_trigger()->set_name(trigger.name());
  request.mutable_update_mask()->add_paths("webhook");
  Trigger updated;
  ExpectInvalid(
      jobs_->UpdateTrigger(TestServer::Context(server_.recruiter_key()).get(),
                           request, &updated),
      {"trigger.webhook.uri"});
}

TEST_F(DestinationOnSaveTest, JobStagesGivenWithTheJobRefuseSpecialAddresses) {
  ats::v1::CreateJobRequest request;
  request.set_skip_template(true);
  request.mutable_job()->set_title("Chef");
  request.mutable_job()->add_stages()->set_display_name("Inbox");
  ats::v1::Stage* tasting = request.mutable_job()->add_stages();
  tasting->set_display_name("Tasting");
  *tasting->add_triggers() = WebhookTrigger("https://hooks.example/ok");
  *tasting->add_triggers() = WebhookTrigger("http://127.1:8090/");
  ats::v1::Job job;
  ExpectInvalid(
      jobs_->CreateJob(TestServer::Context(server_.recruiter_key()).get(),
                       request, &job),
      {"job.stages[1].triggers[1].webhook.uri"});
}

TEST_F(DestinationOnSaveTest, TemplateWebhookTriggersRefuseSpecialAddresses) {
  ats::v1::JobTemplate current;
  ASSERT_TRUE(templates_
                  ->GetDefaultJobTemplate(
                      TestServer::Context(server_.admin_key()).get(), {},
                      &current)
                  .ok());
  for (const std::string& uri : kRefused) {
    SCOPED_TRACE(uri);
    ats::v1::UpdateJobTemplateRequest request;
    *request.mutable_job_template() = current;
    *request.mutable_job_template()->mutable_stages(1)->add_triggers() =
        WebhookTrigger(uri);
    request.mutable_update_mask()->add_paths("stages");
    request.set_etag(current.etag());
    ats::v1::JobTemplate updated;
    ExpectInvalid(
        templates_->UpdateJobTemplate(
            TestServer::Context(server_.admin_key()).get(), request, &updated),
        {"job_template.stages[1].triggers[0].webhook.uri"});
  }
}

TEST(DestinationOnSaveAllowedTest, AllowedNetworksOpenTheirAddressesOnly) {
  TestServer server("127.0.0.0/8,::1/128,10.1.0.0/16");
  auto integrations = server.integrations();
  int made = 0;
  const auto create = [&](const std::string& uri) {
    ats::v1::CreatePartnerRequest request;
    *request.mutable_partner() = TestListing(absl::StrCat("Partner ", ++made));
    request.mutable_partner()->set_webhook_uri(uri);
    Partner created;
    return integrations->CreatePartner(
        TestServer::Context(server.operator_key()).get(), request, &created);
  };
  for (const char* uri :
       {"http://127.0.0.1:8090/webhooks", "http://2130706433/", "http://127.1/",
        "http://[::1]:8090/", "http://[::ffff:127.0.0.1]/", "http://10.1.2.3/"}) {
    grpc::Status status = create(uri);
    EXPECT_TRUE(status.ok()) << uri << ": " << status.error_message();
  }
  for (const char* uri : {"http://10.2.0.1/", "http://169.254.169.254/",
                          "http://0.0.0.0/", "http://[::]/"}) {
    SCOPED_TRACE(uri);
    ExpectInvalid(create(uri), {"partner.webhook_uri"});
  }
}

}  // namespace
}  // namespace ats::testing
