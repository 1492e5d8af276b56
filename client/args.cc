#include "client/args.h"

#include <fstream>
#include <sstream>

#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"
#include "server/contract/timestamps.h"

namespace ats::client {

std::string Qualified(const std::string& collection, const std::string& id) {
  if (id.find('/') != std::string::npos) return id;
  return collection + "/" + id;
}

void PutKeyValues(const std::vector<std::string>& words,
                  const std::string& flag,
                  google::protobuf::Map<std::string, std::string>* map) {
  for (const std::string& word : words) {
    const size_t equals = word.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw UsageError(flag + ": \"" + word + "\" is not key=value");
    }
    (*map)[word.substr(0, equals)] = word.substr(equals + 1);
  }
}

void ReadJsonFile(const std::string& path, google::protobuf::Message* message) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read " + path);
  std::stringstream json;
  json << in.rdbuf();
  const auto status =
      google::protobuf::util::JsonStringToMessage(json.str(), message);
  if (!status.ok()) {
    throw UsageError(path + " is not a " +
                     message->GetDescriptor()->full_name() +
                     " in JSON: " + std::string(status.message()));
  }
}

google::protobuf::Duration ParseDuration(const std::string& text) {
  absl::Duration duration;
  if (!absl::ParseDuration(text, &duration)) {
    throw UsageError("\"" + text + "\" is not a duration such as 90s or 2h");
  }
  return server::ToProtoDuration(duration);
}

google::protobuf::Timestamp ParseTime(const std::string& text,
                                      const std::string& flag) {
  google::protobuf::Timestamp time;
  if (!google::protobuf::util::TimeUtil::FromString(text, &time)) {
    throw UsageError(flag + ": \"" + text +
                     "\" is not an RFC 3339 time such as "
                     "2026-12-01T00:00:00Z");
  }
  return time;
}

}  // namespace ats::client
