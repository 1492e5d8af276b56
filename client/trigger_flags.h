// The flags that describe a stage trigger, shared by `jobs triggers add` and
// `templates edit --add-trigger`.
#ifndef ATS_CLIENT_TRIGGER_FLAGS_H_
#define ATS_CLIENT_TRIGGER_FLAGS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "ats/v1/pipeline.pb.h"

namespace ats::client {

class TriggerFlags {
 public:
  // Adds --integration, --option, --rule, --tag, --webhook, --field and
  // --delay to `command`; the three actions exclude one another.
  void AddTo(CLI::App* command);

  // Whether any action flag was given.
  bool HasAction() const;

  // The trigger the flags describe; throws UsageError without an action.
  ats::v1::Trigger Build() const;

 private:
  std::string integration_;
  std::vector<std::string> options_;
  std::vector<std::string> rules_;
  std::string tag_;
  std::string webhook_;
  std::vector<std::string> fields_;
  std::string delay_;
};

// Adds the repeatable `--option key=value` flag (a partner's trigger
// options) to `command`.
CLI::Option* AddOptionValuesFlag(CLI::App* command,
                                 std::vector<std::string>* words);

}  // namespace ats::client

#endif  // ATS_CLIENT_TRIGGER_FLAGS_H_
