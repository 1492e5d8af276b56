#include "client/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/errors.h"
#include "client/output.h"
#include "yaml-cpp/yaml.h"

namespace ats::client {
namespace {

namespace fs = std::filesystem;

// The environment variable `name`, or "" when it is unset.
std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// A UsageError naming the file and the line of `node`.
UsageError Invalid(const std::string& path, const YAML::Node& node,
                   const std::string& what) {
  return UsageError(absl::StrCat(path, ":", node.Mark().line + 1, ": ", what));
}

// Throws unless `node` is a map whose keys are all among `known`.
void CheckKeys(const std::string& path, const YAML::Node& node,
               const std::set<std::string>& known, const std::string& what) {
  if (!node.IsMap()) throw Invalid(path, node, what + " is not a map");
  for (const auto& entry : node) {
    const std::string& key = entry.first.Scalar();  // "" unless scalar.
    if (known.count(key) == 0) {
      throw Invalid(
          path, entry.first,
          absl::StrCat("unknown key \"", key, "\" in ", what, " (expected ",
                       absl::StrJoin(known, ", "), ")"));
    }
  }
}

// The string at `key` of `node`, or "".
std::string StringAt(const std::string& path, const YAML::Node& node,
                     const char* key) {
  const YAML::Node value = node[key];
  if (!value) return "";
  if (!value.IsScalar()) {
    throw Invalid(path, value, absl::StrCat(key, " is not a string"));
  }
  return value.Scalar();
}

Context ParseContext(const std::string& path, const YAML::Node& node) {
  CheckKeys(path, node, {"name", "server", "key-file", "tls", "ca-cert"},
            "a context");
  Context context;
  context.server = StringAt(path, node, "server");
  context.key_file = StringAt(path, node, "key-file");
  context.ca_cert = StringAt(path, node, "ca-cert");
  if (const YAML::Node tls = node["tls"]) {
    if (!YAML::convert<bool>::decode(tls, context.tls)) {
      throw Invalid(path, tls, "tls is not true or false");
    }
  }
  return context;
}

// Writes `contents` to a new file beside `target` and renames it over
// `target`, syncing both the file and the directory.
void ReplaceFile(const fs::path& target, const std::string& contents) {
  const fs::path dir =
      target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code made;
  {
    // Directories made here are the user's only.
    const mode_t previous = ::umask(077);
    fs::create_directories(dir, made);
    ::umask(previous);
  }
  if (made) {
    throw CommandError(kExitOther, absl::StrCat("cannot create ", dir.string(),
                                                ": ", made.message()));
  }
  std::string temp = target.string() + ".XXXXXX";
  const int fd = ::mkstemp(temp.data());  // Mode 0600.
  if (fd < 0) {
    throw CommandError(kExitOther, absl::StrCat("cannot write ", temp, ": ",
                                                std::strerror(errno)));
  }
  const bool written = ::write(fd, contents.data(), contents.size()) ==
                           static_cast<ssize_t>(contents.size()) &&
                       ::fsync(fd) == 0;
  const int write_errno = errno;
  ::close(fd);
  if (!written || ::rename(temp.c_str(), target.c_str()) != 0) {
    const int error = written ? errno : write_errno;
    ::unlink(temp.c_str());
    throw CommandError(kExitOther,
                       absl::StrCat("cannot write ", target.string(), ": ",
                                    std::strerror(error)));
  }
  // The rename lasts once the directory's entry is on disk.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace

std::string ConfigPath() {
  if (const std::string path = Env("ATS_ADMIN_CONFIG"); !path.empty()) {
    return path;
  }
  std::string base = Env("XDG_CONFIG_HOME");
  if (base.empty()) {
    const std::string home = Env("HOME");
    if (home.empty()) return "";
    base = home + "/.config";
  }
  return base + "/ats-admin/config.yaml";
}

Config LoadConfig(const std::string& path) {
  std::error_code missing;
  if (path.empty() || !fs::exists(path, missing)) return {};
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw UsageError("cannot read " + path);
  } catch (const YAML::Exception& error) {
    throw UsageError(absl::StrCat(path, ":", error.mark.line + 1,
                                  ": not YAML: ", error.msg));
  }
  Config config;
  if (root.IsNull()) return config;  // An empty file.
  CheckKeys(path, root, {"current-context", "contexts"}, "the file");
  config.current_context = StringAt(path, root, "current-context");
  if (const YAML::Node contexts = root["contexts"]) {
    if (!contexts.IsSequence()) {
      throw Invalid(path, contexts, "contexts is not a list");
    }
    for (const YAML::Node& node : contexts) {
      const std::string name = node.IsMap() ? StringAt(path, node, "name") : "";
      if (name.empty()) throw Invalid(path, node, "a context has no name");
      if (!config.contexts.emplace(name, ParseContext(path, node)).second) {
        throw Invalid(path, node, "two contexts are named " + name);
      }
    }
  }
  return config;
}

const Context& FindContext(const Config& config, const std::string& name,
                           const std::string& path) {
  const auto found = config.contexts.find(name);
  if (found != config.contexts.end()) return found->second;
  throw CommandError(
      kExitNotFound,
      path.empty()
          ? "no context \"" + name +
                "\": no configuration file (set ATS_ADMIN_CONFIG or HOME)"
          : "no context \"" + name + "\" in " + path +
                " (ats-admin config get-contexts lists them)");
}

YAML::Node ConfigDocument(const Config& config) {
  YAML::Node document(YAML::NodeType::Map);
  if (!config.current_context.empty()) {
    document["current-context"] = Text(config.current_context);
  }
  YAML::Node contexts(YAML::NodeType::Sequence);
  for (const auto& [name, context] : config.contexts) {
    YAML::Node entry(YAML::NodeType::Map);
    entry["name"] = Text(name);
    const std::pair<const char*, const std::string*> fields[] = {
        {"server", &context.server},
        {"key-file", &context.key_file},
        {"ca-cert", &context.ca_cert}};
    for (const auto& [key, value] : fields) {
      if (!value->empty()) entry[key] = Text(*value);
    }
    if (context.tls) entry["tls"] = true;
    contexts.push_back(entry);
  }
  document["contexts"] = contexts;
  return document;
}

void SaveConfig(const std::string& path, const Config& config) {
  fs::path target(path);
  std::error_code not_a_link;
  if (fs::is_symlink(target, not_a_link)) {
    target = fs::weakly_canonical(target, not_a_link);
  }
  ReplaceFile(target, YamlOf(ConfigDocument(config)));
}

}  // namespace ats::client
