# ats_method_policy: each ats.v1 RPC's access policy (admitted roles,
# idempotency) as the protos declare it, read from the generated descriptors.
# Depends only on protobuf, absl and ats_protos. Paths are relative to this
# file, so it can be included from any directory.

add_library(ats_method_policy STATIC
  "${CMAKE_CURRENT_LIST_DIR}/method_policy.cc")
# Headers are included by their path from the repository root,
# e.g. "server/api/method_policy.h".
get_filename_component(ats_method_policy_root "${CMAKE_CURRENT_LIST_DIR}/../.."
                       ABSOLUTE)
target_include_directories(ats_method_policy PUBLIC "${ats_method_policy_root}")
target_link_libraries(ats_method_policy
  PUBLIC
    ats_protos
    protobuf::libprotobuf
    absl::flat_hash_map
    absl::span
    absl::status
    absl::statusor
  PRIVATE
    absl::strings)
