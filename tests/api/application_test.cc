// JobService against the real server: the candidate database, and
// applications: adding candidates to jobs, moving them (one, concurrently,
// in batches), their stage history, idempotent retries, tenant isolation.

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/api/fixtures.h"
#include "tests/api/test_server.h"

namespace ats::testing {
namespace {

using ats::v1::Application;
using ats::v1::Candidate;
using ats::v1::Job;
using google::protobuf::util::MessageDifferencer;
using Code = grpc::StatusCode;

class ApplicationTest : public JobServiceFixture {
 protected:
  grpc::Status Move(const std::string& application, const std::string& stage,
                    ats::v1::MoveCandidateResponse* response,
                    const std::string& request_id = "") {
    ats::v1::MoveCandidateRequest request;
    request.set_name(application);
    request.set_stage(stage);
    request.set_request_id(request_id);
    return Call(&Stub::MoveCandidate, request, response);
  }

  Application GetApplication(const std::string& name) {
    ats::v1::GetApplicationRequest request;
    request.set_name(name);
    Application application;
    grpc::Status status = Call(&Stub::GetApplication, request, &application);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return application;
  }

  grpc::Status BatchMove(const Job& job, const std::vector<std::string>& names,
                         const std::string& stage,
                         ats::v1::BatchMoveCandidatesResponse* response,
                         const std::string& request_id = "") {
    ats::v1::BatchMoveCandidatesRequest request;
    request.set_parent(job.name());
    for (const std::string& name : names) request.add_candidates(name);
    request.set_stage(stage);
    request.set_request_id(request_id);
    return Call(&Stub::BatchMoveCandidates, request, response);
  }
};

TEST_F(ApplicationTest, CreateCandidateStoresSortedTags) {
  Candidate candidate;
  candidate.set_given_name("Grace");
  candidate.set_family_name("Hopper");
  candidate.set_email("grace@navy.example");
  candidate.set_phone("+1 (555) 010-0000");
  for (const char* tag : {"senior", "cobol", "senior", "admiral"}) {
    candidate.add_tags(tag);
  }
  Candidate created;
  ASSERT_TRUE(CreateCandidate(candidate, &created).ok());
  EXPECT_TRUE(absl::StartsWith(created.name(), "candidates/"));
  EXPECT_EQ(std::vector<std::string>(created.tags().begin(),
                                     created.tags().end()),
            (std::vector<std::string>{"admiral", "cobol", "senior"}));
  EXPECT_EQ(created.phone(), "+1 (555) 010-0000");
  ats::v1::GetCandidateRequest get;
  get.set_name(created.name());
  Candidate got;
  ASSERT_TRUE(Call(&Stub::GetCandidate, get, &got).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(got, created));
  get.set_name("candidates/missing");
  EXPECT_TRUE(HasCode(Call(&Stub::GetCandidate, get, &got), Code::NOT_FOUND));
}

TEST_F(ApplicationTest, CreateCandidateValidatesEveryField) {
  struct Case {
    std::string field;
    std::function<void(Candidate&)> spoil;
  };
  const std::vector<Case> cases = {
      {"candidate.given_name", [](Candidate& c) { c.set_given_name(""); }},
      {"candidate.family_name",
       [](Candidate& c) { c.set_family_name(std::string(101, 'x')); }},
      {"candidate.email", [](Candidate& c) { c.set_email("not-an-email"); }},
      {"candidate.phone", [](Candidate& c) { c.set_phone("call me"); }},
      {"candidate.tags[1]",
       [](Candidate& c) {
         c.add_tags("ok");
         c.add_tags("Not OK");
       }},
      {"candidate.tags",
       [](Candidate& c) {
         for (int i = 0; i < 51; ++i) c.add_tags(absl::StrCat("t", i));
       }},
  };
  for (const Case& c : cases) {
    Candidate candidate;
    candidate.set_given_name("Valid");
    c.spoil(candidate);
    Candidate created;
    EXPECT_TRUE(HasViolation(CreateCandidate(candidate, &created), c.field))
        << "case " << c.field;
  }
}

TEST_F(ApplicationTest, EmailIsOptionalButUniqueInTheAccount) {
  NewCandidate("No email 1");
  NewCandidate("No email 2");
  const Candidate ada = NewCandidate("Ada", "Ada@Example.com");
  Candidate duplicate;
  duplicate.set_given_name("Impostor");
  duplicate.set_email("ada@example.COM");
  Candidate created;
  grpc::Status status = CreateCandidate(duplicate, &created);
  EXPECT_TRUE(HasCode(status, Code::ALREADY_EXISTS));
  EXPECT_TRUE(absl::StrContains(status.error_message(), ada.name()))
      << status.error_message();
  // Another account has its own candidate database.
  ats::v1::CreateCandidateRequest request;
  *request.mutable_candidate() = duplicate;
  EXPECT_TRUE(Call(server_.other_admin_key(), &Stub::CreateCandidate, request,
                   &created)
                  .ok());
}

TEST_F(ApplicationTest, CreateCandidateRetryReturnsTheSameCandidate) {
  Candidate candidate;
  candidate.set_given_name("Once");
  Candidate first;
  Candidate second;
  ASSERT_TRUE(CreateCandidate(candidate, &first, "cand-1").ok());
  server_.clock().Advance(absl::Seconds(10));
  ASSERT_TRUE(CreateCandidate(candidate, &second, "cand-1").ok());
  EXPECT_TRUE(MessageDifferencer::Equals(first, second));
}

TEST_F(ApplicationTest, ListCandidatesFiltersAndPagesNewestFirst) {
  std::vector<std::string> newest_first;
  for (int i = 0; i < 5; ++i) {
    Candidate candidate;
    candidate.set_given_name(absl::StrCat("Person", i));
    candidate.set_family_name(i % 2 == 0 ? "Lovelace" : "Turing");
    candidate.set_email(absl::StrCat("p", i, "@example.com"));
    candidate.add_tags(i < 3 ? "java" : "go");
    Candidate created;
    ASSERT_TRUE(CreateCandidate(candidate, &created).ok());
    newest_first.insert(newest_first.begin(), created.name());
    server_.clock().Advance(absl::Seconds(1));
  }
  ats::v1::ListCandidatesRequest request;
  request.set_page_size(2);
  std::vector<std::string> listed;
  do {
    ats::v1::ListCandidatesResponse page;
    ASSERT_TRUE(Call(&Stub::ListCandidates, request, &page).ok());
    for (const Candidate& c : page.candidates()) listed.push_back(c.name());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(listed, newest_first);

  auto count = [&](const ats::v1::ListCandidatesRequest& filter) {
    ats::v1::ListCandidatesResponse response;
    grpc::Status status = Call(&Stub::ListCandidates, filter, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.candidates_size();
  };
  ats::v1::ListCandidatesRequest filter;
  filter.set_tag("java");
  EXPECT_EQ(count(filter), 3);
  filter.set_name_contains("LOVE");
  EXPECT_EQ(count(filter), 2);
  filter.Clear();
  filter.set_email("P4@EXAMPLE.com");
  EXPECT_EQ(count(filter), 1);
  filter.Clear();
  filter.set_tag("Bad Tag");
  ats::v1::ListCandidatesResponse response;
  EXPECT_TRUE(
      HasViolation(Call(&Stub::ListCandidates, filter, &response), "tag"));
}

TEST_F(ApplicationTest, UpdateCandidateChangesMaskedFieldsUnderEtag) {
  const Candidate ada = NewCandidate("Ada", "ada@example.com");
  NewCandidate("Alan", "alan@example.com");
  ats::v1::UpdateCandidateRequest request;
  request.mutable_candidate()->set_name(ada.name());
  request.mutable_candidate()->set_family_name("Lovelace");
  request.mutable_candidate()->add_tags("math");
  request.mutable_candidate()->add_tags("analytical-engine");
  request.mutable_candidate()->set_given_name("ignored");
  request.mutable_update_mask()->add_paths("family_name");
  request.mutable_update_mask()->add_paths("tags");
  request.set_etag(ada.etag());
  Candidate updated;
  ASSERT_TRUE(Call(&Stub::UpdateCandidate, request, &updated).ok());
  EXPECT_EQ(updated.given_name(), "Ada");
  EXPECT_EQ(updated.family_name(), "Lovelace");
  EXPECT_EQ(updated.tags(0), "analytical-engine");
  EXPECT_NE(updated.etag(), ada.etag());
  EXPECT_TRUE(HasCode(Call(&Stub::UpdateCandidate, request, &updated),
                      Code::ABORTED));

  request.clear_etag();
  request.mutable_update_mask()->Clear();
  request.mutable_update_mask()->add_paths("email");
  request.mutable_candidate()->set_email("ALAN@example.com");
  EXPECT_TRUE(HasCode(Call(&Stub::UpdateCandidate, request, &updated),
                      Code::ALREADY_EXISTS));
  request.mutable_update_mask()->set_paths(0, "create_time");
  EXPECT_TRUE(HasViolation(Call(&Stub::UpdateCandidate, request, &updated),
                           "update_mask"));
  request.mutable_update_mask()->set_paths(0, "given_name");
  request.mutable_candidate()->set_given_name("");
  EXPECT_TRUE(HasViolation(Call(&Stub::UpdateCandidate, request, &updated),
                           "candidate.given_name"));
}

TEST_F(ApplicationTest, DeleteCandidateRemovesItsApplications) {
  const Job job = CreateJob("Job");
  const Candidate ada = NewCandidate("Ada");
  const Application application = MustAdd(job, ada);
  ats::v1::DeleteCandidateRequest request;
  request.set_name(ada.name());
  google::protobuf::Empty none;
  ASSERT_TRUE(Call(&Stub::DeleteCandidate, request, &none).ok());
  ats::v1::GetApplicationRequest get;
  get.set_name(application.name());
  Application got;
  EXPECT_TRUE(HasCode(Call(&Stub::GetApplication, get, &got), Code::NOT_FOUND));
  EXPECT_EQ(GetJob(job.name()).stages(0).candidate_count(), 0);
  EXPECT_TRUE(HasCode(Call(&Stub::DeleteCandidate, request, &none),
                      Code::NOT_FOUND));
}

TEST_F(ApplicationTest, AddCandidateToJobEntersTheFirstOrGivenStage) {
  const Job job = CreateJob("Job");
  const Candidate ada = NewCandidate("Ada");
  ats::v1::AddCandidateToJobResponse added;
  ASSERT_TRUE(Add(job.name(), ada.name(), "", &added, "add-ada").ok());
  const Application& application = added.application();
  EXPECT_EQ(application.name(),
            job.name() + "/applications/" + ada.name().substr(11));
  EXPECT_EQ(application.candidate(), ada.name());
  EXPECT_EQ(application.stage(), job.stages(0).name());
  EXPECT_EQ(added.events_size(), 0);
  const Application got = GetApplication(application.name());
  ASSERT_EQ(got.history_size(), 1);
  EXPECT_EQ(got.history(0).from_stage(), "");
  EXPECT_EQ(got.history(0).to_stage(), job.stages(0).name());
  EXPECT_TRUE(absl::StartsWith(got.history(0).moved_by(), "apiKeys/"));
  EXPECT_EQ(GetJob(job.name()).stages(0).candidate_count(), 1);

  // A retry answers the first result; a new request is refused.
  server_.clock().Advance(absl::Minutes(1));
  ats::v1::AddCandidateToJobResponse retried;
  ASSERT_TRUE(Add(job.name(), ada.name(), "", &retried, "add-ada").ok());
  EXPECT_TRUE(MessageDifferencer::Equals(retried, added));
  grpc::Status status = Add(job.name(), ada.name(), "", &retried);
  EXPECT_TRUE(HasCode(status, Code::ALREADY_EXISTS));

  const Candidate alan = NewCandidate("Alan");
  ASSERT_TRUE(Add(job.name(), alan.name(), job.stages(3).name(), &added).ok());
  EXPECT_EQ(added.application().stage(), job.stages(3).name());
  const Job other = CreateJob("Other");
  const Candidate grace = NewCandidate("Grace");
  status = Add(job.name(), grace.name(), other.stages(0).name(), &added);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "another job"));
  EXPECT_TRUE(HasCode(Add(job.name(), "candidates/missing", "", &added),
                      Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Add("jobs/missing", grace.name(), "", &added),
                      Code::NOT_FOUND));
  EXPECT_TRUE(
      HasViolation(Add(job.name(), "people/x", "", &added), "candidate"));
}

TEST_F(ApplicationTest, MoveCandidateRecordsEveryEntryOnce) {
  const Job job = CreateJob("Job");
  const Application application = MustAdd(job, NewCandidate("Ada"));
  std::vector<std::string> expected_stages = {job.stages(0).name()};
  for (int stage : {2, 1, 2, 4, 0}) {
    server_.clock().Advance(absl::Minutes(10));
    ats::v1::MoveCandidateResponse moved;
    ASSERT_TRUE(Move(application.name(), job.stages(stage).name(), &moved).ok());
    EXPECT_TRUE(moved.moved());
    EXPECT_EQ(moved.application().stage(), job.stages(stage).name());
    EXPECT_EQ(moved.application().stage_enter_time().seconds(),
              absl::ToUnixSeconds(server_.clock().Now()));
    expected_stages.push_back(job.stages(stage).name());
  }
  // Moving to the current stage changes nothing.
  ats::v1::MoveCandidateResponse same;
  ASSERT_TRUE(Move(application.name(), job.stages(0).name(), &same).ok());
  EXPECT_FALSE(same.moved());

  const Application got = GetApplication(application.name());
  ASSERT_EQ(got.history_size(), static_cast<int>(expected_stages.size()));
  for (int i = 0; i < got.history_size(); ++i) {
    EXPECT_EQ(got.history(i).to_stage(), expected_stages[i]);
    EXPECT_EQ(got.history(i).from_stage(), i == 0 ? "" : expected_stages[i - 1]);
    if (i > 0) {
      EXPECT_GT(got.history(i).transition_time().seconds(),
                got.history(i - 1).transition_time().seconds());
    }
  }
  EXPECT_EQ(got.stage(), expected_stages.back());
  EXPECT_EQ(got.create_time().seconds(), application.create_time().seconds());
}

TEST_F(ApplicationTest, MoveCandidateRetryReturnsTheFirstResult) {
  const Job job = CreateJob("Job");
  const Application application = MustAdd(job, NewCandidate("Ada"));
  ats::v1::MoveCandidateResponse first;
  ASSERT_TRUE(
      Move(application.name(), job.stages(1).name(), &first, "move-1").ok());
  ats::v1::MoveCandidateResponse other_move;
  ASSERT_TRUE(Move(application.name(), job.stages(2).name(), &other_move).ok());
  server_.clock().Advance(absl::Minutes(1));
  ats::v1::MoveCandidateResponse retried;
  ASSERT_TRUE(
      Move(application.name(), job.stages(1).name(), &retried, "move-1").ok());
  EXPECT_TRUE(MessageDifferencer::Equals(retried, first));
  const Application got = GetApplication(application.name());
  EXPECT_EQ(got.history_size(), 3);
  EXPECT_EQ(got.stage(), job.stages(2).name());
  EXPECT_TRUE(HasCode(
      Move(application.name(), job.stages(3).name(), &retried, "move-1"),
      Code::INVALID_ARGUMENT));
}

TEST_F(ApplicationTest, MoveCandidateErrors) {
  const Job job = CreateJob("Job");
  const Job other = CreateJob("Other");
  const Candidate ada = NewCandidate("Ada");
  const Application application = MustAdd(job, ada);
  ats::v1::MoveCandidateResponse moved;
  grpc::Status status =
      Move(application.name(), other.stages(1).name(), &moved);
  EXPECT_TRUE(HasCode(status, Code::FAILED_PRECONDITION));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "another job"));
  const std::string not_in_other =
      other.name() + "/applications/" + ada.name().substr(11);
  EXPECT_TRUE(HasCode(Move(not_in_other, other.stages(1).name(), &moved),
                      Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Move(application.name(), job.stages(1).name() + "x",
                           &moved),
                      Code::NOT_FOUND));
  EXPECT_TRUE(
      HasViolation(Move(application.name(), "stages/x", &moved), "stage"));
  EXPECT_TRUE(
      HasViolation(Move("candidates/x", job.stages(1).name(), &moved), "name"));
  EXPECT_EQ(GetApplication(application.name()).history_size(), 1);
}

TEST_F(ApplicationTest, ConcurrentMovesLeaveAConsistentHistory) {
  const Job job = CreateJob("Job");
  std::vector<Application> applications;
  for (int i = 0; i < 3; ++i) {
    applications.push_back(MustAdd(job, NewCandidate(absl::StrCat("C", i))));
  }
  absl::Mutex mu;
  // Per application: the stages of the calls that answered moved=true.
  std::map<std::string, std::vector<std::string>> moved_to;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(t);
      for (int i = 0; i < 15; ++i) {
        const Application& application = applications[random() % 3];
        const std::string stage = job.stages(random() % 5).name();
        ats::v1::MoveCandidateResponse response;
        grpc::Status status = Move(application.name(), stage, &response);
        EXPECT_TRUE(status.ok()) << status.error_message();
        if (status.ok() && response.moved()) {
          absl::MutexLock lock(&mu);
          moved_to[application.name()].push_back(stage);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  for (const Application& application : applications) {
    const Application got = GetApplication(application.name());
    std::vector<std::string> entered;
    for (int i = 1; i < got.history_size(); ++i) {
      EXPECT_EQ(got.history(i).from_stage(), got.history(i - 1).to_stage());
      EXPECT_NE(got.history(i).from_stage(), got.history(i).to_stage());
      entered.push_back(got.history(i).to_stage());
    }
    EXPECT_EQ(got.stage(), got.history(got.history_size() - 1).to_stage());
    std::vector<std::string> expected = moved_to[application.name()];
    std::sort(expected.begin(), expected.end());
    std::sort(entered.begin(), entered.end());
    EXPECT_EQ(entered, expected);
  }
}

TEST_F(ApplicationTest, BatchMoveCandidatesIsAtomic) {
  const Job job = CreateJob("Job");
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    names.push_back(MustAdd(job, NewCandidate(absl::StrCat("C", i))).candidate());
  }
  ats::v1::MoveCandidateResponse moved;
  ASSERT_TRUE(Move(job.name() + "/applications/" + names[1].substr(11),
                   job.stages(2).name(), &moved)
                  .ok());

  // One candidate not in the job: nothing moves.
  const Candidate outsider = NewCandidate("Outsider");
  ats::v1::BatchMoveCandidatesResponse response;
  grpc::Status status =
      BatchMove(job, {names[0], outsider.name(), names[2]},
                job.stages(2).name(), &response);
  EXPECT_TRUE(HasCode(status, Code::NOT_FOUND));
  EXPECT_TRUE(absl::StrContains(status.error_message(), outsider.name()));
  EXPECT_EQ(GetJob(job.name()).stages(2).candidate_count(), 1);

  ASSERT_TRUE(BatchMove(job, {names[3], names[1], names[0]},
                        job.stages(2).name(), &response, "batch-1")
                  .ok());
  ASSERT_EQ(response.applications_size(), 3);
  EXPECT_EQ(response.applications(0).candidate(), names[3]);
  EXPECT_EQ(response.applications(1).candidate(), names[1]);
  EXPECT_EQ(response.applications(2).candidate(), names[0]);
  for (const Application& application : response.applications()) {
    EXPECT_EQ(application.stage(), job.stages(2).name());
  }
  const Job after = GetJob(job.name());
  EXPECT_EQ(after.stages(0).candidate_count(), 1);
  EXPECT_EQ(after.stages(2).candidate_count(), 3);
  // Already there before the batch: no new entry.
  EXPECT_EQ(GetApplication(response.applications(1).name()).history_size(), 2);
  ats::v1::BatchMoveCandidatesResponse retried;
  ASSERT_TRUE(BatchMove(job, {names[3], names[1], names[0]},
                        job.stages(2).name(), &retried, "batch-1")
                  .ok());
  EXPECT_TRUE(MessageDifferencer::Equals(retried, response));
  EXPECT_EQ(GetApplication(response.applications(0).name()).history_size(), 2);

  EXPECT_TRUE(HasViolation(BatchMove(job, {}, job.stages(1).name(), &response),
                           "candidates"));
  EXPECT_TRUE(HasViolation(BatchMove(job, {names[0], names[1], names[0]},
                                     job.stages(1).name(), &response),
                           "candidates[2]"));
  std::vector<std::string> too_many(1001, names[0]);
  status = BatchMove(job, too_many, job.stages(1).name(), &response);
  EXPECT_TRUE(HasViolation(status, "candidates"));
  EXPECT_TRUE(absl::StrContains(status.error_message(), "1000"));
  const Job other = CreateJob("Other");
  EXPECT_TRUE(HasCode(
      BatchMove(job, {names[0]}, other.stages(1).name(), &response),
      Code::FAILED_PRECONDITION));
}

TEST_F(ApplicationTest, ListApplicationsByStagePositionThenEntryTime) {
  const Job job = CreateJob("Job");
  std::vector<std::string> candidates;
  for (int i = 0; i < 5; ++i) {
    candidates.push_back(
        MustAdd(job, NewCandidate(absl::StrCat("C", i)), job.stages(i % 2 == 0 ? 1 : 0).name())
            .candidate());
    server_.clock().Advance(absl::Seconds(1));
  }
  // Stage 0 holds C1, C3; stage 1 holds C0, C2, C4.
  const std::vector<std::string> expected = {candidates[1], candidates[3],
                                             candidates[0], candidates[2],
                                             candidates[4]};
  ats::v1::ListApplicationsRequest request;
  request.set_parent(job.name());
  request.set_page_size(2);
  std::vector<std::string> listed;
  do {
    ats::v1::ListApplicationsResponse page;
    grpc::Status status = Call(&Stub::ListApplications, request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    for (const Application& a : page.applications()) {
      listed.push_back(a.candidate());
      EXPECT_EQ(a.history_size(), 0);
    }
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(listed, expected);

  request.set_page_size(0);
  request.set_stage(job.stages(0).name());
  ats::v1::ListApplicationsResponse response;
  ASSERT_TRUE(Call(&Stub::ListApplications, request, &response).ok());
  ASSERT_EQ(response.applications_size(), 2);
  EXPECT_EQ(response.applications(0).candidate(), candidates[1]);
  const Job other = CreateJob("Other");
  request.set_stage(other.stages(0).name());
  EXPECT_TRUE(
      HasViolation(Call(&Stub::ListApplications, request, &response), "stage"));
  request.set_stage(job.stages(0).name() + "x");
  EXPECT_TRUE(HasCode(Call(&Stub::ListApplications, request, &response),
                      Code::NOT_FOUND));
}

TEST_F(ApplicationTest, DeleteApplicationRemovesTheCandidateFromTheJob) {
  const Job job = CreateJob("Job");
  const Candidate ada = NewCandidate("Ada");
  const Application application = MustAdd(job, ada);
  ats::v1::DeleteApplicationRequest request;
  request.set_name(application.name());
  google::protobuf::Empty none;
  ASSERT_TRUE(Call(&Stub::DeleteApplication, request, &none).ok());
  EXPECT_TRUE(HasCode(Call(&Stub::DeleteApplication, request, &none),
                      Code::NOT_FOUND));
  EXPECT_EQ(GetJob(job.name()).stages(0).candidate_count(), 0);
  // The candidate stays in the database and may be added again.
  const Application again = MustAdd(job, ada);
  EXPECT_EQ(GetApplication(again.name()).history_size(), 1);
}

TEST_F(ApplicationTest, RolesAndTenants) {
  const Job job = CreateJob("Job");
  const Candidate ada = NewCandidate("Ada");
  const Application application = MustAdd(job, ada);
  ats::v1::GetCandidateRequest get;
  get.set_name(ada.name());
  Candidate candidate;
  EXPECT_TRUE(HasCode(Call("", &Stub::GetCandidate, get, &candidate),
                      Code::UNAUTHENTICATED));
  EXPECT_TRUE(HasCode(
      Call(server_.operator_key(), &Stub::GetCandidate, get, &candidate),
      Code::PERMISSION_DENIED));
  EXPECT_TRUE(
      Call(server_.admin_key(), &Stub::GetCandidate, get, &candidate).ok());

  const std::string other = server_.other_admin_key();
  EXPECT_TRUE(HasCode(Call(other, &Stub::GetCandidate, get, &candidate),
                      Code::NOT_FOUND));
  ats::v1::UpdateCandidateRequest update;
  update.mutable_candidate()->set_name(ada.name());
  update.mutable_candidate()->set_given_name("Mallory");
  update.mutable_update_mask()->add_paths("given_name");
  EXPECT_TRUE(HasCode(Call(other, &Stub::UpdateCandidate, update, &candidate),
                      Code::NOT_FOUND));
  ats::v1::DeleteCandidateRequest remove;
  remove.set_name(ada.name());
  google::protobuf::Empty none;
  EXPECT_TRUE(HasCode(Call(other, &Stub::DeleteCandidate, remove, &none),
                      Code::NOT_FOUND));
  ats::v1::MoveCandidateRequest move;
  move.set_name(application.name());
  move.set_stage(job.stages(1).name());
  ats::v1::MoveCandidateResponse moved;
  EXPECT_TRUE(HasCode(Call(other, &Stub::MoveCandidate, move, &moved),
                      Code::NOT_FOUND));
  EXPECT_TRUE(HasCode(Call(server_.operator_key(), &Stub::MoveCandidate, move,
                           &moved),
                      Code::PERMISSION_DENIED));
  ats::v1::GetApplicationRequest get_application;
  get_application.set_name(application.name());
  Application got;
  EXPECT_TRUE(HasCode(
      Call(other, &Stub::GetApplication, get_application, &got),
      Code::NOT_FOUND));
  ats::v1::AddCandidateToJobRequest add;
  add.set_job(job.name());
  add.set_candidate(ada.name());
  ats::v1::AddCandidateToJobResponse added;
  EXPECT_TRUE(HasCode(Call(other, &Stub::AddCandidateToJob, add, &added),
                      Code::NOT_FOUND));
  // Nothing changed.
  EXPECT_EQ(GetApplication(application.name()).history_size(), 1);
  ASSERT_TRUE(Call(&Stub::GetCandidate, get, &candidate).ok());
  EXPECT_EQ(candidate.given_name(), "Ada");
}

}  // namespace
}  // namespace ats::testing
