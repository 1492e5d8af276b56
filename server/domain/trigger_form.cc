#include "server/domain/trigger_form.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "server/common/validation.h"
#include "server/contract/errors.h"
#include "server/domain/field_paths.h"

namespace ats::server {
namespace {

using ats::v1::TriggerForm;
using ats::v1::TriggerFormField;
using ats::v1::TriggerFormOption;

// Limits documented on ats.v1.TriggerFormField and TriggerFormOption.
constexpr size_t kMaxLabelLength = 200;
constexpr size_t kMaxDescriptionLength = 2000;
constexpr int kMaxOptionGroups = 20;
constexpr size_t kMaxValueLength = 256;
// How many of a form's faults its error quotes.
constexpr size_t kFaultsShown = 5;

constexpr char kSelect[] = "select";
constexpr char kMultiSelect[] = "multi_select";
constexpr char kText[] = "text";
constexpr char kNumber[] = "number";
constexpr char kCheckbox[] = "checkbox";

bool HasChoices(const TriggerFormField& field) {
  return field.type() == kSelect || field.type() == kMultiSelect;
}

// Calls `visit` on every choice of `field`, ungrouped ones first.
template <typename Visit>
void ForEachOption(const TriggerFormField& field, Visit visit) {
  for (const TriggerFormOption& option : field.options()) visit(option);
  for (const auto& group : field.option_groups()) {
    for (const TriggerFormOption& option : group.options()) visit(option);
  }
}

// The longest value a text field takes.
size_t MaxTextLength(const TriggerFormField& field) {
  return field.max_length() == 0 ? kMaxValueLength
                                 : static_cast<size_t>(field.max_length());
}

// Records what is wrong with the choices of `field`, at `path`.
void CheckChoices(Validator& v, const std::string& path,
                  const TriggerFormField& field) {
  v.Require(field.option_groups_size() <= kMaxOptionGroups,
            path + ".option_groups",
            absl::StrCat("must have at most ", kMaxOptionGroups, " entries"));
  for (int g = 0; g < field.option_groups_size(); ++g) {
    const std::string group = absl::StrCat(path, ".option_groups[", g, "]");
    v.Length(group + ".label", field.option_groups(g).label(), 1,
             kMaxLabelLength);
    v.Require(field.option_groups(g).options_size() > 0, group + ".options",
              "must have at least one option");
  }
  int count = 0;
  std::set<std::string> values;
  ForEachOption(field, [&](const TriggerFormOption& option) {
    ++count;
    if (count > kMaxTriggerFormOptions) return;
    const std::string at = absl::StrCat(path, " option \"",
                                        absl::CHexEscape(option.value()), "\"");
    if (!v.Length(at, option.value(), 1, kMaxValueLength)) return;
    v.Length(at + " label", option.label(), 0, kMaxLabelLength);
    v.Require(values.insert(option.value()).second, at,
              "is listed twice; option values must be unique in a field");
    v.Require(field.type() != kMultiSelect ||
                  option.value().find(',') == std::string::npos,
              at, "contains a comma, which separates multi_select values");
  });
  v.Require(count > 0, path + ".options", "must have at least one option");
  v.Require(count <= kMaxTriggerFormOptions, path + ".options",
            absl::StrCat("must have at most ", kMaxTriggerFormOptions,
                         " options in all, has ", count));
}

// Records what is wrong with `field` of a form, at `path` ("fields[2]").
void CheckField(Validator& v, const std::string& path,
                const TriggerFormField& field) {
  v.Key(path + ".key", field.key());
  v.Length(path + ".label", field.label(), 1, kMaxLabelLength);
  v.MultilineLength(path + ".description", field.description(), 0,
                    kMaxDescriptionLength);
  const std::string& type = field.type();
  if (!v.Require(type == kSelect || type == kMultiSelect || type == kText ||
                     type == kNumber || type == kCheckbox,
                 path + ".type",
                 absl::StrCat("\"", absl::CHexEscape(type),
                              "\" is no field type; one of select, "
                              "multi_select, text, number, checkbox"))) {
    return;
  }
  if (HasChoices(field)) {
    CheckChoices(v, path, field);
  } else {
    v.Require(field.options().empty() && field.option_groups().empty(),
              path + ".options",
              absl::StrCat("are only for select and multi_select, not ", type));
  }
  v.Require(type == kText || field.max_length() == 0, path + ".max_length",
            absl::StrCat("is only for text, not ", type));
  v.Require(field.max_length() >= 0 &&
                field.max_length() <= static_cast<int>(kMaxValueLength),
            path + ".max_length",
            absl::StrCat("must be 0 to ", kMaxValueLength));
  v.Require(type == kNumber || (!field.has_min() && !field.has_max()),
            path + ".min",
            absl::StrCat("min and max are only for number, not ", type));
  v.Require(!field.has_min() || !field.has_max() ||
                field.min().value() <= field.max().value(),
            path + ".max", "must not be less than min");
}

// Returns whether `text` is a plain decimal number: an optional '-', digits,
// and optionally '.' and more digits; no exponent, spaces, inf or nan.
bool IsDecimal(std::string_view text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') ++i;
  const size_t whole = i;
  while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
  if (i == whole) return false;
  if (i == text.size()) return true;
  if (text[i] != '.') return false;
  const size_t fraction = ++i;
  while (i < text.size() && absl::ascii_isdigit(text[i])) ++i;
  return i > fraction && i == text.size();
}

// Returns what is wrong with `value` for `field`, or "" when it fits.
std::string Misfit(const TriggerFormField& field, const std::string& value) {
  std::set<std::string> allowed;
  ForEachOption(field, [&](const TriggerFormOption& option) {
    allowed.insert(option.value());
  });
  auto choices = [&] {
    std::vector<std::string> listed;
    ForEachOption(field, [&](const TriggerFormOption& option) {
      listed.push_back(option.value());
    });
    return absl::StrJoin(listed, ", ");
  };
  const std::string& type = field.type();
  if (type == kSelect) {
    if (value.empty() || allowed.count(value) > 0) return "";
    return absl::StrCat("must be one of: ", choices());
  }
  if (type == kMultiSelect) {
    if (value.empty()) return "";
    std::set<std::string> seen;
    const std::vector<std::string> parts = absl::StrSplit(value, ',');
    for (const std::string& part : parts) {
      if (allowed.count(part) == 0) {
        return absl::StrCat("\"", absl::CHexEscape(part),
                            "\" is not a choice; give comma-separated values "
                            "of: ",
                            choices());
      }
      if (!seen.insert(part).second) {
        return absl::StrCat("lists \"", part, "\" twice");
      }
    }
    return "";
  }
  if (type == kText) {
    Validator length;
    if (length.Length("", value, 0, MaxTextLength(field))) return "";
    return length.violations()[0].description;
  }
  if (type == kNumber) {
    if (value.empty()) return "";
    double number = 0;
    if (!IsDecimal(value) || !absl::SimpleAtod(value, &number)) {
      return "must be a decimal number, such as 42 or -1.5";
    }
    if (field.has_min() && number < field.min().value()) {
      return absl::StrCat("must be at least ", field.min().value());
    }
    if (field.has_max() && number > field.max().value()) {
      return absl::StrCat("must be at most ", field.max().value());
    }
    return "";
  }
  if (value == "true" || value == "false") return "";
  return "must be \"true\" or \"false\"";
}

// Says which keys the form does accept, so the client can fix the call.
std::string KnownFields(const TriggerForm& form, const std::string& partner) {
  if (form.fields().empty()) {
    return absl::StrCat("partner \"", partner, "\" has no trigger options");
  }
  std::vector<std::string> keys;
  for (const TriggerFormField& field : form.fields()) {
    keys.push_back(field.key());
  }
  return absl::StrCat("the options of partner \"", partner,
                      "\" are: ", absl::StrJoin(keys, ", "));
}

const TriggerFormField* FindField(const TriggerForm& form,
                                  const std::string& key) {
  for (const TriggerFormField& field : form.fields()) {
    if (field.key() == key) return &field;
  }
  return nullptr;
}

}  // namespace

absl::Status TriggerFormUnusable(const std::string& partner,
                                 const std::string& why) {
  return WithErrorInfo(
      absl::FailedPreconditionError(absl::StrCat(
          "partner \"", partner, "\" served no usable trigger form: ", why)),
      kTriggerFormUnusable, {{"partner", partner}});
}

absl::StatusOr<TriggerForm> ParseTriggerForm(std::string_view json,
                                             const std::string& partner) {
  if (json.size() > kMaxTriggerFormBytes) {
    return TriggerFormUnusable(
        partner, absl::StrCat("it is over ", kMaxTriggerFormBytes, " bytes"));
  }
  TriggerForm form;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      std::string(json), &form, options);
  if (!parsed.ok()) {
    // The parser's message goes on with lines quoting the input.
    const std::string message(parsed.message());
    return TriggerFormUnusable(
        partner, absl::StrCat("it is not the JSON of an ats.v1.TriggerForm: ",
                              message.substr(0, message.find('\n'))));
  }
  Validator v;
  if (v.Require(form.fields_size() <= kMaxTriggerFormFields, "fields",
                absl::StrCat("must have at most ", kMaxTriggerFormFields,
                             " entries, has ", form.fields_size()))) {
    std::set<std::string> keys;
    for (int i = 0; i < form.fields_size(); ++i) {
      const std::string path = absl::StrCat("fields[", i, "]");
      CheckField(v, path, form.fields(i));
      v.Require(
          keys.insert(form.fields(i).key()).second, path + ".key",
          absl::StrCat("repeats key \"", absl::CHexEscape(form.fields(i).key()),
                       "\"; keys must be unique in the form"));
    }
  }
  if (v.ok()) return form;
  std::vector<std::string> faults;
  for (const FieldViolation& violation : v.violations()) {
    if (faults.size() == kFaultsShown) {
      faults.push_back("...");
      break;
    }
    faults.push_back(
        absl::StrCat(violation.field, ": ", violation.description));
  }
  return TriggerFormUnusable(partner, absl::StrJoin(faults, "; "));
}

TriggerForm StaticTriggerForm(const ats::v1::Partner& listing) {
  TriggerForm form;
  for (const ats::v1::TriggerOption& option : listing.trigger_options()) {
    TriggerFormField* field = form.add_fields();
    field->set_key(option.key());
    field->set_label(option.display_name());
    field->set_description(option.description());
    field->set_required(option.required());
    if (option.allowed_values().empty()) {
      field->set_type(kText);
      continue;
    }
    field->set_type(kSelect);
    for (const std::string& value : option.allowed_values()) {
      TriggerFormOption* choice = field->add_options();
      choice->set_value(value);
      choice->set_label(value);
    }
  }
  return form;
}

absl::Status CheckFormValues(
    const TriggerForm& form, const std::string& partner,
    const google::protobuf::Map<std::string, std::string>& values,
    const std::string& field) {
  const std::string values_field =
      field.empty() ? "option_values" : field + ".option_values";
  Validator v;
  const std::map<std::string, std::string> sorted(values.begin(), values.end());
  for (const auto& [key, value] : sorted) {
    const std::string entry = Entry(values_field, key);
    const TriggerFormField* known = FindField(form, key);
    if (known == nullptr) {
      v.Require(false, entry,
                absl::StrCat("is not a trigger option; ",
                             KnownFields(form, partner)));
      continue;
    }
    if (!v.Length(entry, value, 0, kMaxValueLength)) continue;
    if (known->required() && value.empty() && known->type() != kCheckbox) {
      v.Require(false, entry,
                absl::StrCat("is required by partner \"", partner,
                             "\" and must not be empty"));
      continue;
    }
    const std::string misfit = Misfit(*known, value);
    v.Require(misfit.empty(), entry, misfit);
  }
  for (const TriggerFormField& known : form.fields()) {
    if (!known.required() || sorted.count(known.key()) > 0) continue;
    std::string description = absl::StrCat("is required by partner \"", partner,
                                           "\" (", known.label(), ")");
    if (HasChoices(known)) {
      std::vector<std::string> listed;
      ForEachOption(known, [&](const TriggerFormOption& option) {
        listed.push_back(option.value());
      });
      absl::StrAppend(&description, "; one of: ", absl::StrJoin(listed, ", "));
    }
    v.Require(false, Entry(values_field, known.key()), description);
  }
  return v.status();
}

}  // namespace ats::server
