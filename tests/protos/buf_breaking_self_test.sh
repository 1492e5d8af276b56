#!/usr/bin/env bash
# The buf_breaking test must be able to fail: tools/buf_breaking.sh passes a
# copy of the working tree's buf.yaml and protos/ as they are, and fails
# (exit 100, naming the change) once a known breaking change is made to the
# copy: a field deleted, and a field's type changed as 0.9.0 changed
# CreateStageRequest.position.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT

fresh_copy() {
  rm -rf "${scratch:?}/copy"
  mkdir "${scratch}/copy"
  cp -r buf.yaml protos "${scratch}/copy/"
}

# Replaces `from` with `to` in the copy's `file`, failing if `from` is not
# there (so a renamed field cannot turn the test into a no-op).
change() {
  local file="${scratch}/copy/protos/ats/v1/$1" from="$2" to="$3"
  grep -qF -- "${from}" "${file}" || {
    echo "self-test: \"${from}\" is not in ${file}; update the self-test" >&2
    exit 1
  }
  FROM="${from}" TO="${to}" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/' "${file}"
}

# Runs the check on the copy and expects a breaking change naming `expected`.
expect_break() {
  local expected="$1" output code=0
  output="$(tools/buf_breaking.sh "${scratch}/copy" 2>&1)" || code=$?
  if [[ "${code}" -ne 100 || "${output}" != *"${expected}"* ]]; then
    echo "self-test: expected buf breaking to exit 100 naming ${expected}," \
      "got exit ${code}:" >&2
    echo "${output}" >&2
    exit 1
  fi
  echo "detected: ${output}"
}

fresh_copy
tools/buf_breaking.sh "${scratch}/copy"
echo "unchanged copy: no breaking change"

change job_service.proto "  bool moved = 2;" ""
expect_break 'field "2" with name "moved" on message "MoveCandidateResponse" was deleted'

fresh_copy
change job_service.proto "  google.protobuf.Int32Value position = 3;" "  int32 position = 3;"
expect_break 'Field "3" with name "position" on message "CreateStageRequest" changed type'
