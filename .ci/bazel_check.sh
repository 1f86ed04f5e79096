#!/usr/bin/env bash
# Check that the Bazel targets mirroring the Python package load, offline.
#
#   .ci/bazel_check.sh
#
# Installs Debian's bazel-bootstrap (Bazel 4.2.3) if `bazel` is missing, then
# runs `bazel query //...` and `bazel query 'kind(py_test, //...)'`, prints the
# targets, and fails unless //:tb_rnn_hidden and at least one py_test are
# listed. Only the loading phase is exercised: it needs no network, whereas
# `bazel build/test` with Bazel 4 would download @rules_cc and
# @remote_coverage_tools (see .bazelrc).
#
# Environment:
#   BAZEL                 bazel executable to use (default: bazel)
#   BAZEL_STARTUP_FLAGS   extra startup flags, e.g. "--output_user_root=/tmp/bz"
set -euo pipefail

start_s=${SECONDS}
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

BAZEL="${BAZEL:-bazel}"
# shellcheck disable=SC2206  # word splitting of the flags is intended
startup_flags=(${BAZEL_STARTUP_FLAGS:-})
library_target="//:tb_rnn_hidden"

log() { printf '[bazel_check] %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- 1. Bazel ----------------------------------------------------------------
if ! command -v "${BAZEL}" >/dev/null 2>&1; then
  log "'${BAZEL}' not found; installing Debian's bazel-bootstrap"
  if [[ "$(id -u)" -eq 0 ]]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    die "bazel is missing and neither root nor sudo is available to install it"
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y bazel-bootstrap
  command -v "${BAZEL}" >/dev/null 2>&1 || die "bazel still missing after install"
  log "installed bazel-bootstrap in $((SECONDS - start_s))s"
fi
# `bazel version` only prints "Version information not available" for the
# Debian build, so report the package version instead when there is one.
if command -v dpkg-query >/dev/null 2>&1; then
  log "bazel-bootstrap $(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null || echo '(not from dpkg)')"
fi

bazel_cmd() { "${BAZEL}" "${startup_flags[@]}" "$@"; }

server_started=0
shutdown_bazel() {
  if [[ "${server_started}" -eq 1 ]]; then
    bazel_cmd shutdown || log "warning: 'bazel shutdown' failed"
  fi
}
trap shutdown_bazel EXIT

# --- 2. Queries ----------------------------------------------------------------
# Targets go to stdout; Bazel's progress messages go to stderr.
server_started=1
query_s=${SECONDS}
all_targets="$(bazel_cmd query '//...')" || die "bazel query //... failed"
test_targets="$(bazel_cmd query 'kind(py_test, //...)')" \
  || die "bazel query 'kind(py_test, //...)' failed"
manual_targets="$(bazel_cmd query 'attr(tags, "\bmanual\b", kind(py_test, //...))')" \
  || die "bazel query for manual tests failed"

echo "== bazel query //..."
printf '%s\n' "${all_targets}"
echo "== bazel query 'kind(py_test, //...)'"
printf '%s\n' "${test_targets}"
echo "== py_test targets tagged manual (end-to-end; not run by 'bazel test //...')"
printf '%s\n' "${manual_targets:-(none)}"

# --- 3. Assertions -------------------------------------------------------------
grep -qxF "${library_target}" <<<"${all_targets}" \
  || die "${library_target} is not listed by 'bazel query //...'"
n_tests="$(grep -c '^//' <<<"${test_targets}" || true)"
[[ "${n_tests}" -gt 0 ]] \
  || die "no py_test targets (expected one per tests/**/test_*.py)"

# The bazel-* convenience symlinks (created by `bazel build`) must stay untracked.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  for link in bazel-bin bazel-out bazel-testlogs "bazel-$(basename "${repo_root}")"; do
    git check-ignore -q "${link}" || die "${link} is not git-ignored (add 'bazel-*' to .gitignore)"
  done
fi

log "OK: ${library_target} and ${n_tests} py_test target(s); queries took $((SECONDS - query_s))s, total $((SECONDS - start_s))s"
