# ats_server_common: what every RPC handler shares: rich errors, request
# validation, page tokens, etags, the injectable clock and randomness,
# Standard Webhooks signing, and the policy on webhook destinations.
# Included from server/CMakeLists.txt; paths are relative to this file so the
# include works from any directory.

add_library(ats_server_common STATIC
  "${CMAKE_CURRENT_LIST_DIR}/clock.cc"
  "${CMAKE_CURRENT_LIST_DIR}/destination_guard.cc"
  "${CMAKE_CURRENT_LIST_DIR}/errors.cc"
  "${CMAKE_CURRENT_LIST_DIR}/page_token.cc"
  "${CMAKE_CURRENT_LIST_DIR}/random.cc"
  "${CMAKE_CURRENT_LIST_DIR}/validation.cc"
  "${CMAKE_CURRENT_LIST_DIR}/webhook_signature.cc")
# Headers are included by their path from the repository root,
# e.g. "server/errors.h".
get_filename_component(ats_repository_root "${CMAKE_CURRENT_LIST_DIR}/.."
                       ABSOLUTE)
target_include_directories(ats_server_common PUBLIC "${ats_repository_root}")
target_link_libraries(ats_server_common
  PUBLIC
    ats_protos
    absl::status
    absl::statusor
    absl::strings
    absl::cord
    absl::time
    absl::synchronization
    gRPC::grpc++
  PRIVATE
    OpenSSL::Crypto)
