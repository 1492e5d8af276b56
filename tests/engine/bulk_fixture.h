// What the bulk operation tests share (BulkTriggerIntegration and
// RecoverEvents): starting an operation and reading its stream, and the RPCs
// that poll, list the items of and cancel one, as account A's recruiter
// unless another key is given.
#ifndef ATS_TESTS_ENGINE_BULK_FIXTURE_H_
#define ATS_TESTS_ENGINE_BULK_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/api/event_fixture.h"

namespace ats::testing {

class BulkFixture : public EventFixture {
 protected:
  using BulkOperation = ats::v1::BulkOperation;
  using BulkOperationItem = ats::v1::BulkOperationItem;

  // What a call starting an operation streamed, and how it ended.
  struct Streamed {
    std::vector<BulkOperation> messages;
    grpc::Status status;
  };

  Streamed Stream(const ats::v1::BulkTriggerIntegrationRequest& request,
                  const std::string& key = "") {
    auto context = As(key.empty() ? server_.recruiter_key() : key);
    return ReadToEnd(
        *integrations_->BulkTriggerIntegration(context.get(), request));
  }
  Streamed Stream(const ats::v1::RecoverEventsRequest& request,
                  const std::string& key = "") {
    auto context = As(key.empty() ? server_.recruiter_key() : key);
    return ReadToEnd(*integrations_->RecoverEvents(context.get(), request));
  }

  // Runs `request` to its end; returns the last message.
  template <typename Request>
  BulkOperation MustRun(const Request& request) {
    Streamed streamed = Stream(request);
    EXPECT_TRUE(streamed.status.ok()) << streamed.status.error_message();
    if (streamed.messages.empty()) {
      ADD_FAILURE() << "nothing streamed";
      return {};
    }
    ExpectProgressOnlyGrows(streamed.messages);
    return streamed.messages.back();
  }

  static void ExpectProgressOnlyGrows(
      const std::vector<BulkOperation>& messages) {
    for (size_t i = 1; i < messages.size(); ++i) {
      EXPECT_EQ(messages[i].name(), messages[0].name());
      EXPECT_GE(messages[i].total_count(), messages[i - 1].total_count());
      EXPECT_GE(messages[i].created_count(), messages[i - 1].created_count());
      EXPECT_GE(messages[i].requeued_count(), messages[i - 1].requeued_count());
      EXPECT_GE(messages[i].skipped_count(), messages[i - 1].skipped_count());
    }
    for (size_t i = 0; i + 1 < messages.size(); ++i) {
      EXPECT_EQ(messages[i].state(), ats::v1::BULK_OPERATION_STATE_RUNNING);
    }
  }

  grpc::Status Get(const std::string& name, BulkOperation* operation,
                   const std::string& key = "") {
    ats::v1::GetBulkOperationRequest request;
    request.set_name(name);
    return integrations_->GetBulkOperation(
        As(key.empty() ? server_.recruiter_key() : key).get(), request,
        operation);
  }

  BulkOperation MustGet(const std::string& name) {
    BulkOperation operation;
    grpc::Status status = Get(name, &operation);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return operation;
  }

  grpc::Status Cancel(const std::string& name, BulkOperation* operation,
                      const std::string& key = "") {
    ats::v1::CancelBulkOperationRequest request;
    request.set_name(name);
    return integrations_->CancelBulkOperation(
        As(key.empty() ? server_.recruiter_key() : key).get(), request,
        operation);
  }

  // Cancels the operation `reader` streams as soon as its first progress
  // arrives, reads the stream to its end and returns the operation as the
  // cancel returned it, expecting the stream's last message and
  // GetBulkOperation to show it the same.
  BulkOperation CancelAtFirstProgress(
      grpc::ClientReader<BulkOperation>& reader) {
    using google::protobuf::util::MessageDifferencer;
    BulkOperation progress;
    if (!reader.Read(&progress)) {
      ADD_FAILURE() << "nothing streamed";
      return progress;
    }
    EXPECT_EQ(progress.state(), ats::v1::BULK_OPERATION_STATE_RUNNING);
    BulkOperation cancelled;
    grpc::Status status = Cancel(progress.name(), &cancelled);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(cancelled.state(), ats::v1::BULK_OPERATION_STATE_CANCELED);
    BulkOperation last = progress;
    while (reader.Read(&progress)) last = progress;
    EXPECT_TRUE(reader.Finish().ok());
    EXPECT_TRUE(MessageDifferencer::Equals(last, cancelled));
    EXPECT_TRUE(
        MessageDifferencer::Equals(MustGet(cancelled.name()), cancelled));
    return cancelled;
  }

  // Every item of `operation` with `outcome` (any when unspecified), in
  // pages of `page_size`.
  std::vector<BulkOperationItem> Items(
      const std::string& operation,
      ats::v1::BulkItemOutcome outcome = ats::v1::BULK_ITEM_OUTCOME_UNSPECIFIED,
      int page_size = 0) {
    std::vector<BulkOperationItem> items;
    ats::v1::ListBulkOperationItemsRequest request;
    request.set_parent(operation);
    request.set_outcome(outcome);
    request.set_page_size(page_size);
    for (int pages = 0; pages < 1000; ++pages) {
      ats::v1::ListBulkOperationItemsResponse response;
      grpc::Status status = integrations_->ListBulkOperationItems(
          As(server_.recruiter_key()).get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      items.insert(items.end(), response.items().begin(),
                   response.items().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return items;
  }

  // Expects the PENDING items of `operation` to be those it has not
  // handled: its counters are exact.
  void ExpectTheRestPending(const BulkOperation& operation) {
    EXPECT_EQ(
        static_cast<int64_t>(
            Items(operation.name(), ats::v1::BULK_ITEM_OUTCOME_PENDING).size()),
        operation.total_count() - operation.created_count() -
            operation.requeued_count() - operation.skipped_count() -
            operation.failed_count());
  }

 private:
  static Streamed ReadToEnd(grpc::ClientReader<BulkOperation>& reader) {
    Streamed streamed;
    BulkOperation operation;
    while (reader.Read(&operation)) streamed.messages.push_back(operation);
    streamed.status = reader.Finish();
    return streamed;
  }
};

}  // namespace ats::testing

#endif  // ATS_TESTS_ENGINE_BULK_FIXTURE_H_
