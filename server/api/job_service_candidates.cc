// JobService: the candidate database RPCs.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/api/job_service.h"
#include "server/api/list_page.h"
#include "server/common/etag.h"
#include "server/common/page_token.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/pipeline_convert.h"
#include "server/engine/pipeline_access.h"

namespace ats::server {
namespace {

// Checks the fields of `candidate` that `mask` names (every field when
// `mask` is null), as of a request field named "candidate".
void ValidateCandidate(const ats::v1::Candidate& candidate,
                       const google::protobuf::FieldMask* mask, Validator& v) {
  auto checks = [mask](std::string_view path) {
    return mask == nullptr || Masks(*mask, path);
  };
  if (checks("given_name")) {
    v.Length("candidate.given_name", candidate.given_name(), 1,
             kMaxPersonNameLength);
  }
  if (checks("family_name")) {
    v.Length("candidate.family_name", candidate.family_name(), 0,
             kMaxPersonNameLength);
  }
  if (checks("email")) {
    v.Email("candidate.email", candidate.email(), /*required=*/false);
  }
  if (checks("phone")) v.Phone("candidate.phone", candidate.phone());
  if (checks("tags") &&
      v.Require(
          candidate.tags_size() <= kMaxCandidateTags, "candidate.tags",
          absl::StrCat("must have at most ", kMaxCandidateTags, " tags"))) {
    for (int i = 0; i < candidate.tags_size(); ++i) {
      v.Tag(absl::StrCat("candidate.tags[", i, "]"), candidate.tags(i));
    }
  }
}

// Storage reports a taken email as a bare ALREADY_EXISTS; the client needs
// to know which candidate has it.
absl::Status EmailTakenOr(storage::Transaction& txn, absl::Status status,
                          const storage::CandidateRow& row) {
  if (!absl::IsAlreadyExists(status)) return status;
  storage::CandidateFilter filter;
  filter.email = row.email;
  auto holders = txn.candidates().ListCandidates(row.account_id, filter,
                                                 {/*after=*/{}, /*limit=*/1});
  std::string holder;
  if (holders.ok() && !holders->rows.empty()) {
    holder = CandidateName(holders->rows[0].id);
  }
  std::map<std::string, std::string> metadata;
  if (!holder.empty()) metadata["candidate"] = holder;
  return WithErrorInfo(
      absl::AlreadyExistsError(absl::StrCat(
          holder.empty() ? "a candidate" : absl::StrCat("candidate ", holder),
          " already has email ", row.email,
          " (emails are unique in the account, compared case-insensitively)")),
      "EMAIL_TAKEN", std::move(metadata));
}

}  // namespace

grpc::ServerUnaryReactor* JobService::CreateCandidate(
    grpc::CallbackServerContext* context,
    const ats::v1::CreateCandidateRequest* request,
    ats::v1::Candidate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  ValidateCandidate(request->candidate(), nullptr, v);
  v.RequestId("request_id", request->request_id());
  if (!v.ok()) return call.Finish(v.status());
  return call.Write(
      [this, request, response, account_id = call.caller().account_id](
          storage::Transaction& txn, absl::Time now) {
        const ats::v1::Candidate& candidate = request->candidate();
        storage::CandidateRow row;
        row.account_id = account_id;
        row.id = NewResourceId(env_.random);
        row.given_name = candidate.given_name();
        row.family_name = candidate.family_name();
        row.email = candidate.email();
        row.phone = candidate.phone();
        row.tags = NormalizedTags(candidate.tags());
        row.create_time = now;
        row.update_time = now;
        row.revision = 1;
        absl::Status status =
            EmailTakenOr(txn, txn.candidates().InsertCandidate(row), row);
        if (!status.ok()) return status;
        CandidateToProto(row, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* JobService::GetCandidate(
    grpc::CallbackServerContext* context,
    const ats::v1::GetCandidateRequest* request, ats::v1::Candidate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kCandidatePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Read([&](storage::Transaction& txn) {
    auto row = LoadCandidate(txn, call.caller().account_id, ids[0]);
    if (!row.ok()) return row.status();
    CandidateToProto(*row, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* JobService::ListCandidates(
    grpc::CallbackServerContext* context,
    const ats::v1::ListCandidatesRequest* request,
    ats::v1::ListCandidatesResponse* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  if (!request->tag().empty()) v.Tag("tag", request->tag());
  v.Email("email", request->email(), /*required=*/false);
  v.Length("name_contains", request->name_contains(), 0, kMaxPersonNameLength);
  v.PageSize("page_size", request->page_size());
  if (!v.ok()) return call.Finish(v.status());
  const std::string& account_id = call.caller().account_id;
  storage::CandidateFilter filter;
  filter.tag = request->tag();
  filter.email = absl::AsciiStrToLower(request->email());
  filter.name_contains = request->name_contains();
  auto paging =
      ListPage::Start(request->page_token(), request->page_size(),
                      QueryFingerprint({call.method(), account_id, filter.tag,
                                        filter.email, filter.name_contains}));
  if (!paging.ok()) return call.Finish(paging.status());
  return call.Read([&](storage::Transaction& txn) {
    return paging->Fill(
        txn.candidates().ListCandidates(account_id, filter, paging->request()),
        response, [&](const storage::CandidateRow& row) {
          CandidateToProto(row, response->add_candidates());
        });
  });
}

grpc::ServerUnaryReactor* JobService::UpdateCandidate(
    grpc::CallbackServerContext* context,
    const ats::v1::UpdateCandidateRequest* request,
    ats::v1::Candidate* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  const google::protobuf::FieldMask& mask = request->update_mask();
  Validator v;
  std::vector<std::string> ids;
  v.Name("candidate.name", request->candidate().name(), kCandidatePattern,
         &ids);
  if (v.UpdateMask("update_mask", mask,
                   {"given_name", "family_name", "email", "phone", "tags"})) {
    ValidateCandidate(request->candidate(), &mask, v);
  }
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([request, response, account_id = call.caller().account_id,
                     id = ids[0]](storage::Transaction& txn, absl::Time now) {
    auto row = LoadCandidate(txn, account_id, id);
    if (!row.ok()) return row.status();
    absl::Status status = CheckEtag(request->etag(), row->revision);
    if (!status.ok()) return status;
    const ats::v1::Candidate& update = request->candidate();
    const google::protobuf::FieldMask& mask = request->update_mask();
    const storage::CandidateRow before = *row;
    if (Masks(mask, "given_name")) row->given_name = update.given_name();
    if (Masks(mask, "family_name")) row->family_name = update.family_name();
    if (Masks(mask, "email")) row->email = update.email();
    if (Masks(mask, "phone")) row->phone = update.phone();
    if (Masks(mask, "tags")) row->tags = NormalizedTags(update.tags());
    if (row->given_name != before.given_name ||
        row->family_name != before.family_name || row->email != before.email ||
        row->phone != before.phone || row->tags != before.tags) {
      ++row->revision;
      row->update_time = now;
      status = EmailTakenOr(txn, txn.candidates().UpdateCandidate(*row), *row);
      if (!status.ok()) return status;
    }
    CandidateToProto(*row, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* JobService::DeleteCandidate(
    grpc::CallbackServerContext* context,
    const ats::v1::DeleteCandidateRequest* request,
    google::protobuf::Empty* response) {
  UnaryCall call(env_, context, *request, response);
  if (!call.admitted()) return call.Finish(call.admission());
  Validator v;
  std::vector<std::string> ids;
  v.Name("name", request->name(), kCandidatePattern, &ids);
  if (!v.ok()) return call.Finish(v.status());
  return call.Write([account_id = call.caller().account_id, id = ids[0]](
                        storage::Transaction& txn, absl::Time now) {
    auto row = LoadCandidate(txn, account_id, id);
    if (!row.ok()) return row.status();
    // The events stay, for the record; none is sent any more.
    auto cancelled = txn.events().CancelOpenEvents(account_id, id, "",
                                                   "candidate deleted", now);
    if (!cancelled.ok()) return cancelled.status();
    return txn.candidates().DeleteCandidate(account_id, id);
  });
}

}  // namespace ats::server
