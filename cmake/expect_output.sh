#!/usr/bin/env bash
# Runs a command and checks both its exit code and its output, since ctest's
# PASS_REGULAR_EXPRESSION alone ignores the exit code (cmake/MpiplyTesting.cmake registers it):
#   expect_output.sh [--exit N|nonzero] [--pass RE] [--fail RE] -- COMMAND [ARG...]
# --exit defaults to 0; `nonzero` accepts any failing code (a build that must fail). stdout and
# stderr are matched together (extended regular expressions) and echoed, so a failure shows them.
want=0 pass= fail=
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  case $1 in
    --exit) want=$2; shift 2 ;;
    --pass) pass=$2; shift 2 ;;
    --fail) fail=$2; shift 2 ;;
    *) echo "expect_output: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "expect_output: no command after --" >&2; exit 2; }
out=$("$@" 2>&1; rc=$?; echo "x$rc")  # the x keeps trailing newlines
rc=${out##*x}
out=${out%x*}
printf '%s\n' "$out"
problems=
if [ "$want" = nonzero ]; then
  [ "$rc" -ne 0 ] || problems+="exit code 0, expected a failure; "
elif [ "$rc" -ne "$want" ]; then
  problems+="exit code $rc, expected $want; "
fi
if [ -n "$pass" ] && ! [[ $out =~ $pass ]]; then problems+="output does not match: $pass; "; fi
if [ -n "$fail" ] && [[ $out =~ $fail ]]; then problems+="output matches what it must not: $fail; "; fi
if [ -n "$problems" ]; then
  echo "expect_output: ${problems}command: $*" >&2
  exit 1
fi
