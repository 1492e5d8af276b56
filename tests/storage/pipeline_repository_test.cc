// Tests of the hiring pipeline repositories (templates, jobs, candidates,
// applications) on a real SQLite store, through storage::Store.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "storage/sql/session.h"
#include "storage/store.h"
#include "tests/support/backends.h"
#include "tests/support/temp_dir.h"

namespace ats::storage {
namespace {

using ::ats::testing::Backend;
using ::ats::testing::TempDir;
using ::ats::testing::TestDatabase;

#define ASSERT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    ASSERT_TRUE(status_.ok()) << status_; \
  } while (false)
#define EXPECT_OK(expr)                   \
  do {                                    \
    const absl::Status status_ = (expr);  \
    EXPECT_TRUE(status_.ok()) << status_; \
  } while (false)

constexpr char kAccountA[] = "acct-a";
constexpr char kAccountB[] = "acct-b";

absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

// The status of a Status or a StatusOr.
absl::Status StatusOf(const absl::Status& status) { return status; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& value) {
  return value.status();
}

#define EXPECT_CODE(expr, expected)                                   \
  do {                                                                \
    const absl::Status status_ = StatusOf(expr);                      \
    EXPECT_EQ(status_.code(), absl::StatusCode::expected) << status_; \
  } while (false)

class PipelineRepositoryTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    auto database = TestDatabase::Create(GetParam(), dir_.path());
    ASSERT_TRUE(database.ok()) << database.status();
    database_ = *std::move(database);
    absl::StatusOr<std::unique_ptr<Store>> store = database_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_OK(Write([](Transaction& t) {
      absl::Status status = t.accounts().InsertAccount(
          {kAccountA, "Account A", At(1), "", {}, ""});
      if (!status.ok()) return status;
      return t.accounts().InsertAccount(
          {kAccountB, "Account B", At(2), "", {}, ""});
    }));
  }

  absl::Status Write(Store::WorkFn work) {
    return store_->WriteAndWait(std::move(work));
  }

  // Runs `fn` (Transaction& → Status or StatusOr) on a read snapshot and
  // returns what it returned.
  template <typename Fn>
  auto Read(Fn fn) -> decltype(fn(std::declval<Transaction&>())) {
    using Result = decltype(fn(std::declval<Transaction&>()));
    Result result = absl::UnknownError("not run");
    absl::Status status = store_->Read([&](Transaction& t) {
      result = fn(t);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return result;
  }

  // Stores bytes that do not decode as `update_sql`'s ?1 for the row whose
  // id is ?2, behind the repositories' back (they only store what they
  // serialized themselves).
  void StoreCorruptBlob(const char* update_sql, const std::string& id) {
    ASSERT_OK(database_->WithSession([&](sql::Session& db) {
      return db.Prepare(update_sql).BindBlob(1, "\x0a\x05").Bind(2, id).Run();
    }));
  }
  // Returns what the count query `sql` counts, behind the repositories'
  // back (rows the interfaces do not show).
  int64_t CountRows(const char* sql) {
    int64_t count = -1;
    EXPECT_OK(database_->WithSession([&](sql::Session& db) {
      sql::Statement& stmt = db.Prepare(sql);
      absl::StatusOr<bool> row = stmt.Step();
      if (!row.ok()) return row.status();
      if (*row) count = stmt.ColumnInt64(0);
      return stmt.Step().status();
    }));
    return count;
  }

  std::optional<TestDatabase> database_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// Follows every page of a list, returning ids (via `id_of`) in list order.
template <typename ListFn, typename IdOf>
std::vector<std::string> AllPages(ListFn list, IdOf id_of, int limit,
                                  int* pages = nullptr) {
  std::vector<std::string> ids;
  PageRequest request;
  request.limit = limit;
  for (int page_count = 1; page_count < 100; ++page_count) {
    auto page = list(request);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(static_cast<int>(page->rows.size()), limit);
    for (const auto& row : page->rows) ids.push_back(id_of(row));
    if (page->next.empty()) {
      if (pages != nullptr) *pages = page_count;
      break;
    }
    request.after = page->next;
  }
  return ids;
}

// ---------------------------------------------------------------- templates

ats::v1::JobTemplate TwoStagePipeline() {
  ats::v1::JobTemplate pipeline;
  ats::v1::Stage* inbox = pipeline.add_stages();
  inbox->set_name("jobTemplates/t1/stages/s1");
  inbox->set_display_name("Inbox");
  ats::v1::Trigger* trigger = inbox->add_triggers();
  trigger->set_name("jobTemplates/t1/stages/s1/triggers/tr1");
  trigger->mutable_delay()->set_seconds(3600);
  trigger->mutable_add_tag()->set_tag("new");
  ats::v1::Stage* hired = pipeline.add_stages();
  hired->set_name("jobTemplates/t1/stages/s2");
  hired->set_display_name("Hired");
  return pipeline;
}

TemplateRow MakeTemplate(const std::string& account, const std::string& id,
                         const std::string& name, bool is_default = false) {
  TemplateRow row;
  row.account_id = account;
  row.id = id;
  row.display_name = name;
  row.description = "Template " + name;
  row.pipeline = TwoStagePipeline();
  row.is_default = is_default;
  row.create_time = At(100);
  row.update_time = At(100);
  return row;
}

TEST_P(PipelineRepositoryTest, TemplateRoundTrip) {
  TemplateRow row = MakeTemplate(kAccountA, "t1", "Engineering", true);
  ASSERT_OK(
      Write([&](Transaction& t) { return t.templates().InsertTemplate(row); }));
  absl::StatusOr<TemplateRow> got = Read([](Transaction& t) {
    return t.templates().GetTemplate(kAccountA, "t1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->account_id, kAccountA);
  EXPECT_EQ(got->display_name, "Engineering");
  EXPECT_EQ(got->description, "Template Engineering");
  EXPECT_EQ(got->pipeline.SerializeAsString(),
            row.pipeline.SerializeAsString());
  EXPECT_TRUE(got->is_default);
  EXPECT_EQ(got->create_time, At(100));
  EXPECT_EQ(got->revision, 1);

  row.display_name = "Engineering (2025)";
  row.pipeline.mutable_stages()->RemoveLast();
  row.pipeline.set_description("ignored: only stages are stored");
  row.update_time = At(200);
  row.revision = 2;
  row.is_default = false;  // Not written by UpdateTemplate.
  ASSERT_OK(
      Write([&](Transaction& t) { return t.templates().UpdateTemplate(row); }));
  got = Read([](Transaction& t) {
    return t.templates().GetTemplate(kAccountA, "t1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->display_name, "Engineering (2025)");
  ASSERT_EQ(got->pipeline.stages_size(), 1);
  EXPECT_EQ(got->pipeline.stages(0).triggers(0).add_tag().tag(), "new");
  EXPECT_EQ(got->pipeline.description(), "");
  EXPECT_TRUE(got->is_default);
  EXPECT_EQ(got->update_time, At(200));
  EXPECT_EQ(got->revision, 2);

  ASSERT_OK(Write([](Transaction& t) {
    return t.templates().DeleteTemplate(kAccountA, "t1");
  }));
  EXPECT_CODE(Read([](Transaction& t) {
                return t.templates().GetTemplate(kAccountA, "t1");
              }),
              kNotFound);
}

TEST_P(PipelineRepositoryTest, TemplatesAreScopedByAccount) {
  ASSERT_OK(Write([](Transaction& t) {
    return t.templates().InsertTemplate(
        MakeTemplate(kAccountA, "t1", "Engineering", true));
  }));
  absl::StatusOr<TemplateRow> missing = Read([](Transaction& t) {
    return t.templates().GetTemplate(kAccountB, "t1");
  });
  EXPECT_CODE(missing, kNotFound);
  EXPECT_EQ(missing.status().message(), "job template t1 not found");
  EXPECT_CODE(Read([](Transaction& t) {
                return t.templates().GetTemplate(kAccountA, "nope");
              }),
              kNotFound);
  EXPECT_CODE(Read([](Transaction& t) {
                return t.templates().GetDefaultTemplate(kAccountB);
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.templates().UpdateTemplate(
                    MakeTemplate(kAccountB, "t1", "Stolen"));
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.templates().SetDefaultTemplate(kAccountB, "t1", At(5));
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.templates().DeleteTemplate(kAccountB, "t1");
              }),
              kNotFound);
  auto page = Read([](Transaction& t) {
    return t.templates().ListTemplates(kAccountB, PageRequest());
  });
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->rows.empty());
  EXPECT_TRUE(page->next.empty());
  // A's template is untouched.
  auto got = Read([](Transaction& t) {
    return t.templates().GetTemplate(kAccountA, "t1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->display_name, "Engineering");
  EXPECT_TRUE(got->is_default);
}

TEST_P(PipelineRepositoryTest, TemplateNamesAreUniquePerAccountIgnoringCase) {
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status = t.templates().InsertTemplate(
        MakeTemplate(kAccountA, "t1", "Engineering"));
    if (!status.ok()) return status;
    return t.templates().InsertTemplate(MakeTemplate(kAccountA, "t2", "Sales"));
  }));
  absl::Status clash = Write([](Transaction& t) {
    return t.templates().InsertTemplate(
        MakeTemplate(kAccountA, "t3", "ENGINEERING"));
  });
  EXPECT_CODE(clash, kAlreadyExists);
  EXPECT_NE(clash.message().find("\"ENGINEERING\""), std::string::npos)
      << clash;
  // Renaming onto another template's name clashes too.
  clash = Write([](Transaction& t) {
    return t.templates().UpdateTemplate(
        MakeTemplate(kAccountA, "t2", "engineering"));
  });
  EXPECT_CODE(clash, kAlreadyExists);
  EXPECT_NE(clash.message().find("\"engineering\""), std::string::npos)
      << clash;
  // Keeping one's own name, or using it in another account, is fine.
  EXPECT_OK(Write([](Transaction& t) {
    return t.templates().UpdateTemplate(
        MakeTemplate(kAccountA, "t1", "engineering"));
  }));
  EXPECT_OK(Write([](Transaction& t) {
    return t.templates().InsertTemplate(
        MakeTemplate(kAccountB, "t4", "Engineering"));
  }));
  // A taken id is reported as such.
  clash = Write([](Transaction& t) {
    return t.templates().InsertTemplate(MakeTemplate(kAccountA, "t2", "Other"));
  });
  EXPECT_CODE(clash, kAlreadyExists);
  EXPECT_EQ(clash.message(), "job template t2 already exists");
}

TEST_P(PipelineRepositoryTest, OneDefaultTemplateAtATime) {
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status = t.templates().InsertTemplate(
        MakeTemplate(kAccountA, "t1", "First", true));
    if (!status.ok()) return status;
    return t.templates().InsertTemplate(
        MakeTemplate(kAccountA, "t2", "Second"));
  }));
  absl::Status second_default = Write([](Transaction& t) {
    return t.templates().InsertTemplate(
        MakeTemplate(kAccountA, "t3", "Third", true));
  });
  EXPECT_CODE(second_default, kAlreadyExists);
  EXPECT_NE(second_default.message().find("default"), std::string::npos)
      << second_default;
  // Another account has its own default.
  EXPECT_OK(Write([](Transaction& t) {
    return t.templates().InsertTemplate(
        MakeTemplate(kAccountB, "t4", "First", true));
  }));

  ASSERT_OK(Write([](Transaction& t) {
    return t.templates().SetDefaultTemplate(kAccountA, "t2", At(300));
  }));
  auto first = Read([](Transaction& t) {
    return t.templates().GetTemplate(kAccountA, "t1");
  });
  auto second = Read([](Transaction& t) {
    return t.templates().GetDefaultTemplate(kAccountA);
  });
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_FALSE(first->is_default);
  EXPECT_EQ(first->revision, 2);
  EXPECT_EQ(first->update_time, At(300));
  EXPECT_EQ(second->id, "t2");
  EXPECT_TRUE(second->is_default);
  EXPECT_EQ(second->revision, 2);

  // Setting the current default again changes nothing.
  ASSERT_OK(Write([](Transaction& t) {
    return t.templates().SetDefaultTemplate(kAccountA, "t2", At(400));
  }));
  second = Read([](Transaction& t) {
    return t.templates().GetDefaultTemplate(kAccountA);
  });
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->revision, 2);

  // A missing template leaves the default where it was.
  EXPECT_CODE(Write([](Transaction& t) {
                return t.templates().SetDefaultTemplate(kAccountA, "t9", At(5));
              }),
              kNotFound);
  second = Read([](Transaction& t) {
    return t.templates().GetDefaultTemplate(kAccountA);
  });
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->id, "t2");
  auto other = Read([](Transaction& t) {
    return t.templates().GetDefaultTemplate(kAccountB);
  });
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->id, "t4");
}

TEST_P(PipelineRepositoryTest, TemplatesListByNameAcrossPages) {
  ASSERT_OK(Write([](Transaction& t) {
    for (const auto& [id, name] :
         std::vector<std::pair<std::string, std::string>>{{"t1", "delta"},
                                                          {"t2", "Alpha"},
                                                          {"t3", "charlie"},
                                                          {"t4", "Echo"},
                                                          {"t5", "bravo"}}) {
      absl::Status status =
          t.templates().InsertTemplate(MakeTemplate(kAccountA, id, name));
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }));
  int pages = 0;
  std::vector<std::string> ids = AllPages(
      [&](const PageRequest& page) {
        return Read([&](Transaction& t) {
          return t.templates().ListTemplates(kAccountA, page);
        });
      },
      [](const TemplateRow& row) { return row.id; }, 2, &pages);
  EXPECT_EQ(ids, (std::vector<std::string>{"t2", "t5", "t3", "t1", "t4"}));
  EXPECT_EQ(pages, 3);

  PageRequest bad;
  bad.after = {"only-one-part"};
  EXPECT_CODE(Read([&](Transaction& t) {
                return t.templates().ListTemplates(kAccountA, bad);
              }),
              kInvalidArgument);
}

TEST_P(PipelineRepositoryTest, CorruptTemplateStagesAreDataLoss) {
  ASSERT_OK(Write([](Transaction& t) {
    return t.templates().InsertTemplate(MakeTemplate(kAccountA, "t1", "A"));
  }));
  StoreCorruptBlob("UPDATE job_templates SET stages = ?1 WHERE id = ?2", "t1");
  EXPECT_CODE(Read([](Transaction& t) {
                return t.templates().GetTemplate(kAccountA, "t1");
              }),
              kDataLoss);
  EXPECT_CODE(Read([](Transaction& t) {
                return t.templates().ListTemplates(kAccountA, PageRequest());
              }),
              kDataLoss);
}

// --------------------------------------------------------------------- jobs

JobRow MakeJob(const std::string& account, const std::string& id,
               const std::string& title, absl::Time created,
               ats::v1::JobState state = ats::v1::JOB_STATE_OPEN) {
  JobRow job;
  job.account_id = account;
  job.id = id;
  job.title = title;
  job.description = "About " + title;
  job.state = state;
  job.template_id = "t1";
  job.create_time = created;
  job.update_time = created;
  return job;
}

StageRow MakeStage(const std::string& account, const std::string& job,
                   const std::string& id, int position) {
  StageRow stage;
  stage.account_id = account;
  stage.id = id;
  stage.job_id = job;
  stage.display_name = "Stage " + id;
  stage.position = position;
  stage.create_time = At(10);
  return stage;
}

TriggerRow MakeTagTrigger(const std::string& account, const std::string& stage,
                          const std::string& id, int position) {
  TriggerRow trigger;
  trigger.account_id = account;
  trigger.id = id;
  trigger.stage_id = stage;
  trigger.position = position;
  trigger.spec.mutable_add_tag()->set_tag("tag-" + id);
  trigger.create_time = At(20);
  return trigger;
}

TEST_P(PipelineRepositoryTest, JobRoundTrip) {
  JobRow job = MakeJob(kAccountA, "j1", "Backend engineer", At(1000),
                       ats::v1::JOB_STATE_DRAFT);
  job.template_id = "";
  ASSERT_OK(Write([&](Transaction& t) { return t.jobs().InsertJob(job); }));
  auto got =
      Read([](Transaction& t) { return t.jobs().GetJob(kAccountA, "j1"); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->title, "Backend engineer");
  EXPECT_EQ(got->description, "About Backend engineer");
  EXPECT_EQ(got->state, ats::v1::JOB_STATE_DRAFT);
  EXPECT_EQ(got->template_id, "");
  EXPECT_EQ(got->create_time, At(1000));
  EXPECT_EQ(got->revision, 1);

  job.title = "Senior backend engineer";
  job.state = ats::v1::JOB_STATE_OPEN;
  job.update_time = At(2000);
  job.revision = 2;
  ASSERT_OK(Write([&](Transaction& t) { return t.jobs().UpdateJob(job); }));
  got = Read([](Transaction& t) { return t.jobs().GetJob(kAccountA, "j1"); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->title, "Senior backend engineer");
  EXPECT_EQ(got->state, ats::v1::JOB_STATE_OPEN);
  EXPECT_EQ(got->update_time, At(2000));
  EXPECT_EQ(got->revision, 2);

  EXPECT_CODE(Write([&](Transaction& t) { return t.jobs().InsertJob(job); }),
              kAlreadyExists);

  // Another account sees nothing and changes nothing.
  absl::StatusOr<JobRow> other =
      Read([](Transaction& t) { return t.jobs().GetJob(kAccountB, "j1"); });
  EXPECT_CODE(other, kNotFound);
  EXPECT_EQ(other.status().message(), "job j1 not found");
  JobRow stolen = job;
  stolen.account_id = kAccountB;
  EXPECT_CODE(Write([&](Transaction& t) { return t.jobs().UpdateJob(stolen); }),
              kNotFound);
  EXPECT_CODE(
      Write([](Transaction& t) { return t.jobs().DeleteJob(kAccountB, "j1"); }),
      kNotFound);
  auto listed = Read([](Transaction& t) {
    return t.jobs().ListJobs(kAccountB, JobFilter(), PageRequest());
  });
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->rows.empty());

  ASSERT_OK(Write(
      [](Transaction& t) { return t.jobs().DeleteJob(kAccountA, "j1"); }));
  EXPECT_CODE(
      Read([](Transaction& t) { return t.jobs().GetJob(kAccountA, "j1"); }),
      kNotFound);
  EXPECT_CODE(
      Write([](Transaction& t) { return t.jobs().DeleteJob(kAccountA, "j1"); }),
      kNotFound);
}

TEST_P(PipelineRepositoryTest, JobsListNewestFirstWithTiesByIdDescending) {
  ASSERT_OK(Write([](Transaction& t) {
    // j2, j3, j5 share a timestamp: they come by id, descending.
    for (const JobRow& job :
         {MakeJob(kAccountA, "j1", "One", At(100)),
          MakeJob(kAccountA, "j3", "Three", At(200)),
          MakeJob(kAccountA, "j2", "Two", At(200)),
          MakeJob(kAccountA, "j5", "Five", At(200)),
          MakeJob(kAccountA, "j4", "Four", At(300)),
          MakeJob(kAccountB, "j6", "Other account", At(250))}) {
      absl::Status status = t.jobs().InsertJob(job);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }));
  const std::vector<std::string> expected = {"j4", "j5", "j3", "j2", "j1"};
  for (int limit : {1, 2, 3, 5, 50}) {
    std::vector<std::string> ids = AllPages(
        [&](const PageRequest& page) {
          return Read([&](Transaction& t) {
            return t.jobs().ListJobs(kAccountA, JobFilter(), page);
          });
        },
        [](const JobRow& row) { return row.id; }, limit);
    EXPECT_EQ(ids, expected) << "limit " << limit;
  }
}

TEST_P(PipelineRepositoryTest, JobFiltersMatchStateAndLiteralTitleText) {
  ASSERT_OK(Write([](Transaction& t) {
    for (const JobRow& job :
         {MakeJob(kAccountA, "j1", "Growth 100% remote", At(1)),
          MakeJob(kAccountA, "j2", "Growth 1000 remote", At(2)),
          MakeJob(kAccountA, "j3", "snake_case dev", At(3),
                  ats::v1::JOB_STATE_CLOSED),
          MakeJob(kAccountA, "j4", "snakeXcase dev", At(4)),
          MakeJob(kAccountB, "j5", "GROWTH 100% remote", At(5))}) {
      absl::Status status = t.jobs().InsertJob(job);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }));
  auto ids = [&](const JobFilter& filter) {
    return AllPages(
        [&](const PageRequest& page) {
          return Read([&](Transaction& t) {
            return t.jobs().ListJobs(kAccountA, filter, page);
          });
        },
        [](const JobRow& row) { return row.id; }, 10);
  };
  JobFilter filter;
  filter.title_contains = "100%";
  EXPECT_EQ(ids(filter), std::vector<std::string>{"j1"});
  filter.title_contains = "e_c";
  EXPECT_EQ(ids(filter), std::vector<std::string>{"j3"});
  filter.title_contains = "%";
  EXPECT_EQ(ids(filter), std::vector<std::string>{"j1"});
  filter.title_contains = "gROWth";
  EXPECT_EQ(ids(filter), (std::vector<std::string>{"j2", "j1"}));
  filter.title_contains = "DEV";
  filter.state = ats::v1::JOB_STATE_OPEN;
  EXPECT_EQ(ids(filter), std::vector<std::string>{"j4"});
  filter.title_contains = "";
  filter.state = ats::v1::JOB_STATE_CLOSED;
  EXPECT_EQ(ids(filter), std::vector<std::string>{"j3"});
}

TEST_P(PipelineRepositoryTest, StagesRoundTripInPositionOrder) {
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status =
        t.jobs().InsertJob(MakeJob(kAccountA, "j1", "A", At(1)));
    if (status.ok())
      status = t.jobs().InsertJob(MakeJob(kAccountB, "j2", "B", At(1)));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s1", 1));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s2", 0));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s3", 2));
    return status;
  }));
  auto stages =
      Read([](Transaction& t) { return t.jobs().ListStages(kAccountA, "j1"); });
  ASSERT_TRUE(stages.ok()) << stages.status();
  ASSERT_EQ(stages->size(), 3u);
  EXPECT_EQ((*stages)[0].id, "s2");
  EXPECT_EQ((*stages)[1].id, "s1");
  EXPECT_EQ((*stages)[2].id, "s3");
  EXPECT_EQ((*stages)[1].display_name, "Stage s1");
  EXPECT_EQ((*stages)[1].job_id, "j1");
  EXPECT_EQ((*stages)[1].create_time, At(10));

  StageRow renamed = MakeStage(kAccountA, "j1", "s1", 5);
  renamed.display_name = "Phone screen";
  ASSERT_OK(
      Write([&](Transaction& t) { return t.jobs().UpdateStage(renamed); }));
  auto got =
      Read([](Transaction& t) { return t.jobs().GetStage(kAccountA, "s1"); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->display_name, "Phone screen");
  EXPECT_EQ(got->position, 5);

  // Another account can neither see, change, delete nor add to them.
  absl::StatusOr<StageRow> other =
      Read([](Transaction& t) { return t.jobs().GetStage(kAccountB, "s1"); });
  EXPECT_CODE(other, kNotFound);
  EXPECT_EQ(other.status().message(), "stage s1 not found");
  renamed.account_id = kAccountB;
  EXPECT_CODE(
      Write([&](Transaction& t) { return t.jobs().UpdateStage(renamed); }),
      kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.jobs().DeleteStage(kAccountB, "s1");
              }),
              kNotFound);
  absl::Status foreign_job = Write([](Transaction& t) {
    return t.jobs().InsertStage(MakeStage(kAccountB, "j1", "s9", 0));
  });
  EXPECT_CODE(foreign_job, kNotFound);
  EXPECT_EQ(foreign_job.message(), "job j1 not found");
  auto listed =
      Read([](Transaction& t) { return t.jobs().ListStages(kAccountB, "j1"); });
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  ASSERT_OK(Write(
      [](Transaction& t) { return t.jobs().DeleteStage(kAccountA, "s3"); }));
  EXPECT_CODE(
      Read([](Transaction& t) { return t.jobs().GetStage(kAccountA, "s3"); }),
      kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.jobs().DeleteStage(kAccountA, "s3");
              }),
              kNotFound);
}

TEST_P(PipelineRepositoryTest, TriggersRoundTripWithSpecs) {
  ASSERT_OK(Write([](Transaction& t) {
    PartnerRow partner;
    partner.id = "p1";
    partner.listing.set_display_name("TestCo");
    partner.create_time = partner.update_time = At(1);
    absl::Status status = t.integrations().InsertPartner(partner);
    IntegrationRow integration;
    integration.account_id = kAccountA;
    integration.id = "i1";
    integration.partner_id = "p1";
    integration.display_name = "TestCo";
    integration.signing_secret = "secret";
    integration.create_time = integration.update_time = At(1);
    if (status.ok()) status = t.integrations().InsertIntegration(integration);
    if (status.ok())
      status = t.jobs().InsertJob(MakeJob(kAccountA, "j1", "A", At(1)));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s1", 1));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s2", 0));
    return status;
  }));
  TriggerRow test = MakeTagTrigger(kAccountA, "s1", "tr1", 1);
  test.integration_id = "i1";
  test.spec.mutable_delay()->set_seconds(90);
  auto* action = test.spec.mutable_integration_event();
  action->set_integration("integrations/i1");
  (*action->mutable_option_values())["test_package"] = "java-senior";
  ASSERT_OK(Write([&](Transaction& t) {
    absl::Status status = t.jobs().InsertTrigger(test);
    if (status.ok())
      status =
          t.jobs().InsertTrigger(MakeTagTrigger(kAccountA, "s1", "tr2", 0));
    if (status.ok())
      status =
          t.jobs().InsertTrigger(MakeTagTrigger(kAccountA, "s2", "tr3", 0));
    return status;
  }));

  auto got = Read(
      [](Transaction& t) { return t.jobs().GetTrigger(kAccountA, "tr1"); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->stage_id, "s1");
  EXPECT_EQ(got->position, 1);
  EXPECT_EQ(got->integration_id, "i1");
  EXPECT_EQ(got->spec.delay().seconds(), 90);
  EXPECT_EQ(got->spec.integration_event().option_values().at("test_package"),
            "java-senior");
  EXPECT_EQ(got->create_time, At(20));

  auto in_stage = Read(
      [](Transaction& t) { return t.jobs().ListTriggers(kAccountA, "s1"); });
  ASSERT_TRUE(in_stage.ok()) << in_stage.status();
  ASSERT_EQ(in_stage->size(), 2u);
  EXPECT_EQ((*in_stage)[0].id, "tr2");
  EXPECT_EQ((*in_stage)[1].id, "tr1");
  EXPECT_EQ((*in_stage)[0].integration_id, "");
  EXPECT_EQ((*in_stage)[0].spec.add_tag().tag(), "tag-tr2");

  // By stage position (s2 first), then trigger position.
  auto in_job = Read(
      [](Transaction& t) { return t.jobs().ListJobTriggers(kAccountA, "j1"); });
  ASSERT_TRUE(in_job.ok()) << in_job.status();
  ASSERT_EQ(in_job->size(), 3u);
  EXPECT_EQ((*in_job)[0].id, "tr3");
  EXPECT_EQ((*in_job)[1].id, "tr2");
  EXPECT_EQ((*in_job)[2].id, "tr1");

  TriggerRow changed = MakeTagTrigger(kAccountA, "s1", "tr1", 7);
  ASSERT_OK(
      Write([&](Transaction& t) { return t.jobs().UpdateTrigger(changed); }));
  got = Read(
      [](Transaction& t) { return t.jobs().GetTrigger(kAccountA, "tr1"); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->position, 7);
  EXPECT_EQ(got->integration_id, "");
  EXPECT_TRUE(got->spec.has_add_tag());
  EXPECT_FALSE(got->spec.has_delay());

  // Scoping: another account's stage, trigger or integration is not found.
  EXPECT_CODE(Read([](Transaction& t) {
                return t.jobs().GetTrigger(kAccountB, "tr1");
              }),
              kNotFound);
  auto other_list = Read(
      [](Transaction& t) { return t.jobs().ListJobTriggers(kAccountB, "j1"); });
  ASSERT_TRUE(other_list.ok());
  EXPECT_TRUE(other_list->empty());
  EXPECT_CODE(Write([](Transaction& t) {
                return t.jobs().InsertTrigger(
                    MakeTagTrigger(kAccountB, "s1", "tr9", 0));
              }),
              kNotFound);
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status =
        t.jobs().InsertJob(MakeJob(kAccountB, "jb", "B", At(1)));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountB, "jb", "sb", 0));
    return status;
  }));
  TriggerRow foreign_integration = MakeTagTrigger(kAccountB, "sb", "tr9", 0);
  foreign_integration.integration_id = "i1";
  absl::Status foreign = Write([&](Transaction& t) {
    return t.jobs().InsertTrigger(foreign_integration);
  });
  EXPECT_CODE(foreign, kNotFound);
  EXPECT_EQ(foreign.message(), "integration i1 not found");
  changed.account_id = kAccountB;
  EXPECT_CODE(
      Write([&](Transaction& t) { return t.jobs().UpdateTrigger(changed); }),
      kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.jobs().DeleteTrigger(kAccountB, "tr1");
              }),
              kNotFound);

  ASSERT_OK(Write(
      [](Transaction& t) { return t.jobs().DeleteTrigger(kAccountA, "tr1"); }));
  EXPECT_CODE(Read([](Transaction& t) {
                return t.jobs().GetTrigger(kAccountA, "tr1");
              }),
              kNotFound);

  StoreCorruptBlob("UPDATE stage_triggers SET spec = ?1 WHERE id = ?2", "tr2");
  EXPECT_CODE(Read([](Transaction& t) {
                return t.jobs().GetTrigger(kAccountA, "tr2");
              }),
              kDataLoss);
  EXPECT_CODE(Read([](Transaction& t) {
                return t.jobs().ListJobTriggers(kAccountA, "j1");
              }),
              kDataLoss);
}

// -------------------------------------------------------------- candidates

CandidateRow MakeCandidate(const std::string& account, const std::string& id,
                           const std::string& given, const std::string& family,
                           const std::string& email, absl::Time created,
                           std::vector<std::string> tags = {}) {
  CandidateRow candidate;
  candidate.account_id = account;
  candidate.id = id;
  candidate.given_name = given;
  candidate.family_name = family;
  candidate.email = email;
  candidate.phone = "+1 555 0100";
  candidate.tags = std::move(tags);
  candidate.create_time = created;
  candidate.update_time = created;
  return candidate;
}

TEST_P(PipelineRepositoryTest, CandidateRoundTripReplacesTags) {
  CandidateRow candidate =
      MakeCandidate(kAccountA, "c1", "Ada", "Lovelace", "Ada@Example.com",
                    At(50), {"java", "senior"});
  ASSERT_OK(Write([&](Transaction& t) {
    return t.candidates().InsertCandidate(candidate);
  }));
  auto got = Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountA, "c1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->given_name, "Ada");
  EXPECT_EQ(got->family_name, "Lovelace");
  EXPECT_EQ(got->email, "Ada@Example.com");  // As written.
  EXPECT_EQ(got->phone, "+1 555 0100");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"java", "senior"}));
  EXPECT_EQ(got->create_time, At(50));
  EXPECT_EQ(got->revision, 1);

  candidate.family_name = "King";
  candidate.tags = {"rust", "senior"};
  candidate.update_time = At(60);
  candidate.revision = 2;
  ASSERT_OK(Write([&](Transaction& t) {
    return t.candidates().UpdateCandidate(candidate);
  }));
  got = Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountA, "c1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->family_name, "King");
  EXPECT_EQ(got->tags, (std::vector<std::string>{"rust", "senior"}));
  EXPECT_EQ(got->update_time, At(60));
  EXPECT_EQ(got->revision, 2);
  EXPECT_EQ(CountRows("SELECT count(*) FROM candidate_tags"), 2);

  // Another account.
  absl::StatusOr<CandidateRow> other = Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountB, "c1");
  });
  EXPECT_CODE(other, kNotFound);
  EXPECT_EQ(other.status().message(), "candidate c1 not found");
  CandidateRow stolen = candidate;
  stolen.account_id = kAccountB;
  stolen.tags = {"stolen"};
  EXPECT_CODE(Write([&](Transaction& t) {
                return t.candidates().UpdateCandidate(stolen);
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.candidates().AddTag(kAccountB, "c1", "x", At(70));
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.candidates().DeleteCandidate(kAccountB, "c1");
              }),
              kNotFound);
  EXPECT_EQ(CountRows("SELECT count(*) FROM candidate_tags"), 2);

  // Empty tags clear the set.
  candidate.tags.clear();
  ASSERT_OK(Write([&](Transaction& t) {
    return t.candidates().UpdateCandidate(candidate);
  }));
  got = Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountA, "c1");
  });
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->tags.empty());
}

TEST_P(PipelineRepositoryTest, AddTagAddsOnceAndBumpsRevision) {
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().InsertCandidate(
        MakeCandidate(kAccountA, "c1", "Ada", "L", "", At(1), {"b"}));
  }));
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().AddTag(kAccountA, "c1", "a", At(5));
  }));
  auto got = Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountA, "c1");
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(got->revision, 2);
  EXPECT_EQ(got->update_time, At(5));
  // Already there: nothing changes.
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().AddTag(kAccountA, "c1", "b", At(9));
  }));
  got = Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountA, "c1");
  });
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(got->revision, 2);
  EXPECT_EQ(got->update_time, At(5));
  EXPECT_CODE(Write([](Transaction& t) {
                return t.candidates().AddTag(kAccountA, "c9", "a", At(9));
              }),
              kNotFound);
}

TEST_P(PipelineRepositoryTest, CandidateChangeCountMovesWithEveryWrite) {
  auto count_of = [&](const char* account) {
    auto count = Read(
        [&](Transaction& t) { return t.candidates().ChangeCount(account); });
    EXPECT_TRUE(count.ok()) << count.status();
    return count.ok() ? *count : std::nullopt;
  };
  if (GetParam() == Backend::kPostgres) {
    EXPECT_EQ(count_of(kAccountA), std::nullopt);
    return;
  }
  ASSERT_EQ(count_of(kAccountA), 0);
  int64_t last = 0;
  // Each step must change account A's count, and leave B's alone.
  auto expect_counted = [&](const std::string& step) {
    const std::optional<int64_t> now = count_of(kAccountA);
    ASSERT_TRUE(now.has_value()) << step;
    EXPECT_GT(*now, last) << step;
    EXPECT_EQ(count_of(kAccountB), 0) << step;
    last = *now;
  };
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().InsertCandidate(
        MakeCandidate(kAccountA, "c1", "Ada", "L", "ada@x.org", At(1), {"b"}));
  }));
  expect_counted("insert");
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().InsertCandidate(
        MakeCandidate(kAccountA, "c2", "Bo", "M", "", At(2), {}));
  }));
  expect_counted("insert without tags");
  CandidateRow renamed =
      MakeCandidate(kAccountA, "c1", "Ada", "King", "ada@x.org", At(1), {"b"});
  renamed.revision = 2;
  ASSERT_OK(Write(
      [&](Transaction& t) { return t.candidates().UpdateCandidate(renamed); }));
  expect_counted("update");
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().AddTag(kAccountA, "c2", "a", At(5));
  }));
  expect_counted("tag added");
  ASSERT_OK(database_->WithSession([](sql::Session& db) {
    return db.Prepare("DELETE FROM candidate_tags WHERE candidate_id = 'c2'")
        .Run();
  }));
  expect_counted("tag deleted behind the repository's back");
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().DeleteCandidate(kAccountA, "c1");
  }));
  expect_counted("delete, its tags cascading");
  // A write that fails changes nothing, the count included.
  EXPECT_CODE(Write([](Transaction& t) {
                absl::Status status = t.candidates().InsertCandidate(
                    MakeCandidate(kAccountA, "c3", "C", "D", "", At(7), {}));
                if (!status.ok()) return status;
                return absl::InternalError("rolled back");
              }),
              kInternal);
  EXPECT_EQ(count_of(kAccountA), last);
}

TEST_P(PipelineRepositoryTest, CandidateEmailsAreUniqueIgnoringCase) {
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status = t.candidates().InsertCandidate(
        MakeCandidate(kAccountA, "c1", "Ada", "L", "ada@example.com", At(1)));
    if (status.ok()) {
      status = t.candidates().InsertCandidate(
          MakeCandidate(kAccountA, "c2", "Bob", "M", "bob@example.com", At(2)));
    }
    return status;
  }));
  absl::Status clash = Write([](Transaction& t) {
    return t.candidates().InsertCandidate(MakeCandidate(
        kAccountA, "c3", "Ada", "Again", "ADA@example.COM", At(3)));
  });
  EXPECT_CODE(clash, kAlreadyExists);
  EXPECT_NE(clash.message().find("\"ADA@example.COM\""), std::string::npos)
      << clash;
  EXPECT_NE(clash.message().find("c1"), std::string::npos) << clash;
  // Nothing of the failed insert remains.
  EXPECT_CODE(Read([](Transaction& t) {
                return t.candidates().GetCandidate(kAccountA, "c3");
              }),
              kNotFound);

  clash = Write([](Transaction& t) {
    return t.candidates().UpdateCandidate(
        MakeCandidate(kAccountA, "c2", "Bob", "M", "Ada@Example.com", At(2)));
  });
  EXPECT_CODE(clash, kAlreadyExists);
  EXPECT_NE(clash.message().find("\"Ada@Example.com\""), std::string::npos)
      << clash;

  // Other accounts, one's own email in another case, and empty emails are
  // fine.
  EXPECT_OK(Write([](Transaction& t) {
    return t.candidates().InsertCandidate(
        MakeCandidate(kAccountB, "c4", "Ada", "L", "ada@example.com", At(4)));
  }));
  EXPECT_OK(Write([](Transaction& t) {
    return t.candidates().UpdateCandidate(
        MakeCandidate(kAccountA, "c1", "Ada", "L", "ADA@EXAMPLE.COM", At(1)));
  }));
  EXPECT_OK(Write([](Transaction& t) {
    absl::Status status = t.candidates().InsertCandidate(
        MakeCandidate(kAccountA, "c5", "No", "Mail", "", At(5)));
    if (status.ok()) {
      status = t.candidates().InsertCandidate(
          MakeCandidate(kAccountA, "c6", "Also", "None", "", At(6)));
    }
    return status;
  }));

  clash = Write([](Transaction& t) {
    return t.candidates().InsertCandidate(
        MakeCandidate(kAccountA, "c5", "Same", "Id", "", At(7)));
  });
  EXPECT_CODE(clash, kAlreadyExists);
  EXPECT_EQ(clash.message(), "candidate c5 already exists");
}

TEST_P(PipelineRepositoryTest, CandidatesListNewestFirstAndFilter) {
  ASSERT_OK(Write([](Transaction& t) {
    for (const CandidateRow& candidate :
         {MakeCandidate(kAccountA, "c1", "Ada", "Lovelace", "ada@x.org", At(10),
                        {"java"}),
          MakeCandidate(kAccountA, "c2", "Ann_a", "Smith", "ann@x.org", At(20),
                        {"java", "senior"}),
          MakeCandidate(kAccountA, "c3", "Annxa", "Jones", "", At(20)),
          MakeCandidate(kAccountA, "c4", "Bob", "100% Mann", "bob@x.org",
                        At(20), {"senior"}),
          MakeCandidate(kAccountA, "c5", "Carol", "ANNAN", "carol@x.org",
                        At(30)),
          MakeCandidate(kAccountB, "c6", "Ada", "Other", "ada@x.org", At(25),
                        {"java"})}) {
      absl::Status status = t.candidates().InsertCandidate(candidate);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }));
  auto ids = [&](const std::string& account, const CandidateFilter& filter,
                 int limit) {
    return AllPages(
        [&](const PageRequest& page) {
          return Read([&](Transaction& t) {
            return t.candidates().ListCandidates(account, filter, page);
          });
        },
        [](const CandidateRow& row) { return row.id; }, limit);
  };
  for (int limit : {1, 2, 4, 10}) {
    EXPECT_EQ(ids(kAccountA, CandidateFilter(), limit),
              (std::vector<std::string>{"c5", "c4", "c3", "c2", "c1"}))
        << "limit " << limit;
  }
  EXPECT_EQ(ids(kAccountB, CandidateFilter(), 10),
            std::vector<std::string>{"c6"});

  CandidateFilter filter;
  filter.tag = "java";
  EXPECT_EQ(ids(kAccountA, filter, 1), (std::vector<std::string>{"c2", "c1"}));
  filter.tag = "nobody";
  EXPECT_TRUE(ids(kAccountA, filter, 10).empty());

  filter = CandidateFilter();
  filter.email = "ADA@X.ORG";
  EXPECT_EQ(ids(kAccountA, filter, 10), std::vector<std::string>{"c1"});
  filter.email = "ada@x";
  EXPECT_TRUE(ids(kAccountA, filter, 10).empty());

  filter = CandidateFilter();
  filter.name_contains = "ann";  // Given or family name, any case.
  EXPECT_EQ(ids(kAccountA, filter, 2),
            (std::vector<std::string>{"c5", "c4", "c3", "c2"}));
  filter.name_contains = "n_a";  // Literal underscore.
  EXPECT_EQ(ids(kAccountA, filter, 10), std::vector<std::string>{"c2"});
  filter.name_contains = "100%";  // Literal percent.
  EXPECT_EQ(ids(kAccountA, filter, 10), std::vector<std::string>{"c4"});
  filter.name_contains = "ada lovelace";  // The full name.
  EXPECT_EQ(ids(kAccountA, filter, 10), std::vector<std::string>{"c1"});
  filter.tag = "senior";
  filter.name_contains = "ANN";
  EXPECT_EQ(ids(kAccountA, filter, 10), (std::vector<std::string>{"c4", "c2"}));

  // Listed rows carry their tags.
  auto page = Read([](Transaction& t) {
    CandidateFilter by_tag;
    by_tag.tag = "senior";
    return t.candidates().ListCandidates(kAccountA, by_tag, PageRequest());
  });
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[1].tags, (std::vector<std::string>{"java", "senior"}));
}

// ------------------------------------------------------------ applications

ApplicationRow MakeApplication(const std::string& account,
                               const std::string& job,
                               const std::string& candidate,
                               const std::string& stage, absl::Time entered) {
  ApplicationRow row;
  row.account_id = account;
  row.job_id = job;
  row.candidate_id = candidate;
  row.stage_id = stage;
  row.stage_enter_time = entered;
  row.entry_count = 1;
  row.create_time = entered;
  return row;
}

TransitionRow MakeTransition(const std::string& account, const std::string& job,
                             const std::string& candidate, int64_t entry,
                             const std::string& from, const std::string& to,
                             absl::Time when) {
  TransitionRow row;
  row.account_id = account;
  row.job_id = job;
  row.candidate_id = candidate;
  row.entry = entry;
  row.from_stage_id = from;
  row.to_stage_id = to;
  row.time = when;
  row.moved_by = "key-1";
  return row;
}

// Account A: job j1 with stages s1 (position 0), s2 (1), s3 (2); job j2 with
// stage s4; candidates c1..c5. Account B: job jb with stage sb, candidate cb.
class ApplicationTest : public PipelineRepositoryTest {
 protected:
  void SetUp() override {
    PipelineRepositoryTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_OK(Write([](Transaction& t) {
      absl::Status status =
          t.jobs().InsertJob(MakeJob(kAccountA, "j1", "One", At(1)));
      if (status.ok())
        status = t.jobs().InsertJob(MakeJob(kAccountA, "j2", "Two", At(2)));
      if (status.ok())
        status = t.jobs().InsertJob(MakeJob(kAccountB, "jb", "B", At(3)));
      if (status.ok())
        status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s1", 0));
      if (status.ok())
        status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s2", 1));
      if (status.ok())
        status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s3", 2));
      if (status.ok())
        status = t.jobs().InsertStage(MakeStage(kAccountA, "j2", "s4", 0));
      if (status.ok())
        status = t.jobs().InsertStage(MakeStage(kAccountB, "jb", "sb", 0));
      if (status.ok())
        status =
            t.jobs().InsertTrigger(MakeTagTrigger(kAccountA, "s1", "tr1", 0));
      for (const char* id : {"c1", "c2", "c3", "c4", "c5"}) {
        if (status.ok()) {
          status = t.candidates().InsertCandidate(
              MakeCandidate(kAccountA, id, "Given", id, "", At(5), {"t"}));
        }
      }
      if (status.ok()) {
        status = t.candidates().InsertCandidate(
            MakeCandidate(kAccountB, "cb", "Given", "B", "", At(5)));
      }
      return status;
    }));
  }

  // How many candidates each stage of job `job_id` holds, as its stage rows
  // keep them (stages with none are absent).
  absl::StatusOr<std::map<std::string, int64_t>> StageCounts(
      const std::string& account_id, const std::string& job_id) {
    auto stages = Read(
        [&](Transaction& t) { return t.jobs().ListStages(account_id, job_id); });
    if (!stages.ok()) return stages.status();
    std::map<std::string, int64_t> counts;
    for (const StageRow& stage : *stages) {
      if (stage.candidate_count > 0) counts[stage.id] = stage.candidate_count;
    }
    return counts;
  }

  absl::Status Add(const ApplicationRow& row) {
    return Write([&](Transaction& t) {
      absl::Status status = t.applications().InsertApplication(row);
      if (!status.ok()) return status;
      return t.applications().InsertTransition(
          MakeTransition(row.account_id, row.job_id, row.candidate_id, 1, "",
                         row.stage_id, row.stage_enter_time));
    });
  }
};

TEST_P(ApplicationTest, RoundTrip) {
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(100))));
  auto got = Read([](Transaction& t) {
    return t.applications().GetApplication(kAccountA, "j1", "c1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->stage_id, "s1");
  EXPECT_EQ(got->stage_enter_time, At(100));
  EXPECT_EQ(got->entry_count, 1);
  EXPECT_EQ(got->create_time, At(100));

  absl::Status twice = Write([](Transaction& t) {
    return t.applications().InsertApplication(
        MakeApplication(kAccountA, "j1", "c1", "s2", At(101)));
  });
  EXPECT_CODE(twice, kAlreadyExists);
  EXPECT_EQ(twice.message(), "candidate c1 is already in job j1");

  ApplicationRow moved = MakeApplication(kAccountA, "j1", "c1", "s2", At(200));
  moved.entry_count = 2;
  moved.create_time = At(999);  // Not written by UpdateApplication.
  ASSERT_OK(Write([&](Transaction& t) {
    absl::Status status = t.applications().UpdateApplication(moved);
    if (!status.ok()) return status;
    return t.applications().InsertTransition(
        MakeTransition(kAccountA, "j1", "c1", 2, "s1", "s2", At(200)));
  }));
  got = Read([](Transaction& t) {
    return t.applications().GetApplication(kAccountA, "j1", "c1");
  });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->stage_id, "s2");
  EXPECT_EQ(got->stage_enter_time, At(200));
  EXPECT_EQ(got->entry_count, 2);
  EXPECT_EQ(got->create_time, At(100));

  ASSERT_OK(Write([](Transaction& t) {
    return t.applications().DeleteApplication(kAccountA, "j1", "c1");
  }));
  absl::StatusOr<ApplicationRow> gone = Read([](Transaction& t) {
    return t.applications().GetApplication(kAccountA, "j1", "c1");
  });
  EXPECT_CODE(gone, kNotFound);
  EXPECT_EQ(gone.status().message(),
            "application of candidate c1 to job j1 not found");
  EXPECT_EQ(CountRows("SELECT count(*) FROM stage_transitions"), 0);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.applications().DeleteApplication(kAccountA, "j1",
                                                          "c1");
              }),
              kNotFound);
  EXPECT_CODE(Write([&](Transaction& t) {
                return t.applications().UpdateApplication(moved);
              }),
              kNotFound);
}

TEST_P(ApplicationTest, LinksOnlyRowsOfTheAccount) {
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(100))));
  // Reading or changing A's application as B.
  EXPECT_CODE(Read([](Transaction& t) {
                return t.applications().GetApplication(kAccountB, "j1", "c1");
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.applications().UpdateApplication(
                    MakeApplication(kAccountB, "j1", "c1", "s2", At(5)));
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.applications().DeleteApplication(kAccountB, "j1",
                                                          "c1");
              }),
              kNotFound);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.applications().InsertTransition(MakeTransition(
                    kAccountB, "j1", "c1", 2, "s1", "s2", At(5)));
              }),
              kNotFound);
  auto page = Read([](Transaction& t) {
    return t.applications().ListApplications(kAccountB, "j1", "",
                                             PageRequest());
  });
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->rows.empty());
  auto counts = StageCounts(kAccountB, "j1");
  ASSERT_TRUE(counts.ok());
  EXPECT_TRUE(counts->empty());
  auto of_candidate = Read([](Transaction& t) {
    return t.applications().ListCandidateApplications(kAccountB, "c1");
  });
  ASSERT_TRUE(of_candidate.ok());
  EXPECT_TRUE(of_candidate->empty());
  auto history = Read([](Transaction& t) {
    return t.applications().ListTransitions(kAccountB, "j1", "c1");
  });
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->empty());

  // Mixing in another account's job, candidate or stage.
  absl::Status status = Write([](Transaction& t) {
    return t.applications().InsertApplication(
        MakeApplication(kAccountA, "jb", "c2", "sb", At(5)));
  });
  EXPECT_CODE(status, kNotFound);
  EXPECT_EQ(status.message(), "job jb not found");
  status = Write([](Transaction& t) {
    return t.applications().InsertApplication(
        MakeApplication(kAccountA, "j1", "cb", "s1", At(5)));
  });
  EXPECT_CODE(status, kNotFound);
  EXPECT_EQ(status.message(), "candidate cb not found");
  status = Write([](Transaction& t) {
    return t.applications().InsertApplication(
        MakeApplication(kAccountA, "j1", "c2", "sb", At(5)));
  });
  EXPECT_CODE(status, kNotFound);
  // A stage of another job of the same account.
  status = Write([](Transaction& t) {
    return t.applications().InsertApplication(
        MakeApplication(kAccountA, "j1", "c2", "s4", At(5)));
  });
  EXPECT_CODE(status, kNotFound);
  EXPECT_EQ(status.message(), "stage s4 not found in job j1");
  status = Write([](Transaction& t) {
    return t.applications().UpdateApplication(
        MakeApplication(kAccountA, "j1", "c1", "s4", At(5)));
  });
  EXPECT_CODE(status, kNotFound);
  EXPECT_EQ(status.message(), "stage s4 not found in job j1");
}

TEST_P(ApplicationTest, ListByStagePositionThenEntryTimeAcrossPages) {
  // Reorder: s3 first, then s1, then s2.
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status =
        t.jobs().UpdateStage(MakeStage(kAccountA, "j1", "s3", 0));
    if (status.ok())
      status = t.jobs().UpdateStage(MakeStage(kAccountA, "j1", "s1", 1));
    if (status.ok())
      status = t.jobs().UpdateStage(MakeStage(kAccountA, "j1", "s2", 2));
    return status;
  }));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(300))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c2", "s1", At(100))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c3", "s2", At(50))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c4", "s3", At(200))));
  ASSERT_OK(
      Add(MakeApplication(kAccountA, "j1", "c5", "s1", At(100))));  // Tie.
  ASSERT_OK(Add(MakeApplication(kAccountA, "j2", "c1", "s4", At(1))));

  auto ids = [&](const std::string& stage, int limit) {
    return AllPages(
        [&](const PageRequest& page) {
          return Read([&](Transaction& t) {
            return t.applications().ListApplications(kAccountA, "j1", stage,
                                                     page);
          });
        },
        [](const ApplicationRow& row) { return row.candidate_id; }, limit);
  };
  for (int limit : {1, 2, 3, 10}) {
    EXPECT_EQ(ids("", limit),
              (std::vector<std::string>{"c4", "c2", "c5", "c1", "c3"}))
        << "limit " << limit;
  }
  EXPECT_EQ(ids("s1", 2), (std::vector<std::string>{"c2", "c5", "c1"}));
  auto unfiltered = Read([](Transaction& t) {
    return t.applications().ListApplications(kAccountA, "j1",
                                             std::string_view(), PageRequest());
  });
  ASSERT_TRUE(unfiltered.ok()) << unfiltered.status();
  EXPECT_EQ(unfiltered->rows.size(), 5u);
  EXPECT_TRUE(ids("s4", 2).empty());  // Stage of another job.

  PageRequest bad;
  bad.after = {"x", "1", "c1"};
  EXPECT_CODE(Read([&](Transaction& t) {
                return t.applications().ListApplications(kAccountA, "j1", "",
                                                         bad);
              }),
              kInvalidArgument);

  auto counts = StageCounts(kAccountA, "j1");
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(*counts,
            (std::map<std::string, int64_t>{{"s1", 3}, {"s2", 1}, {"s3", 1}}));

  auto of_c1 = Read([](Transaction& t) {
    return t.applications().ListCandidateApplications(kAccountA, "c1");
  });
  ASSERT_TRUE(of_c1.ok()) << of_c1.status();
  ASSERT_EQ(of_c1->size(), 2u);
  EXPECT_EQ((*of_c1)[0].job_id, "j2");  // Created first.
  EXPECT_EQ((*of_c1)[1].job_id, "j1");
}

TEST_P(ApplicationTest, TransitionsOldestFirst) {
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(100))));
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status = t.applications().InsertTransition(
        MakeTransition(kAccountA, "j1", "c1", 3, "s2", "s1", At(300)));
    if (status.ok()) {
      status = t.applications().InsertTransition(
          MakeTransition(kAccountA, "j1", "c1", 2, "s1", "s2", At(200)));
    }
    return status;
  }));
  auto history = Read([](Transaction& t) {
    return t.applications().ListTransitions(kAccountA, "j1", "c1");
  });
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].entry, 1);
  EXPECT_EQ((*history)[0].from_stage_id, "");
  EXPECT_EQ((*history)[0].to_stage_id, "s1");
  EXPECT_EQ((*history)[0].time, At(100));
  EXPECT_EQ((*history)[0].moved_by, "key-1");
  EXPECT_EQ((*history)[1].entry, 2);
  EXPECT_EQ((*history)[1].from_stage_id, "s1");
  EXPECT_EQ((*history)[2].entry, 3);
  EXPECT_EQ((*history)[2].time, At(300));

  EXPECT_CODE(Write([](Transaction& t) {
                return t.applications().InsertTransition(MakeTransition(
                    kAccountA, "j1", "c1", 2, "s1", "s2", At(200)));
              }),
              kAlreadyExists);
  EXPECT_CODE(Write([](Transaction& t) {
                return t.applications().InsertTransition(MakeTransition(
                    kAccountA, "j1", "c2", 1, "", "s1", At(200)));
              }),
              kNotFound);
}

TEST_P(ApplicationTest, DeleteStageRefusedWhileCandidatesAreInIt) {
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(100))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c2", "s1", At(100))));
  absl::Status status = Write(
      [](Transaction& t) { return t.jobs().DeleteStage(kAccountA, "s1"); });
  EXPECT_CODE(status, kFailedPrecondition);
  EXPECT_EQ(status.message(), "stage s1 has 2 candidates; move them first");

  ASSERT_OK(Write([](Transaction& t) {
    return t.applications().DeleteApplication(kAccountA, "j1", "c2");
  }));
  status = Write(
      [](Transaction& t) { return t.jobs().DeleteStage(kAccountA, "s1"); });
  EXPECT_CODE(status, kFailedPrecondition);
  EXPECT_EQ(status.message(), "stage s1 has 1 candidate; move them first");

  ASSERT_OK(Write([](Transaction& t) {
    return t.applications().UpdateApplication(
        MakeApplication(kAccountA, "j1", "c1", "s2", At(200)));
  }));
  ASSERT_OK(Write(
      [](Transaction& t) { return t.jobs().DeleteStage(kAccountA, "s1"); }));
  // Its triggers went with it.
  EXPECT_CODE(Read([](Transaction& t) {
                return t.jobs().GetTrigger(kAccountA, "tr1");
              }),
              kNotFound);
  EXPECT_EQ(CountRows("SELECT count(*) FROM stage_triggers"), 0);
}

TEST_P(ApplicationTest, DeleteJobCascades) {
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(100))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c2", "s2", At(100))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j2", "c1", "s4", At(100))));
  ASSERT_OK(Write(
      [](Transaction& t) { return t.jobs().DeleteJob(kAccountA, "j1"); }));

  EXPECT_CODE(
      Read([](Transaction& t) { return t.jobs().GetStage(kAccountA, "s1"); }),
      kNotFound);
  EXPECT_CODE(Read([](Transaction& t) {
                return t.jobs().GetTrigger(kAccountA, "tr1");
              }),
              kNotFound);
  EXPECT_CODE(Read([](Transaction& t) {
                return t.applications().GetApplication(kAccountA, "j1", "c1");
              }),
              kNotFound);
  auto history = Read([](Transaction& t) {
    return t.applications().ListTransitions(kAccountA, "j1", "c1");
  });
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(history->empty());
  EXPECT_EQ(CountRows("SELECT count(*) FROM stages WHERE job_id = 'j1'"), 0);
  EXPECT_EQ(CountRows("SELECT count(*) FROM stage_triggers"), 0);
  EXPECT_EQ(CountRows("SELECT count(*) FROM applications WHERE job_id = 'j1'"),
            0);
  EXPECT_EQ(
      CountRows("SELECT count(*) FROM stage_transitions WHERE job_id = 'j1'"),
      0);
  // Candidates and other jobs stay.
  EXPECT_OK(StatusOf(Read([](Transaction& t) {
    return t.candidates().GetCandidate(kAccountA, "c1");
  })));
  EXPECT_OK(StatusOf(Read([](Transaction& t) {
    return t.applications().GetApplication(kAccountA, "j2", "c1");
  })));
  EXPECT_EQ(CountRows("SELECT count(*) FROM stage_transitions"), 1);
}

TEST_P(ApplicationTest, DeleteCandidateCascades) {
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c1", "s1", At(100))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j2", "c1", "s4", At(100))));
  ASSERT_OK(Add(MakeApplication(kAccountA, "j1", "c2", "s1", At(100))));
  ASSERT_OK(Write([](Transaction& t) {
    return t.candidates().DeleteCandidate(kAccountA, "c1");
  }));
  EXPECT_CODE(Read([](Transaction& t) {
                return t.candidates().GetCandidate(kAccountA, "c1");
              }),
              kNotFound);
  auto applications = Read([](Transaction& t) {
    return t.applications().ListCandidateApplications(kAccountA, "c1");
  });
  ASSERT_TRUE(applications.ok());
  EXPECT_TRUE(applications->empty());
  EXPECT_EQ(
      CountRows(
          "SELECT count(*) FROM candidate_tags WHERE candidate_id = 'c1'"),
      0);
  EXPECT_EQ(
      CountRows(
          "SELECT count(*) FROM stage_transitions WHERE candidate_id = 'c1'"),
      0);
  auto counts = StageCounts(kAccountA, "j1");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(*counts, (std::map<std::string, int64_t>{{"s1", 1}}));
  EXPECT_CODE(Write([](Transaction& t) {
                return t.candidates().DeleteCandidate(kAccountA, "c1");
              }),
              kNotFound);
}

// ------------------------------------------- what writes read of the config

// Writes read a stage's triggers and its job (SQLite's writer keeps them
// between transactions) and must see every change: made by an earlier
// write, undone by a write that failed, or made behind the repositories'
// back by another connection.
TEST_P(PipelineRepositoryTest, WritesSeeEveryChangeToTriggersAndJobs) {
  ASSERT_OK(Write([](Transaction& t) {
    absl::Status status =
        t.jobs().InsertJob(MakeJob(kAccountA, "j1", "Before", At(1)));
    if (status.ok())
      status = t.jobs().InsertStage(MakeStage(kAccountA, "j1", "s1", 0));
    if (status.ok()) {
      status = t.jobs().InsertTrigger(MakeTagTrigger(kAccountA, "s1", "t1", 0));
    }
    return status;
  }));
  // What a write reads now, as "title: tag, tag...".
  const auto seen = [&] {
    std::string text;
    EXPECT_OK(Write([&](Transaction& t) {
      auto job = t.jobs().GetJob(kAccountA, "j1");
      if (!job.ok()) return job.status();
      auto triggers = t.jobs().ListTriggers(kAccountA, "s1");
      if (!triggers.ok()) return triggers.status();
      text = job->title + ":";
      for (const TriggerRow& trigger : *triggers) {
        text += " " + trigger.spec.add_tag().tag();
      }
      return absl::OkStatus();
    }));
    return text;
  };
  EXPECT_EQ(seen(), "Before: tag-t1");
  EXPECT_EQ(seen(), "Before: tag-t1");

  ASSERT_OK(Write([](Transaction& t) {
    TriggerRow trigger = MakeTagTrigger(kAccountA, "s1", "t1", 0);
    trigger.spec.mutable_add_tag()->set_tag("changed");
    absl::Status status = t.jobs().UpdateTrigger(trigger);
    if (!status.ok()) return status;
    return t.jobs().InsertTrigger(MakeTagTrigger(kAccountA, "s1", "t2", 1));
  }));
  EXPECT_EQ(seen(), "Before: changed tag-t2");

  // Changed and read inside a write that then fails: rolled back, so the
  // next write must not see it.
  EXPECT_CODE(Write([](Transaction& t) {
                JobRow job = MakeJob(kAccountA, "j1", "Undone", At(1));
                absl::Status status = t.jobs().UpdateJob(job);
                if (status.ok())
                  status = t.jobs().DeleteTrigger(kAccountA, "t2");
                if (!status.ok()) return status;
                auto read = t.jobs().GetJob(kAccountA, "j1");
                if (!read.ok()) return read.status();
                auto triggers = t.jobs().ListTriggers(kAccountA, "s1");
                if (!triggers.ok()) return triggers.status();
                if (read->title != "Undone" || triggers->size() != 1) {
                  return absl::InternalError("the write did not see itself");
                }
                return absl::AbortedError("rolled back on purpose");
              }),
              kAborted);
  EXPECT_EQ(seen(), "Before: changed tag-t2");

  ASSERT_OK(database_->WithSession([](sql::Session& db) {
    absl::Status status =
        db.Prepare("UPDATE jobs SET title = 'Elsewhere' WHERE id = 'j1'").Run();
    if (!status.ok()) return status;
    return db.Prepare("DELETE FROM stage_triggers WHERE id = 't1'").Run();
  }));
  EXPECT_EQ(seen(), "Elsewhere: tag-t2");
}

INSTANTIATE_TEST_SUITE_P(Backends, PipelineRepositoryTest,
                         ::ats::testing::AllBackends(),
                         ::ats::testing::BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, ApplicationTest,
                         ::ats::testing::AllBackends(),
                         ::ats::testing::BackendName);

}  // namespace
}  // namespace ats::storage
