// IntegrationService, Marketplace and integrations part: against the real
// server on a loopback port (see test_server.h).

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::ActivateIntegrationRequest;
using ats::v1::ActivateIntegrationResponse;
using ats::v1::Integration;
using ats::v1::Partner;
using google::protobuf::util::MessageDifferencer;

// A valid listing: TestListing's (with its two trigger options) plus a
// description, two required activation fields (one secret), two optional
// ones (one secret), and the candidate's given name.
Partner Listing(const std::string& display_name) {
  Partner partner = TestListing(display_name);
  partner.set_description("Skills tests.\nResults within a day.");
  auto add_field = [&partner](const std::string& key, bool required,
                              bool secret) {
    ats::v1::ActivationField* field = partner.add_activation_fields();
    field->set_key(key);
    field->set_display_name("Label of " + key);
    field->set_required(required);
    field->set_secret(secret);
  };
  add_field("api_key", /*required=*/true, /*secret=*/true);
  add_field("company_id", /*required=*/true, /*secret=*/false);
  add_field("region", /*required=*/false, /*secret=*/false);
  add_field("sandbox_token", /*required=*/false, /*secret=*/true);
  partner.add_candidate_fields(ats::v1::CANDIDATE_FIELD_GIVEN_NAME);
  return partner;
}

class IntegrationServiceTest : public ::testing::Test {
 protected:
  static std::unique_ptr<grpc::ClientContext> As(const std::string& key) {
    return TestServer::Context(key);
  }

  grpc::Status CreatePartner(const std::string& key, const Partner& partner,
                             Partner* created,
                             const std::string& request_id = "") {
    ats::v1::CreatePartnerRequest request;
    *request.mutable_partner() = partner;
    request.set_request_id(request_id);
    return stub_->CreatePartner(As(key).get(), request, created);
  }

  grpc::Status Activate(const std::string& key,
                        const ActivateIntegrationRequest& request,
                        ActivateIntegrationResponse* response) {
    return stub_->ActivateIntegration(As(key).get(), request, response);
  }

  // The values Listing() requires.
  static ActivateIntegrationRequest Activation(const Partner& partner) {
    ActivateIntegrationRequest request;
    request.set_partner(partner.name());
    (*request.mutable_activation_values())["api_key"] = "secret-at-partner";
    (*request.mutable_activation_values())["company_id"] = "c-42";
    return request;
  }

  Integration MustActivate(const std::string& key, const Partner& partner) {
    ActivateIntegrationResponse response;
    grpc::Status status = Activate(key, Activation(partner), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.integration();
  }

  grpc::Status GetIntegration(const std::string& key, const std::string& name,
                              Integration* integration) {
    ats::v1::GetIntegrationRequest request;
    request.set_name(name);
    return stub_->GetIntegration(As(key).get(), request, integration);
  }

  grpc::Status GetPartner(const std::string& key, const std::string& name,
                          Partner* partner) {
    ats::v1::GetPartnerRequest request;
    request.set_name(name);
    return stub_->GetPartner(As(key).get(), request, partner);
  }

  TestServer server_;
  std::unique_ptr<ats::v1::IntegrationService::Stub> stub_ =
      server_.integrations();
};

// ---------------------------------------------------------------- Partners

TEST_F(IntegrationServiceTest, CreatePartnerStoresListing) {
  Partner listing = Listing("Acme Tests");
  // Output-only fields in the request are ignored.
  listing.set_name("partners/chosen-by-client");
  listing.set_account_integration("integrations/nope");
  listing.set_etag("r99");
  Partner created;
  grpc::Status status =
      CreatePartner(server_.operator_key(), listing, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(created.name().rfind("partners/", 0), 0u);
  EXPECT_NE(created.name(), "partners/chosen-by-client");
  EXPECT_EQ(created.account_integration(), "");
  EXPECT_EQ(created.etag(), "r1");
  EXPECT_EQ(created.display_name(), "Acme Tests");
  EXPECT_EQ(created.description(), listing.description());
  EXPECT_EQ(created.activation_fields_size(), 4);
  EXPECT_EQ(created.trigger_options(0).allowed_values_size(), 2);
  EXPECT_EQ(created.candidate_fields_size(), 2);
  EXPECT_TRUE(created.has_create_time());
  EXPECT_EQ(created.create_time().seconds(), created.update_time().seconds());

  Partner read;
  status = GetPartner(server_.recruiter_key(), created.name(), &read);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(MessageDifferencer::Equals(read, created)) << read.DebugString();
}

TEST_F(IntegrationServiceTest, CreatePartnerValidatesEveryField) {
  const std::string long_text(2001, 'x');
  struct Case {
    std::string field;
    std::function<void(Partner&)> break_listing;
  };
  const std::vector<Case> cases = {
      {"partner.display_name", [](Partner& p) { p.clear_display_name(); }},
      {"partner.display_name",
       [](Partner& p) { p.set_display_name(std::string(201, 'n')); }},
      {"partner.display_name",
       [](Partner& p) { p.set_display_name("two\nlines"); }},
      {"partner.category", [](Partner& p) { p.clear_category(); }},
      {"partner.category",
       [](Partner& p) {
         p.set_category(static_cast<ats::v1::PartnerCategory>(99));
       }},
      {"partner.description",
       [&](Partner& p) { p.set_description(long_text); }},
      {"partner.webhook_uri", [](Partner& p) { p.clear_webhook_uri(); }},
      {"partner.webhook_uri",
       [](Partner& p) { p.set_webhook_uri("ftp://partner.example/"); }},
      {"partner.activation_fields",
       [](Partner& p) {
         for (int i = 0; i < 17; ++i) {
           auto* field = p.add_activation_fields();
           field->set_key("extra_" + std::to_string(i));
           field->set_display_name("Extra");
         }
       }},
      {"partner.activation_fields[1].key",
       [](Partner& p) { p.mutable_activation_fields(1)->set_key("Bad Key"); }},
      {"partner.activation_fields[2].key",
       [](Partner& p) { p.mutable_activation_fields(2)->set_key("api_key"); }},
      {"partner.activation_fields[0].display_name",
       [](Partner& p) { p.mutable_activation_fields(0)->clear_display_name(); }},
      {"partner.activation_fields[3].description",
       [&](Partner& p) {
         p.mutable_activation_fields(3)->set_description(long_text);
       }},
      {"partner.trigger_options",
       [](Partner& p) {
         for (int i = 0; i < 19; ++i) {
           auto* option = p.add_trigger_options();
           option->set_key("extra_" + std::to_string(i));
           option->set_display_name("Extra");
         }
       }},
      {"partner.trigger_options[1].key",
       [](Partner& p) {
         p.mutable_trigger_options(1)->set_key("test_package");
       }},
      {"partner.trigger_options[0].display_name",
       [](Partner& p) {
         p.mutable_trigger_options(0)->set_display_name(std::string(201, 'n'));
       }},
      {"partner.trigger_options[1].description",
       [&](Partner& p) {
         p.mutable_trigger_options(1)->set_description(long_text);
       }},
      {"partner.trigger_options[0].allowed_values",
       [](Partner& p) {
         for (int i = 0; i < 99; ++i) {
           p.mutable_trigger_options(0)->add_allowed_values(
               "v" + std::to_string(i));
         }
       }},
      {"partner.trigger_options[0].allowed_values[2]",
       [](Partner& p) {
         p.mutable_trigger_options(0)->add_allowed_values("basic");
       }},
      {"partner.trigger_options[0].allowed_values[0]",
       [](Partner& p) {
         p.mutable_trigger_options(0)->set_allowed_values(0, "");
       }},
      {"partner.trigger_options[0].allowed_values[1]",
       [](Partner& p) {
         p.mutable_trigger_options(0)->set_allowed_values(
             1, std::string(257, 'v'));
       }},
      {"partner.candidate_fields[0]",
       [](Partner& p) {
         p.set_candidate_fields(0, ats::v1::CANDIDATE_FIELD_UNSPECIFIED);
       }},
      {"partner.candidate_fields[2]",
       [](Partner& p) {
         p.add_candidate_fields(ats::v1::CANDIDATE_FIELD_EMAIL);
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    Partner listing = Listing("Acme Tests");
    c.break_listing(listing);
    Partner created;
    EXPECT_TRUE(HasViolation(
        CreatePartner(server_.operator_key(), listing, &created), c.field));
  }
}

TEST_F(IntegrationServiceTest, CreatePartnerReportsEveryViolationAtOnce) {
  Partner listing = Listing("");
  listing.clear_webhook_uri();
  listing.mutable_activation_fields(1)->set_key("api_key");
  Partner created;
  grpc::Status status = CreatePartner(server_.operator_key(), listing,
                                      &created, "bad request id!");
  EXPECT_TRUE(HasViolation(status, "partner.display_name"));
  EXPECT_TRUE(HasViolation(status, "partner.webhook_uri"));
  EXPECT_TRUE(HasViolation(status, "partner.activation_fields[1].key"));
  EXPECT_TRUE(HasViolation(status, "request_id"));
}

TEST_F(IntegrationServiceTest, CreatePartnerAcceptsListsAtTheirLimits) {
  Partner listing = Listing("Big Listing");
  for (int i = listing.activation_fields_size(); i < 20; ++i) {
    auto* field = listing.add_activation_fields();
    field->set_key("extra_" + std::to_string(i));
    field->set_display_name("Extra");
  }
  for (int i = 2; i < 100; ++i) {
    listing.mutable_trigger_options(0)->add_allowed_values(
        "v" + std::to_string(i));
  }
  listing.set_description(std::string(2000, 'd'));
  Partner created;
  grpc::Status status =
      CreatePartner(server_.operator_key(), listing, &created);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(IntegrationServiceTest, PartnerNamesAreUniqueIgnoringCase) {
  MustListPartner(server_, Listing("Acme Tests"));
  Partner created;
  grpc::Status status =
      CreatePartner(server_.operator_key(), Listing("ACME tests"), &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(status.error_message().find("\"ACME tests\""), std::string::npos)
      << status.error_message();
}

TEST_F(IntegrationServiceTest, CreatePartnerRetryReturnsSamePartner) {
  Partner first;
  ASSERT_TRUE(CreatePartner(server_.operator_key(), Listing("Acme Tests"),
                            &first, "req-1")
                  .ok());
  Partner again;
  grpc::Status status = CreatePartner(server_.operator_key(),
                                      Listing("Acme Tests"), &again, "req-1");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.name(), first.name());
}

TEST_F(IntegrationServiceTest, OnlyOperatorsWriteTheMarketplace) {
  Partner created;
  EXPECT_EQ(CreatePartner(server_.admin_key(), Listing("Acme"), &created)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  ats::v1::UpdatePartnerRequest update;
  *update.mutable_partner() = partner;
  update.mutable_update_mask()->add_paths("description");
  Partner updated;
  EXPECT_EQ(stub_->UpdatePartner(As(server_.admin_key()).get(), update,
                                 &updated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IntegrationServiceTest, GetPartnerChecksName) {
  Partner partner;
  EXPECT_TRUE(HasViolation(
      GetPartner(server_.admin_key(), "partner/x", &partner), "name"));
  EXPECT_EQ(GetPartner(server_.admin_key(), "partners/missing", &partner)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(IntegrationServiceTest, ListPartnersPagesInNameOrder) {
  for (const char* name : {"delta", "Alpha", "echo", "Charlie", "bravo"}) {
    MustListPartner(server_, Listing(name));
  }
  ats::v1::ListPartnersRequest request;
  request.set_page_size(2);
  std::vector<std::vector<std::string>> pages;
  std::string first_token;
  do {
    ats::v1::ListPartnersResponse response;
    grpc::Status status = stub_->ListPartners(
        As(server_.recruiter_key()).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const Partner& p : response.partners()) {
      names.push_back(p.display_name());
      EXPECT_EQ(p.etag(), "r1");
    }
    pages.push_back(names);
    if (first_token.empty()) first_token = response.next_page_token();
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty() && pages.size() < 10);
  const std::vector<std::vector<std::string>> expected = {
      {"Alpha", "bravo"}, {"Charlie", "delta"}, {"echo"}};
  EXPECT_EQ(pages, expected);

  // A token only continues the query it came from.
  request.set_page_token(first_token);
  request.set_category(ats::v1::PARTNER_CATEGORY_HRIS);
  ats::v1::ListPartnersResponse response;
  EXPECT_TRUE(HasViolation(
      stub_->ListPartners(As(server_.recruiter_key()).get(), request,
                          &response),
      "page_token"));
}

TEST_F(IntegrationServiceTest, ListPartnersFiltersByCategory) {
  MustListPartner(server_, Listing("Tests Inc"));
  Partner hris = Listing("People Records");
  hris.set_category(ats::v1::PARTNER_CATEGORY_HRIS);
  MustListPartner(server_, hris);
  ats::v1::ListPartnersRequest request;
  request.set_category(ats::v1::PARTNER_CATEGORY_HRIS);
  ats::v1::ListPartnersResponse response;
  ASSERT_TRUE(
      stub_->ListPartners(As(server_.admin_key()).get(), request, &response)
          .ok());
  ASSERT_EQ(response.partners_size(), 1);
  EXPECT_EQ(response.partners(0).display_name(), "People Records");
  EXPECT_EQ(response.next_page_token(), "");

  request.set_category(static_cast<ats::v1::PartnerCategory>(42));
  EXPECT_TRUE(HasViolation(
      stub_->ListPartners(As(server_.admin_key()).get(), request, &response),
      "category"));
}

TEST_F(IntegrationServiceTest, ListPartnersShowsTheCallersIntegration) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  const Integration integration = MustActivate(server_.admin_key(), partner);
  auto list = [&](const std::string& key) {
    ats::v1::ListPartnersResponse response;
    grpc::Status status = stub_->ListPartners(As(key).get(), {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.partners_size(), 1);
    return response.partners_size() == 1 ? response.partners(0) : Partner();
  };
  Partner seen = list(server_.recruiter_key());
  EXPECT_EQ(seen.account_integration(), integration.name());
  EXPECT_TRUE(seen.account_integration_active());
  EXPECT_EQ(list(server_.other_admin_key()).account_integration(), "");
  EXPECT_EQ(list(server_.operator_key()).account_integration(), "");

  ats::v1::DeactivateIntegrationRequest deactivate;
  deactivate.set_name(integration.name());
  Integration deactivated;
  ASSERT_TRUE(stub_->DeactivateIntegration(As(server_.admin_key()).get(),
                                           deactivate, &deactivated)
                  .ok());
  seen = list(server_.admin_key());
  EXPECT_EQ(seen.account_integration(), integration.name());
  EXPECT_FALSE(seen.account_integration_active());

  Partner got;
  ASSERT_TRUE(GetPartner(server_.admin_key(), partner.name(), &got).ok());
  EXPECT_EQ(got.account_integration(), integration.name());
}

TEST_F(IntegrationServiceTest, UpdatePartnerChangesMaskedFields) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  server_.clock().Advance(absl::Minutes(5));
  ats::v1::UpdatePartnerRequest request;
  Partner* update = request.mutable_partner();
  update->set_name(partner.name());
  update->set_display_name("Acme Assessments");
  update->set_webhook_uri("https://ignored.example/");  // Not in the mask.
  // Replaces the list rather than appending to it.
  auto* only = update->add_activation_fields();
  only->set_key("token");
  only->set_display_name("Token");
  request.mutable_update_mask()->add_paths("display_name");
  request.mutable_update_mask()->add_paths("description");  // Clears it.
  request.mutable_update_mask()->add_paths("activation_fields");
  request.set_etag(partner.etag());
  Partner updated;
  grpc::Status status =
      stub_->UpdatePartner(As(server_.operator_key()).get(), request, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.display_name(), "Acme Assessments");
  EXPECT_EQ(updated.description(), "");
  EXPECT_EQ(updated.webhook_uri(), partner.webhook_uri());
  ASSERT_EQ(updated.activation_fields_size(), 1);
  EXPECT_EQ(updated.activation_fields(0).key(), "token");
  EXPECT_EQ(updated.trigger_options_size(), 2);
  EXPECT_EQ(updated.etag(), "r2");
  EXPECT_EQ(updated.update_time().seconds(),
            partner.update_time().seconds() + 300);
  EXPECT_EQ(updated.create_time().seconds(), partner.create_time().seconds());

  // The etag read before the update is stale now.
  request.mutable_update_mask()->Clear();
  request.mutable_update_mask()->add_paths("display_name");
  status =
      stub_->UpdatePartner(As(server_.operator_key()).get(), request, &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
}

TEST_F(IntegrationServiceTest, UpdatePartnerKeepsItsOwnNameInAnotherCase) {
  const Partner partner = MustListPartner(server_, Listing("acme"));
  ats::v1::UpdatePartnerRequest request;
  request.mutable_partner()->set_name(partner.name());
  request.mutable_partner()->set_display_name("ACME");
  request.mutable_update_mask()->add_paths("display_name");
  Partner updated;
  grpc::Status status =
      stub_->UpdatePartner(As(server_.operator_key()).get(), request, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.display_name(), "ACME");
}

TEST_F(IntegrationServiceTest, UpdatePartnerRejectsBadRequests) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  MustListPartner(server_, Listing("Taken"));
  auto update = [&](const std::function<void(ats::v1::UpdatePartnerRequest&)>&
                        edit) {
    ats::v1::UpdatePartnerRequest request;
    request.mutable_partner()->set_name(partner.name());
    edit(request);
    Partner updated;
    return stub_->UpdatePartner(As(server_.operator_key()).get(), request,
                                &updated);
  };
  EXPECT_TRUE(HasViolation(update([](auto&) {}), "update_mask"));
  EXPECT_TRUE(HasViolation(update([](auto& r) {
                             r.mutable_update_mask()->add_paths("etag");
                           }),
                           "update_mask"));
  EXPECT_TRUE(HasViolation(update([](auto& r) {
                             r.mutable_partner()->set_name("partners/");
                             r.mutable_update_mask()->add_paths("description");
                           }),
                           "partner.name"));
  // The listing is checked as a whole after the update.
  EXPECT_TRUE(HasViolation(update([](auto& r) {
                             r.mutable_update_mask()->add_paths("display_name");
                           }),
                           "partner.display_name"));
  EXPECT_TRUE(HasViolation(update([&](auto& r) {
                             *r.mutable_partner()->mutable_trigger_options() =
                                 partner.trigger_options();
                             r.mutable_partner()
                                 ->mutable_trigger_options(1)
                                 ->set_key("test_package");
                             r.mutable_update_mask()->add_paths(
                                 "trigger_options");
                           }),
                           "partner.trigger_options[1].key"));
  grpc::Status status = update([](auto& r) {
    r.mutable_partner()->set_display_name("TAKEN");
    r.mutable_update_mask()->add_paths("display_name");
  });
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(status.error_message().find("\"TAKEN\""), std::string::npos);
  EXPECT_EQ(update([](auto& r) {
              r.mutable_partner()->set_name("partners/missing");
              r.mutable_update_mask()->add_paths("description");
            }).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Nothing above changed the listing.
  Partner read;
  ASSERT_TRUE(GetPartner(server_.operator_key(), partner.name(), &read).ok());
  EXPECT_EQ(read.etag(), "r1");
}

// ------------------------------------------------------------ Integrations

TEST_F(IntegrationServiceTest, ActivateReturnsSecretOnceAndHidesSecretValues) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  ActivateIntegrationRequest request = Activation(partner);
  (*request.mutable_activation_values())["region"] = "eu";
  (*request.mutable_activation_values())["sandbox_token"] = "sandbox-secret";
  ActivateIntegrationResponse response;
  grpc::Status status = Activate(server_.admin_key(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.signing_secret().rfind("whsec_", 0), 0u);
  EXPECT_GT(response.signing_secret().size(), 40u);

  const Integration& created = response.integration();
  EXPECT_EQ(created.name().rfind("integrations/", 0), 0u);
  EXPECT_EQ(created.partner(), partner.name());
  EXPECT_EQ(created.display_name(), "Acme");
  EXPECT_EQ(created.state(), ats::v1::INTEGRATION_STATE_ACTIVE);
  EXPECT_EQ(created.etag(), "r1");
  EXPECT_TRUE(created.has_signing_secret_create_time());
  EXPECT_EQ(created.endpoint_disabled_reason(), "");
  ASSERT_EQ(created.activation_values_size(), 2);
  EXPECT_EQ(created.activation_values().at("company_id"), "c-42");
  EXPECT_EQ(created.activation_values().at("region"), "eu");
  EXPECT_EQ(std::vector<std::string>(created.secret_fields_set().begin(),
                                     created.secret_fields_set().end()),
            (std::vector<std::string>{"api_key", "sandbox_token"}));

  for (const std::string& key :
       {server_.admin_key(), server_.recruiter_key()}) {
    Integration read;
    status = GetIntegration(key, created.name(), &read);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_TRUE(MessageDifferencer::Equals(read, created))
        << read.DebugString();
    EXPECT_EQ(read.DebugString().find("secret-at-partner"), std::string::npos);
    EXPECT_EQ(read.DebugString().find("sandbox-secret"), std::string::npos);
  }
}

TEST_F(IntegrationServiceTest, ActivateRetryReturnsSameIntegrationNoSecret) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  ActivateIntegrationRequest request = Activation(partner);
  request.set_request_id("activate-1");
  ActivateIntegrationResponse first;
  ASSERT_TRUE(Activate(server_.admin_key(), request, &first).ok());
  EXPECT_FALSE(first.signing_secret().empty());
  ActivateIntegrationResponse again;
  grpc::Status status = Activate(server_.admin_key(), request, &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.integration().name(), first.integration().name());
  EXPECT_EQ(again.signing_secret(), "");

  // The same request_id for another request is refused.
  request.set_display_name("Other");
  EXPECT_TRUE(HasViolation(Activate(server_.admin_key(), request, &again),
                           "request_id"));
}

TEST_F(IntegrationServiceTest, ActivateTwiceIsAlreadyExists) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  const Integration integration = MustActivate(server_.admin_key(), partner);
  ActivateIntegrationResponse response;
  grpc::Status status =
      Activate(server_.admin_key(), Activation(partner), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(status.error_message().find("ReactivateIntegration"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find(integration.name()),
            std::string::npos);
  // Another account activates the same partner independently.
  EXPECT_TRUE(
      Activate(server_.other_admin_key(), Activation(partner), &response).ok());
}

TEST_F(IntegrationServiceTest, ActivateValidatesValuesAgainstTheListing) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  struct Case {
    std::string field;
    std::function<void(ActivateIntegrationRequest&)> break_request;
  };
  const std::vector<Case> cases = {
      {"activation_values[bogus]",
       [](auto& r) { (*r.mutable_activation_values())["bogus"] = "x"; }},
      {"activation_values[api_key]",
       [](auto& r) { r.mutable_activation_values()->erase("api_key"); }},
      {"activation_values[company_id]",
       [](auto& r) { (*r.mutable_activation_values())["company_id"] = ""; }},
      {"activation_values[region]",
       [](auto& r) {
         (*r.mutable_activation_values())["region"] = std::string(1025, 'r');
       }},
      {"display_name",
       [](auto& r) { r.set_display_name(std::string(201, 'd')); }},
      {"partner", [](auto& r) { r.set_partner("acme"); }},
      {"request_id", [](auto& r) { r.set_request_id(std::string(65, 'r')); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    ActivateIntegrationRequest request = Activation(partner);
    c.break_request(request);
    ActivateIntegrationResponse response;
    EXPECT_TRUE(
        HasViolation(Activate(server_.admin_key(), request, &response),
                     c.field));
  }
  ActivateIntegrationRequest request = Activation(partner);
  request.set_partner("partners/missing");
  ActivateIntegrationResponse response;
  EXPECT_EQ(Activate(server_.admin_key(), request, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  // Optional values may be left out, and 1024 characters are fine.
  request = Activation(partner);
  (*request.mutable_activation_values())["company_id"] =
      std::string(1024, 'c');
  request.set_display_name("Acme for EMEA");
  grpc::Status status = Activate(server_.admin_key(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.integration().display_name(), "Acme for EMEA");
}

TEST_F(IntegrationServiceTest, OnlyAdminsActivate) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  ActivateIntegrationResponse response;
  EXPECT_EQ(Activate(server_.recruiter_key(), Activation(partner), &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Operators belong to no account, so they have nothing to activate for.
  EXPECT_EQ(Activate(server_.operator_key(), Activation(partner), &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IntegrationServiceTest, OtherAccountsIntegrationIsNotFound) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  const Integration integration = MustActivate(server_.admin_key(), partner);
  const std::string& other = server_.other_admin_key();
  Integration result;
  EXPECT_EQ(GetIntegration(other, integration.name(), &result).error_code(),
            grpc::StatusCode::NOT_FOUND);

  ats::v1::UpdateIntegrationRequest update;
  update.mutable_integration()->set_name(integration.name());
  update.mutable_integration()->set_display_name("Mine");
  update.mutable_update_mask()->add_paths("display_name");
  EXPECT_EQ(stub_->UpdateIntegration(As(other).get(), update, &result)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  ats::v1::DeactivateIntegrationRequest deactivate;
  deactivate.set_name(integration.name());
  EXPECT_EQ(stub_->DeactivateIntegration(As(other).get(), deactivate, &result)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  ats::v1::ReactivateIntegrationRequest reactivate;
  reactivate.set_name(integration.name());
  EXPECT_EQ(stub_->ReactivateIntegration(As(other).get(), reactivate, &result)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  ats::v1::RotateSigningSecretRequest rotate;
  rotate.set_name(integration.name());
  ats::v1::RotateSigningSecretResponse rotated;
  EXPECT_EQ(stub_->RotateSigningSecret(As(other).get(), rotate, &rotated)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  ats::v1::ListIntegrationsResponse listed;
  ASSERT_TRUE(stub_->ListIntegrations(As(other).get(), {}, &listed).ok());
  EXPECT_EQ(listed.integrations_size(), 0);
}

TEST_F(IntegrationServiceTest, PartnerKeySeesOnlyItsOwnIntegration) {
  const Integration own = MustActivate(
      server_.admin_key(), MustListPartner(server_, Listing("Acme")));
  const Integration sibling = MustActivate(
      server_.admin_key(), MustListPartner(server_, Listing("Other")));
  const std::string partner_key = server_.CreateKey(
      ats::v1::ROLE_PARTNER, server_.account(), own.name());
  Integration read;
  grpc::Status status = GetIntegration(partner_key, own.name(), &read);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(read.name(), own.name());
  EXPECT_EQ(GetIntegration(partner_key, sibling.name(), &read).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ats::v1::ListIntegrationsResponse listed;
  EXPECT_EQ(stub_->ListIntegrations(As(partner_key).get(), {}, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IntegrationServiceTest, ListIntegrationsOldestFirstWithStateFilter) {
  std::vector<std::string> names;
  for (const char* partner : {"Zeta", "Alpha", "Mu"}) {
    names.push_back(MustActivate(server_.admin_key(),
                                 MustListPartner(server_, Listing(partner)))
                        .name());
    server_.clock().Advance(absl::Seconds(1));
  }
  ats::v1::DeactivateIntegrationRequest deactivate;
  deactivate.set_name(names[1]);
  Integration deactivated;
  ASSERT_TRUE(stub_->DeactivateIntegration(As(server_.admin_key()).get(),
                                           deactivate, &deactivated)
                  .ok());

  ats::v1::ListIntegrationsRequest request;
  request.set_page_size(2);
  std::vector<std::string> listed;
  do {
    ats::v1::ListIntegrationsResponse response;
    grpc::Status status = stub_->ListIntegrations(
        As(server_.recruiter_key()).get(), request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const Integration& i : response.integrations()) {
      listed.push_back(i.name());
      EXPECT_EQ(i.activation_values().count("api_key"), 0u);
    }
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty() && listed.size() < 10);
  EXPECT_EQ(listed, names);

  request.set_state(ats::v1::INTEGRATION_STATE_INACTIVE);
  request.set_page_size(0);
  ats::v1::ListIntegrationsResponse response;
  ASSERT_TRUE(stub_->ListIntegrations(As(server_.admin_key()).get(), request,
                                      &response)
                  .ok());
  ASSERT_EQ(response.integrations_size(), 1);
  EXPECT_EQ(response.integrations(0).name(), names[1]);
  EXPECT_EQ(response.integrations(0).state(),
            ats::v1::INTEGRATION_STATE_INACTIVE);
}

TEST_F(IntegrationServiceTest, UpdateIntegrationKeepsUnsentSecrets) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  ActivateIntegrationRequest activation = Activation(partner);
  (*activation.mutable_activation_values())["region"] = "eu";
  (*activation.mutable_activation_values())["sandbox_token"] = "sandbox-1";
  ActivateIntegrationResponse activated;
  ASSERT_TRUE(Activate(server_.admin_key(), activation, &activated).ok());
  const Integration& integration = activated.integration();

  // The whole map is replaced: region goes, company_id changes, the secret
  // api_key is replaced, and the secret sandbox_token, not sent, stays.
  ats::v1::UpdateIntegrationRequest request;
  request.mutable_integration()->set_name(integration.name());
  request.mutable_integration()->set_display_name("Acme (EU)");
  auto& values = *request.mutable_integration()->mutable_activation_values();
  values["company_id"] = "c-43";
  values["api_key"] = "new-secret";
  request.mutable_update_mask()->add_paths("display_name");
  request.mutable_update_mask()->add_paths("activation_values");
  request.set_etag(integration.etag());
  Integration updated;
  grpc::Status status = stub_->UpdateIntegration(
      As(server_.admin_key()).get(), request, &updated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(updated.display_name(), "Acme (EU)");
  EXPECT_EQ(updated.etag(), "r2");
  ASSERT_EQ(updated.activation_values_size(), 1);
  EXPECT_EQ(updated.activation_values().at("company_id"), "c-43");
  EXPECT_EQ(updated.secret_fields_set_size(), 2);

  // The stored values, secrets included.
  storage::IntegrationRow row;
  ASSERT_TRUE(server_.store()
                  .Read([&](storage::Transaction& txn) {
                    auto found = txn.integrations().FindIntegrationByPartner(
                        server_.account().substr(sizeof("accounts/") - 1),
                        partner.name().substr(sizeof("partners/") - 1));
                    if (!found.ok()) return found.status();
                    row = **found;
                    return absl::OkStatus();
                  })
                  .ok());
  const std::map<std::string, std::string> expected = {
      {"api_key", "new-secret"},
      {"company_id", "c-43"},
      {"sandbox_token", "sandbox-1"}};
  EXPECT_EQ(row.activation_values, expected);

  // Stale etag.
  status = stub_->UpdateIntegration(As(server_.admin_key()).get(), request,
                                    &updated);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
}

TEST_F(IntegrationServiceTest, UpdateIntegrationRejectsBadRequests) {
  const Integration integration = MustActivate(
      server_.admin_key(), MustListPartner(server_, Listing("Acme")));
  auto update =
      [&](const std::function<void(ats::v1::UpdateIntegrationRequest&)>&
              edit) {
        ats::v1::UpdateIntegrationRequest request;
        request.mutable_integration()->set_name(integration.name());
        edit(request);
        Integration updated;
        return stub_->UpdateIntegration(As(server_.admin_key()).get(), request,
                                        &updated);
      };
  EXPECT_TRUE(HasViolation(update([](auto&) {}), "update_mask"));
  EXPECT_TRUE(HasViolation(update([](auto& r) {
                             r.mutable_update_mask()->add_paths("state");
                           }),
                           "update_mask"));
  EXPECT_TRUE(HasViolation(update([](auto& r) {
                             r.mutable_update_mask()->add_paths("display_name");
                           }),
                           "integration.display_name"));
  EXPECT_TRUE(HasViolation(
      update([](auto& r) {
        auto& values = *r.mutable_integration()->mutable_activation_values();
        values["company_id"] = "c";
        values["bogus"] = "x";
        r.mutable_update_mask()->add_paths("activation_values");
      }),
      "integration.activation_values[bogus]"));
  // company_id is required and not secret, so leaving it out removes it.
  EXPECT_TRUE(HasViolation(update([](auto& r) {
                             r.mutable_update_mask()->add_paths(
                                 "activation_values");
                           }),
                           "integration.activation_values[company_id]"));
  EXPECT_EQ(update([](auto& r) {
              r.mutable_integration()->set_name("integrations/missing");
              r.mutable_integration()->set_display_name("x");
              r.mutable_update_mask()->add_paths("display_name");
            }).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(update([](auto& r) {
              r.mutable_integration()->set_display_name("x");
              r.mutable_update_mask()->add_paths("display_name");
              r.set_etag("r7");
            }).error_code(),
            grpc::StatusCode::ABORTED);

  ats::v1::UpdateIntegrationRequest request;
  request.mutable_integration()->set_name(integration.name());
  request.mutable_integration()->set_display_name("x");
  request.mutable_update_mask()->add_paths("display_name");
  Integration updated;
  EXPECT_EQ(stub_->UpdateIntegration(As(server_.recruiter_key()).get(),
                                     request, &updated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(IntegrationServiceTest, DeactivateAndReactivateAreIdempotent) {
  const Integration integration = MustActivate(
      server_.admin_key(), MustListPartner(server_, Listing("Acme")));
  ats::v1::DeactivateIntegrationRequest deactivate;
  deactivate.set_name(integration.name());
  Integration result;
  ASSERT_TRUE(stub_->DeactivateIntegration(As(server_.admin_key()).get(),
                                           deactivate, &result)
                  .ok());
  EXPECT_EQ(result.state(), ats::v1::INTEGRATION_STATE_INACTIVE);
  EXPECT_EQ(result.etag(), "r2");
  ASSERT_TRUE(stub_->DeactivateIntegration(As(server_.admin_key()).get(),
                                           deactivate, &result)
                  .ok());
  EXPECT_EQ(result.state(), ats::v1::INTEGRATION_STATE_INACTIVE);
  EXPECT_EQ(result.etag(), "r2");  // Nothing changed.

  ats::v1::ReactivateIntegrationRequest reactivate;
  reactivate.set_name(integration.name());
  ASSERT_TRUE(stub_->ReactivateIntegration(As(server_.admin_key()).get(),
                                           reactivate, &result)
                  .ok());
  EXPECT_EQ(result.state(), ats::v1::INTEGRATION_STATE_ACTIVE);
  EXPECT_EQ(result.etag(), "r3");
  ASSERT_TRUE(stub_->ReactivateIntegration(As(server_.admin_key()).get(),
                                           reactivate, &result)
                  .ok());
  EXPECT_EQ(result.etag(), "r3");

  EXPECT_EQ(stub_->DeactivateIntegration(As(server_.recruiter_key()).get(),
                                         deactivate, &result)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  deactivate.set_name("integrations");
  EXPECT_TRUE(HasViolation(stub_->DeactivateIntegration(
                               As(server_.admin_key()).get(), deactivate,
                               &result),
                           "name"));
}

TEST_F(IntegrationServiceTest, ReactivateReenablesADisabledEndpoint) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  const Integration integration = MustActivate(server_.admin_key(), partner);
  // What the dispatcher does on a 410 answer.
  ASSERT_TRUE(server_.store()
                  .WriteAndWait([&](storage::Transaction& txn) {
                    auto found = txn.integrations().FindIntegrationByPartner(
                        server_.account().substr(sizeof("accounts/") - 1),
                        partner.name().substr(sizeof("partners/") - 1));
                    if (!found.ok()) return found.status();
                    storage::IntegrationRow row = **found;
                    row.endpoint_disabled_reason = "410 Gone";
                    row.revision += 1;
                    return txn.integrations().UpdateIntegration(row);
                  })
                  .ok());
  Integration read;
  ASSERT_TRUE(GetIntegration(server_.admin_key(), integration.name(), &read)
                  .ok());
  EXPECT_EQ(read.endpoint_disabled_reason(), "410 Gone");

  ats::v1::ReactivateIntegrationRequest reactivate;
  reactivate.set_name(integration.name());
  ASSERT_TRUE(stub_->ReactivateIntegration(As(server_.admin_key()).get(),
                                           reactivate, &read)
                  .ok());
  EXPECT_EQ(read.endpoint_disabled_reason(), "");
  EXPECT_EQ(read.state(), ats::v1::INTEGRATION_STATE_ACTIVE);
  EXPECT_EQ(read.etag(), "r3");
}

TEST_F(IntegrationServiceTest, RotateSigningSecretReturnsNewSecretOnce) {
  const Partner partner = MustListPartner(server_, Listing("Acme"));
  ActivateIntegrationResponse activated;
  ASSERT_TRUE(
      Activate(server_.admin_key(), Activation(partner), &activated).ok());
  server_.clock().Advance(absl::Hours(1));

  ats::v1::RotateSigningSecretRequest request;
  request.set_name(activated.integration().name());
  ats::v1::RotateSigningSecretResponse rotated;
  grpc::Status status = stub_->RotateSigningSecret(
      As(server_.admin_key()).get(), request, &rotated);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(rotated.signing_secret().rfind("whsec_", 0), 0u);
  EXPECT_NE(rotated.signing_secret(), activated.signing_secret());
  EXPECT_EQ(rotated.integration().etag(), "r2");
  EXPECT_EQ(rotated.integration().signing_secret_create_time().seconds(),
            activated.integration().signing_secret_create_time().seconds() +
                3600);

  EXPECT_EQ(stub_->RotateSigningSecret(As(server_.recruiter_key()).get(),
                                       request, &rotated)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace ats::testing
