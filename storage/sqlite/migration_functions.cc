#include "storage/sqlite/migration_functions.h"

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/base/casts.h"
#include "ats/v1/partner_event.pb.h"
#include "ats/v1/pipeline.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "ats/v1/template_service.pb.h"
#include "storage/delivery_destination.h"

namespace ats::storage::sqlite {
namespace {

// What a webhook received before webhook triggers declared their fields:
// every candidate field there was. Fixed here, not read from the enum, so
// a field added later is not granted to old triggers by a late upgrade.
constexpr ats::v1::CandidateField kFieldsBeforeDeclarations[] = {
    ats::v1::CANDIDATE_FIELD_GIVEN_NAME, ats::v1::CANDIDATE_FIELD_FAMILY_NAME,
    ats::v1::CANDIDATE_FIELD_EMAIL, ats::v1::CANDIDATE_FIELD_PHONE,
    ats::v1::CANDIDATE_FIELD_TAGS};

// Gives `trigger`, if it is a webhook trigger without a field list, the
// fields it has always been sent; returns whether it changed.
bool DeclareAllFields(ats::v1::Trigger& trigger) {
  if (!trigger.has_webhook() || !trigger.webhook().candidate_fields().empty()) {
    return false;
  }
  for (ats::v1::CandidateField field : kFieldsBeforeDeclarations) {
    trigger.mutable_webhook()->add_candidate_fields(field);
  }
  return true;
}

// Returns the serialized `Message` in `blob` after `declare` (which says
// whether it changed anything); the very bytes of `blob` when unchanged.
template <typename Message, typename Declare>
absl::StatusOr<std::string> Rewrite(std::string_view blob, const char* what,
                                    Declare declare) {
  Message message;
  if (!message.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
    return absl::DataLossError(
        absl::StrCat("a stored ", what, " does not parse"));
  }
  if (!declare(message)) return std::string(blob);
  return message.SerializeAsString();
}

absl::StatusOr<std::string> TriggerWithAllFields(std::string_view spec) {
  return Rewrite<ats::v1::Trigger>(spec, "trigger", DeclareAllFields);
}

absl::StatusOr<std::string> TemplateWithAllFields(std::string_view stages) {
  return Rewrite<ats::v1::JobTemplate>(
      stages, "job template", [](ats::v1::JobTemplate& job_template) {
        bool changed = false;
        for (ats::v1::Stage& stage : *job_template.mutable_stages()) {
          for (ats::v1::Trigger& trigger : *stage.mutable_triggers()) {
            changed = DeclareAllFields(trigger) || changed;
          }
        }
        return changed;
      });
}

// Moves a score stored before PartnerResult.score became a
// google.protobuf.DoubleValue (field 2 was a bare double, which a parse now
// keeps as an unknown fixed64 field) into the wrapper; returns whether it
// changed `result`.
bool WrapBareScore(ats::v1::PartnerResult& result) {
  constexpr int kScoreField = 2;
  google::protobuf::UnknownFieldSet& unknown =
      *result.GetReflection()->MutableUnknownFields(&result);
  bool changed = false;
  for (int i = unknown.field_count() - 1; i >= 0; --i) {
    const google::protobuf::UnknownField& field = unknown.field(i);
    if (field.number() != kScoreField ||
        field.type() != google::protobuf::UnknownField::TYPE_FIXED64) {
      continue;
    }
    // Of repeated occurrences the last wins, as it did for the double.
    if (!changed) {
      result.mutable_score()->set_value(
          absl::bit_cast<double>(field.fixed64()));
    }
    unknown.DeleteSubrange(i, 1);
    changed = true;
  }
  return changed;
}

absl::StatusOr<std::string> ResultWithWrappedScore(std::string_view result) {
  return Rewrite<ats::v1::PartnerResult>(result, "partner result",
                                         WrapBareScore);
}

}  // namespace

absl::Status DefineMigrationFunctions(Connection& connection) {
  absl::Status status = connection.DefineBlobFunction(
      "webhook_trigger_all_fields", TriggerWithAllFields);
  if (!status.ok()) return status;
  status = connection.DefineBlobFunction("template_webhooks_all_fields",
                                         TemplateWithAllFields);
  if (!status.ok()) return status;
  status = connection.DefineBlobFunction("partner_result_wrapped_score",
                                         ResultWithWrappedScore);
  if (!status.ok()) return status;
  return connection.DefineTextFunction("delivery_destination",
                                       DeliveryDestination);
}

}  // namespace ats::storage::sqlite
