#ifndef ATS_SERVER_API_METHOD_POLICY_H_
#define ATS_SERVER_API_METHOD_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ats/v1/access.pb.h"
#include "google/protobuf/descriptor.h"

namespace ats::server {

// The roles one RPC admits, as its (ats.v1.access) option lists them.
// A small value type: copy it freely.
class RoleSet {
 public:
  // The empty set, which admits nobody.
  RoleSet() = default;

  // Adds `role` to the set.
  void Add(ats::v1::Role role) { mask_ |= Bit(role); }

  // Returns whether a key of `role` may call the RPC.
  bool Admits(ats::v1::Role role) const { return (mask_ & Bit(role)) != 0; }

  // Returns whether the set admits nobody.
  bool empty() const { return mask_ == 0; }

  // Returns the roles' enum names, e.g. "ROLE_ADMIN, ROLE_RECRUITER", for
  // logs and error messages.
  std::string ToString() const;

  friend bool operator==(RoleSet a, RoleSet b) { return a.mask_ == b.mask_; }
  friend bool operator!=(RoleSet a, RoleSet b) { return !(a == b); }

 private:
  // Role values are small (0 to 4), so one bit each fits; a value outside
  // the mask's width maps to no bit and is never admitted.
  static uint32_t Bit(ats::v1::Role role) {
    const int value = static_cast<int>(role);
    return value >= 0 && value < 32 ? uint32_t{1} << value : 0;
  }

  uint32_t mask_ = 0;
};

// What the protos declare about one ats.v1 RPC.
struct MethodPolicy {
  // "ats.v1.JobService/MoveCandidate": the gRPC path without its leading "/",
  // as logs name RPCs.
  std::string name;
  // The RPC; points into the descriptor pool, which outlives the policy.
  const google::protobuf::MethodDescriptor* method = nullptr;
  // The RPC's request message type, which no other ats.v1 RPC shares.
  const google::protobuf::Descriptor* request = nullptr;
  // The roles whose keys may call the RPC; never empty.
  RoleSet roles;
  // Declared idempotency_level = NO_SIDE_EFFECTS: the RPC only reads.
  bool read_only = false;
  // Declared idempotency_level = IDEMPOTENT: a retry carrying the same
  // string `request_id` replays the first result instead of acting again.
  bool idempotent_by_request_id = false;
};

// The policy of every RPC of every ats.v1 service, built once at start from
// the descriptors and read-only afterwards, so thread-safe to share.
class MethodPolicies {
 public:
  // Returns the policies of the ats.v1 services compiled into this binary
  // (those whose generated code is linked in, as every served service's is);
  // an error if the protos break a rule that FromFiles checks, or if no
  // ats.v1 service is linked in.
  static absl::StatusOr<MethodPolicies> FromGeneratedPool();

  // Returns the policies of the services of package ats.v1 in `files`, other
  // packages' services being ignored; an error naming the RPC if one has no
  // (ats.v1.access) option, admits no role or ROLE_UNSPECIFIED, shares its
  // request type with another RPC, or is IDEMPOTENT without a singular string
  // `request_id` field in its request.
  static absl::StatusOr<MethodPolicies> FromFiles(
      absl::Span<const google::protobuf::FileDescriptor* const> files);

  // Returns the policy of the RPC whose request type is `request` (e.g. a
  // handler's `request->GetDescriptor()`), or null if no ats.v1 RPC takes it.
  const MethodPolicy* ForRequest(
      const google::protobuf::Descriptor& request) const;

  // Returns the policy of the RPC named `name`, either as in
  // MethodPolicy::name or as a gRPC path with a leading "/"
  // ("/ats.v1.JobService/MoveCandidate", as interceptors see it), or null.
  const MethodPolicy* ForName(std::string_view name) const;

  // Returns every policy, by file, then service, then method in declaration
  // order.
  const std::vector<MethodPolicy>& all() const { return policies_; }

 private:
  MethodPolicies() = default;

  std::vector<MethodPolicy> policies_;
  // Indexes into policies_, which stay valid when the object moves.
  absl::flat_hash_map<const google::protobuf::Descriptor*, size_t> by_request_;
  absl::flat_hash_map<std::string, size_t> by_name_;
};

}  // namespace ats::server

#endif  // ATS_SERVER_API_METHOD_POLICY_H_
