# cmake -P script: run a command and check how it ended.
#
#   cmake -DCMD=<cmd;arg;...> -DEXPECT_RC=<rc> [-DEXPECT_REGEX=<re;re...>] [-DRANKS=<n>]
#         [-DREQUIRE_RANK_LINES=ON] [-DTIMEOUT=<s>] -P expect_exit.cmake
#
# Checks, on the merged stdout+stderr:
#   - the exit code of CMD is EXPECT_RC (or any nonzero code when EXPECT_RC is "nonzero");
#   - each regex in EXPECT_REGEX matches at least one line (^ and $ anchor to a line);
#     CMake list rules apply: no ';' in a regex and '[' ']' balanced within each one
#     (write "\\[rank 0\\]" or use '.');
#   - if any line `mpiply-exit rank=<r> code=<c>` is printed (or REQUIRE_RANK_LINES is
#     set): exactly one per rank 0..RANKS-1, and every <c> equals EXPECT_RC. This is how
#     we prove that *every* rank, not just the one mpiexec reports, returned the code.
# Any failure is a FATAL_ERROR that lists the problems and the captured output.
cmake_minimum_required(VERSION 3.21)

if(NOT DEFINED CMD OR NOT DEFINED EXPECT_RC)
  message(FATAL_ERROR "expect_exit.cmake: -DCMD=... and -DEXPECT_RC=... are required")
endif()
if(NOT TIMEOUT)
  set(TIMEOUT 100)   # below the ctest TIMEOUT, so a hang still shows its output here
endif()

execute_process(COMMAND ${CMD} TIMEOUT ${TIMEOUT}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)   # same variable: merged

set(problems "")

# EXPECT_RC "nonzero": any failing exit (e.g. whatever Open MPI makes of a signal), but not a
# timeout, which execute_process reports as text.
if(EXPECT_RC STREQUAL "nonzero")
  if(NOT rc MATCHES "^[0-9]+$" OR rc EQUAL 0)
    list(APPEND problems "exit code was '${rc}', expected a nonzero exit code")
  endif()
elseif(NOT "${rc}" STREQUAL "${EXPECT_RC}")
  list(APPEND problems "exit code was '${rc}', expected ${EXPECT_RC}")
endif()

# Split the output into lines. CMake lists treat ';', '\' and unbalanced '[' ']'
# specially, so hide those characters behind control codes first and restore them
# line by line before matching.
if(EXPECT_REGEX)
  string(ASCII 1 c_semi)
  string(ASCII 2 c_bslash)
  string(ASCII 3 c_lbr)
  string(ASCII 4 c_rbr)
  set(text "${out}")
  string(REPLACE "\\" "${c_bslash}" text "${text}")
  string(REPLACE ";" "${c_semi}" text "${text}")
  string(REPLACE "[" "${c_lbr}" text "${text}")
  string(REPLACE "]" "${c_rbr}" text "${text}")
  string(REPLACE "\r" "" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  foreach(re IN LISTS EXPECT_REGEX)
    set(found FALSE)
    foreach(line IN LISTS lines)
      string(REPLACE "${c_bslash}" "\\" line "${line}")
      string(REPLACE "${c_semi}" ";" line "${line}")
      string(REPLACE "${c_lbr}" "[" line "${line}")
      string(REPLACE "${c_rbr}" "]" line "${line}")
      if(line MATCHES "${re}")
        set(found TRUE)
        break()
      endif()
    endforeach()
    if(NOT found)
      list(APPEND problems "no line matches regex '${re}'")
    endif()
  endforeach()
endif()

# Per-rank exit lines.
string(REGEX MATCHALL "mpiply-exit rank=[0-9]+ code=-?[0-9]+" hits "${out}")
if(hits OR REQUIRE_RANK_LINES)
  if(NOT RANKS)
    list(APPEND problems "mpiply-exit lines found but -DRANKS=<n> not given")
  else()
    foreach(hit IN LISTS hits)
      string(REGEX MATCH "rank=([0-9]+) code=(-?[0-9]+)" _ "${hit}")
      set(r ${CMAKE_MATCH_1})
      set(c ${CMAKE_MATCH_2})
      if(r GREATER_EQUAL RANKS)
        list(APPEND problems "'${hit}': rank out of range for ${RANKS} ranks")
      endif()
      if(NOT c EQUAL EXPECT_RC)
        list(APPEND problems "'${hit}': expected code=${EXPECT_RC}")
      endif()
      if(NOT DEFINED seen_${r})
        set(seen_${r} 0)
      endif()
      math(EXPR seen_${r} "${seen_${r}} + 1")
    endforeach()
    math(EXPR last "${RANKS} - 1")
    foreach(r RANGE 0 ${last})
      if(NOT seen_${r})
        list(APPEND problems "no 'mpiply-exit rank=${r} ...' line")
      elseif(seen_${r} GREATER 1)
        list(APPEND problems "${seen_${r}} 'mpiply-exit rank=${r} ...' lines, expected one")
      endif()
    endforeach()
  endif()
endif()

if(problems)
  list(JOIN problems "\n  - " msg)
  list(JOIN CMD " " cmdline)
  message(FATAL_ERROR "expect_exit: ${cmdline}\n  - ${msg}\n--- output ---\n${out}--- end ---")
endif()
message(STATUS "expect_exit: ok (exit ${rc})\n${out}")
