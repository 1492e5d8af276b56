#!/usr/bin/env bash
# Checks that the contracts in protos/ break nothing that clients of the last
# release rely on: `buf breaking` (FILE rules, see buf.yaml) against protos/
# as they were at that release's commit, read from this clone's git history.
#
#   tools/buf_breaking.sh        the working tree (from the repository root)
#   tools/buf_breaking.sh DIR    DIR's buf.yaml and protos/ instead
#
# Exits 0 when nothing breaks, 100 (buf's code) naming each breaking change,
# and 1 when the check cannot run (no buf, or the baseline commit is not in
# this clone: a shallow clone needs `git fetch --unshallow`).
#
# The baseline is a commit, not a branch or a tag: it is the same in every
# full clone, wherever HEAD is (main itself, a branch, a merge), and
# `git clone` brings it along. After a release that breaks the contract on
# purpose (documented in the README, as 0.9.0 did with the wrapper types),
# set it to that release's commit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Release 0.9.0: CreateStageRequest.position and PartnerResult.score are
# wrapper types.
baseline=6f81607f9f01d32f0886ad1e3ae2a9cd594bf391

buf=node_modules/.bin/buf
if [[ ! -x "${buf}" ]]; then
  echo "buf not found at ${buf}: run tools/setup.sh" >&2
  exit 1
fi
if ! git cat-file -e "${baseline}^{commit}" 2>/dev/null; then
  echo "the baseline commit ${baseline} is not in this clone;" \
    "fetch the full history (git fetch --unshallow)" >&2
  exit 1
fi
exec "${buf}" breaking "${1:-.}" --against ".git#ref=${baseline}"
