#include "server/api/method_policy.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/descriptor_database.h"

namespace ats::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::MethodOptions;

constexpr char kPackage[] = "ats.v1";

absl::Status Violation(const std::string& method, const std::string& problem) {
  return absl::FailedPreconditionError(
      absl::StrCat("RPC ", method, " ", problem, " (see ats/v1/access.proto)"));
}

// Reads the (ats.v1.access) option of `method`, named `name` in errors.
absl::StatusOr<RoleSet> DeclaredRoles(const MethodDescriptor& method,
                                      const std::string& name) {
  if (!method.options().HasExtension(ats::v1::access)) {
    return Violation(name,
                     "declares no (ats.v1.access) option: every ats.v1 RPC "
                     "must list the roles it admits");
  }
  RoleSet roles;
  for (const int role : method.options().GetExtension(ats::v1::access).roles()) {
    if (role == ats::v1::ROLE_UNSPECIFIED || !ats::v1::Role_IsValid(role)) {
      return Violation(name, absl::StrCat("admits role ", role,
                                          ", which no API key can have"));
    }
    roles.Add(static_cast<ats::v1::Role>(role));
  }
  if (roles.empty()) {
    return Violation(name,
                     "has an (ats.v1.access) option admitting no role; list "
                     "at least one");
  }
  return roles;
}

// The idempotency key replayed by the server: a singular string field.
bool HasRequestId(const Descriptor& request) {
  const FieldDescriptor* field = request.FindFieldByName("request_id");
  return field != nullptr && !field->is_repeated() &&
         field->type() == FieldDescriptor::TYPE_STRING;
}

}  // namespace

std::string RoleSet::ToString() const {
  std::vector<std::string> names;
  for (int value = ats::v1::Role_MIN; value <= ats::v1::Role_MAX; ++value) {
    if (ats::v1::Role_IsValid(value) &&
        Admits(static_cast<ats::v1::Role>(value))) {
      names.push_back(ats::v1::Role_Name(static_cast<ats::v1::Role>(value)));
    }
  }
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<MethodPolicies> MethodPolicies::FromGeneratedPool() {
  // The generated pool builds files lazily and cannot list them; the
  // database behind it knows every file whose generated code is linked in.
  std::vector<std::string> file_names;
  DescriptorPool::internal_generated_database()->FindAllFileNames(&file_names);
  std::sort(file_names.begin(), file_names.end());
  std::vector<const FileDescriptor*> files;
  for (const std::string& file_name : file_names) {
    const FileDescriptor* file =
        DescriptorPool::generated_pool()->FindFileByName(file_name);
    if (file != nullptr && file->package() == kPackage) files.push_back(file);
  }
  absl::StatusOr<MethodPolicies> policies = FromFiles(files);
  if (policies.ok() && policies->all().empty()) {
    return absl::FailedPreconditionError(
        "no ats.v1 service is linked into this binary, so no RPC has an "
        "access policy");
  }
  return policies;
}

absl::StatusOr<MethodPolicies> MethodPolicies::FromFiles(
    absl::Span<const FileDescriptor* const> files) {
  MethodPolicies policies;
  for (const FileDescriptor* file : files) {
    if (file->package() != kPackage) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      for (int m = 0; m < file->service(s)->method_count(); ++m) {
        const MethodDescriptor& method = *file->service(s)->method(m);
        MethodPolicy policy;
        policy.name =
            absl::StrCat(method.service()->full_name(), "/", method.name());
        policy.method = &method;
        policy.request = method.input_type();

        absl::StatusOr<RoleSet> roles = DeclaredRoles(method, policy.name);
        if (!roles.ok()) return roles.status();
        policy.roles = *roles;

        const MethodOptions::IdempotencyLevel level =
            method.options().idempotency_level();
        policy.read_only = level == MethodOptions::NO_SIDE_EFFECTS;
        policy.idempotent_by_request_id = level == MethodOptions::IDEMPOTENT;
        if (policy.idempotent_by_request_id && !HasRequestId(*policy.request)) {
          return Violation(
              policy.name,
              absl::StrCat("is declared IDEMPOTENT but its request ",
                           policy.request->full_name(),
                           " has no string request_id field, the only way "
                           "the server can tell a retry from a new request"));
        }

        // Handlers find their policy by request type, so it must be unique.
        const size_t index = policies.policies_.size();
        const auto [taken, inserted] =
            policies.by_request_.emplace(policy.request, index);
        if (!inserted) {
          return Violation(
              policy.name,
              absl::StrCat("takes request type ", policy.request->full_name(),
                           " which ", policies.policies_[taken->second].name,
                           " takes too; give each ats.v1 RPC its own "
                           "request message"));
        }
        policies.by_name_.emplace(policy.name, index);
        policies.policies_.push_back(std::move(policy));
      }
    }
  }
  return policies;
}

const MethodPolicy* MethodPolicies::ForRequest(
    const Descriptor& request) const {
  const auto it = by_request_.find(&request);
  return it == by_request_.end() ? nullptr : &policies_[it->second];
}

const MethodPolicy* MethodPolicies::ForName(std::string_view name) const {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);
  // Debian's Abseil has its own string_view, which std's does not convert to.
  const auto it = by_name_.find(absl::string_view(name.data(), name.size()));
  return it == by_name_.end() ? nullptr : &policies_[it->second];
}

}  // namespace ats::server
