-- PartnerResult.score became a google.protobuf.DoubleValue: it was a proto3
-- `optional double`, which some toolchains (Debian's grpc-tools 1.51)
-- reject. The wire form differs, so results stored before carry a bare
-- double that would now parse as an unknown field; this moves each into the
-- wrapper (see partner_result_wrapped_score in migration_functions.cc).

UPDATE events
  SET result = partner_result_wrapped_score(result)
  WHERE result IS NOT NULL;
