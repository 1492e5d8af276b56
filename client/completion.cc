// completion: shell completion scripts for bash and zsh, generated from the
// command tree itself, so they stay true as commands and flags are added.
//
// Both scripts share one generated function, _ats_admin_spec, which says
// for a command path ("", "jobs", "jobs stages"...) what may follow it:
// subcommands (or a positional argument's choices), options, which options
// take a value; and _ats_admin_values, which values an option takes (FILE
// for file names). Each shell's driver walks the words typed so far with
// them.

#include <algorithm>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/commands.h"

namespace ats::client {
namespace {

// A word and what it does, as zsh shows it.
struct Entry {
  std::string word;
  std::string help;
};

// What may follow one command path.
struct Next {
  std::string path;
  std::vector<Entry> words;         // Subcommands, or a positional's choices.
  std::vector<Entry> options;       // Every name of every option.
  std::vector<std::string> valued;  // The options that take a value.
  // The values of this command's own options that have known ones: "FILE"
  // or the choices, space-separated.
  std::vector<std::pair<std::string, std::string>> values;
};

// The first sentence of `text`, which is enough to tell what it does.
std::string Summary(const std::string& text) {
  const std::string line = text.substr(0, text.find('\n'));
  const size_t stop = line.find(". ");
  return stop == std::string::npos ? line : line.substr(0, stop);
}

// What `option` takes, from its type name: "TEXT:FILE" is "FILE",
// "TEXT:{table,json,yaml}" is "table json yaml"; otherwise "".
std::string ValuesOf(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  if (absl::StrContains(type, "FILE")) return "FILE";
  const size_t open = type.find('{');
  const size_t close = type.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return absl::StrReplaceAll(type.substr(open + 1, close - open - 1),
                             {{",", " "}});
}

// Adds `app`'s options to `next`; with `own`, also their values (the
// root's, which every command accepts, are matched for any path).
void AddOptions(const CLI::App& app, bool own, Next* next) {
  for (const CLI::Option* option : app.get_options()) {
    const std::string help = Summary(option->get_description());
    if (option->get_positional()) {
      // Choices are words; for anything else, file names included, the
      // shell's own completion stands in.
      const std::string values = ValuesOf(*option);
      if (values == "FILE") continue;
      for (absl::string_view choice :
           absl::StrSplit(values, ' ', absl::SkipEmpty())) {
        next->words.push_back({std::string(choice), help});
      }
      continue;
    }
    std::vector<std::string> names;
    for (const std::string& name : option->get_snames()) {
      names.push_back("-" + name);
    }
    for (const std::string& name : option->get_lnames()) {
      names.push_back("--" + name);
    }
    for (const std::string& name : names) {
      const bool known = std::any_of(
          next->options.begin(), next->options.end(),
          [&name](const Entry& entry) { return entry.word == name; });
      if (known) continue;  // --help, of the command and of the root.
      next->options.push_back({name, help});
      // Flags take no value.
      if (option->get_expected_max() == 0) continue;
      next->valued.push_back(name);
      const std::string values = ValuesOf(*option);
      if (own && !values.empty()) next->values.push_back({name, values});
    }
  }
}

// Adds `app` (at `path`) and every command below it to `tree`, root first.
void Collect(CLI::App& app, const CLI::App& root, const std::string& path,
             std::vector<Next>* tree) {
  Next next;
  next.path = path;
  const std::vector<CLI::App*> commands = app.get_subcommands({});
  for (const CLI::App* command : commands) {
    next.words.push_back(
        {command->get_name(), Summary(command->get_description())});
  }
  AddOptions(app, /*own=*/true, &next);
  if (&app != &root) AddOptions(root, /*own=*/false, &next);
  tree->push_back(std::move(next));
  for (CLI::App* command : commands) {
    Collect(*command, root,
            path.empty() ? command->get_name()
                         : absl::StrCat(path, " ", command->get_name()),
            tree);
  }
}

// `text` in single quotes, for any shell.
std::string Quoted(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "'\\''"}}), "'");
}

std::string ArrayOf(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(Quoted(item));
  return absl::StrCat("(", absl::StrJoin(quoted, " "), ")");
}

std::string ArrayOf(const std::vector<Entry>& entries, bool with_help) {
  std::vector<std::string> items;
  for (const Entry& entry : entries) {
    items.push_back(with_help ? absl::StrCat(entry.word, ":", entry.help)
                              : entry.word);
  }
  return ArrayOf(items);
}

// The two functions both shells' drivers use; with `with_help`, the spec
// also sets _aa_word_help and _aa_option_help ("word:what it does").
std::string SpecFunctions(const std::vector<Next>& tree, bool with_help) {
  std::string script =
      "# Sets _aa_words, _aa_options and _aa_valued to what may follow the\n"
      "# command path $1.\n"
      "_ats_admin_spec() {\n  case \"$1\" in\n";
  for (const Next& next : tree) {
    absl::StrAppend(&script, "    ", Quoted(next.path), ")\n",
                    "      _aa_words=", ArrayOf(next.words, false), "\n",
                    "      _aa_options=", ArrayOf(next.options, false), "\n",
                    "      _aa_valued=", ArrayOf(next.valued), "\n");
    if (with_help) {
      absl::StrAppend(
          &script, "      _aa_word_help=", ArrayOf(next.words, true), "\n",
          "      _aa_option_help=", ArrayOf(next.options, true), "\n");
    }
    absl::StrAppend(&script, "      ;;\n");
  }
  absl::StrAppend(&script,
                  "    *)\n      _aa_words=() _aa_options=() _aa_valued=()",
                  with_help ? " _aa_word_help=() _aa_option_help=()" : "",
                  "\n      ;;\n  esac\n}\n\n",
                  "# Prints what option $2 of command path $1 takes: FILE, or "
                  "its choices.\n_ats_admin_values() {\n  case \"$1|$2\" in\n");
  // A command's own options first: they shadow the root's.
  for (const Next& next : tree) {
    if (next.path.empty()) continue;
    for (const auto& [option, values] : next.values) {
      absl::StrAppend(&script, "    ", Quoted(next.path + "|" + option),
                      ") echo ", Quoted(values), " ;;\n");
    }
  }
  for (const auto& [option, values] : tree.front().values) {
    absl::StrAppend(&script, "    *", Quoted("|" + option), ") echo ",
                    Quoted(values), " ;;\n");
  }
  absl::StrAppend(&script, "  esac\n}\n");
  return script;
}

constexpr char kBashDriver[] = R"sh(
# True when $1 is one of the other arguments.
_ats_admin_in() {
  local word=$1 item
  shift
  for item; do [[ $item == "$word" ]] && return 0; done
  return 1
}

_ats_admin() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local command="" word values i
  local -a _aa_words _aa_options _aa_valued
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    _ats_admin_spec "$command"
    if _ats_admin_in "$word" "${_aa_valued[@]}"; then
      ((i++))
    elif _ats_admin_in "$word" "${_aa_words[@]}"; then
      command=${command:+$command }$word
    fi
  done
  _ats_admin_spec "$command"
  if ((COMP_CWORD > 1)) && _ats_admin_in "$prev" "${_aa_valued[@]}"; then
    values=$(_ats_admin_values "$command" "$prev")
    if [[ $values == FILE ]]; then
      compopt -o filenames 2>/dev/null
      COMPREPLY=($(compgen -f -- "$cur"))
    else
      # A value such as a server address: no guesses, file names neither.
      compopt +o default 2>/dev/null
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    fi
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "${_aa_options[*]}" -- "$cur"))
  else
    # None for a command's arguments: bash completes file names instead.
    COMPREPLY=($(compgen -W "${_aa_words[*]}" -- "$cur"))
  fi
}

complete -o default -F _ats_admin ats-admin
)sh";

constexpr char kZshDriver[] = R"sh(
_ats_admin() {
  local command="" word values i
  local -a _aa_words _aa_options _aa_valued _aa_word_help _aa_option_help
  for ((i = 2; i < CURRENT; i++)); do
    word=${words[i]}
    _ats_admin_spec "$command"
    if (( ${_aa_valued[(Ie)$word]} )); then
      ((i++))
    elif (( ${_aa_words[(Ie)$word]} )); then
      command=${command:+$command }$word
    fi
  done
  _ats_admin_spec "$command"
  if (( CURRENT > 2 && ${_aa_valued[(Ie)${words[CURRENT-1]}]} )); then
    values=$(_ats_admin_values "$command" "${words[CURRENT-1]}")
    if [[ $values == FILE ]]; then
      _files
    else
      compadd -- ${=values}
    fi
  elif [[ $PREFIX == -* ]]; then
    _describe -t options 'option' _aa_option_help
  elif (( ${#_aa_words} )); then
    _describe -t commands 'command' _aa_word_help
  else
    _files
  fi
}

if [[ ${funcstack[1]} == _ats_admin ]]; then
  _ats_admin "$@"
else
  compdef _ats_admin ats-admin
fi
)sh";

std::string Script(CLI::App& root, const std::string& shell) {
  std::vector<Next> tree;
  Collect(root, root, "", &tree);
  const bool zsh = shell == "zsh";
  return absl::StrCat(
      zsh ? "#compdef ats-admin\n" : "", "# ", shell,
      " completion for ats-admin, generated by `ats-admin "
      "completion ",
      shell, "`.\n",
      zsh ? "# Load it with: source <(ats-admin completion zsh) (after "
            "compinit),\n# or save it as _ats_admin in a directory of "
            "$fpath.\n"
          : "# Load it with: source <(ats-admin completion bash), or save "
            "it as\n# ~/.local/share/bash-completion/completions/"
            "ats-admin.\n",
      "\n", SpecFunctions(tree, zsh), zsh ? kZshDriver : kBashDriver);
}

}  // namespace

void AddCompletionCommand(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  auto* completion = AddCommand(
      app, "completion",
      "Print a completion script for bash or zsh, generated from the "
      "commands and flags",
      "ats-admin completion bash > "
      "~/.local/share/bash-completion/completions/ats-admin\n"
      "  source <(ats-admin completion bash)\n"
      "  ats-admin completion zsh > \"${fpath[1]}/_ats_admin\"");
  completion->add_option("shell", *shell, "bash or zsh")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  completion->callback([&app, shell] { std::cout << Script(app, *shell); });
}

}  // namespace ats::client
