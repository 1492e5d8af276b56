# method_policy_test: the access policies declared in the protos, read by
# ats_method_policy. Needs ats_method_policy (server/api/method_policy.cmake);
# paths are relative to this file.

# Also here, not only in tests/CMakeLists.txt: gtest_discover_tests finds its
# helper script through a variable this sets in the including directory.
include(GoogleTest)

add_executable(method_policy_test
  "${CMAKE_CURRENT_LIST_DIR}/method_policy_test.cc")
target_link_libraries(method_policy_test
  PRIVATE ats_method_policy GTest::gtest_main)
gtest_discover_tests(method_policy_test DISCOVERY_TIMEOUT 60)
