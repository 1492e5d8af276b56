// RapidCheck properties run under GoogleTest: a few cases by default, since
// each case drives a real server, and uniform picks whatever the case size.
#ifndef ATS_TESTS_SUPPORT_PROPERTY_H_
#define ATS_TESTS_SUPPORT_PROPERTY_H_

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "rapidcheck.h"

namespace ats::testing {

// A value of [lo, hi), uniform whatever the size of the current case
// (rapidcheck otherwise keeps early cases near `lo`).
inline int Pick(int lo, int hi) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange(lo, hi));
}

// Checks `property` on `cases` cases (RC_PARAMS's max_success, when set,
// wins), printing RapidCheck's report and failing the current test with it
// when a case fails. `id` names the property in the report.
template <typename Property>
void CheckProperty(const std::string& id, int cases, Property property) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  const char* configured = std::getenv("RC_PARAMS");
  if (configured == nullptr ||
      std::string(configured).find("max_success") == std::string::npos) {
    params.maxSuccess = cases;
  }
  rc::detail::TestMetadata metadata;
  metadata.id = id;
  const rc::detail::TestResult result =
      rc::detail::checkTestable(property, metadata, params);
  std::ostringstream message;
  rc::detail::printResultMessage(result, message);
  std::cout << message.str() << std::endl;
  EXPECT_TRUE(result.template is<rc::detail::SuccessResult>()) << message.str();
}

}  // namespace ats::testing

#endif  // ATS_TESTS_SUPPORT_PROPERTY_H_
