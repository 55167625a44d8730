# Helpers that register MPI programs with ctest at several rank counts.
#
#   mpiply_add_mpi_test(TARGET <tgt> [NAME <base>] [RANKS <n>...] [TIMEOUT <s>]
#                       [LABELS <l>...] [ARGS <arg>...]
#                       [PASS_REGEX <re>] [FAIL_REGEX <re>] [EXIT <code>])
#
# registers one test per rank count, `<base>-<n>` (base defaults to the target name),
# running `mpiexec -n <n> ${MPIEXEC_PREFLAGS} <tgt> <args>`. Any executable target works
# (Catch2 or not). Defaults: RANKS 1 2 3 4, TIMEOUT 120, label `mpi`. With PASS_REGEX or
# FAIL_REGEX the output is checked together with the exit code (EXIT, default 0) through
# expect_output.sh: ctest's own pass regex ignores the exit code, so it is not used anywhere.
# The regexes are bash's (extended) and travel as arguments: no `;` in them, and no unmatched
# `[` (CMake's lists would split or join the arguments there).
#
#   mpiply_add_output_test(NAME <name> COMMAND <cmd> <arg>... [PASS_REGEX <re>]
#                          [FAIL_REGEX <re>] [EXIT <code>|nonzero])
#
# the same check for a command that is not an MPI launch.
include_guard(GLOBAL)

if(NOT MPIEXEC_EXECUTABLE)
  find_package(MPI REQUIRED COMPONENTS CXX)
endif()

# Launcher flags come from FindMPI's MPIEXEC_PREFLAGS, so another MPI (or a site's own flags)
# needs no edit here: -DMPIEXEC_PREFLAGS="...". Left empty with Open MPI's mpiexec, it defaults
# once to --oversubscribe, since the tests run up to 4 ranks on 2-core machines.
if(NOT MPIPLY_MPIEXEC_PREFLAGS_DEFAULTED)
  execute_process(COMMAND ${MPIEXEC_EXECUTABLE} --version
    OUTPUT_VARIABLE mpiexec_version ERROR_QUIET TIMEOUT 20)
  if(NOT MPIEXEC_PREFLAGS AND mpiexec_version MATCHES "Open MPI|OpenRTE")
    set(MPIEXEC_PREFLAGS --oversubscribe CACHE STRING
        "Flags for mpiexec before the program (mpiply defaults them for Open MPI)" FORCE)
  endif()
  set(MPIPLY_MPIEXEC_PREFLAGS_DEFAULTED ON CACHE INTERNAL "")
endif()

# Environment for every MPI test (also used by tests/exit and the install-consumer test):
# - Open MPI refuses to start as root (CI containers) without the two ALLOW variables;
# - pinning TCP to loopback avoids hangs/timeouts probing container or VPN interfaces;
# - oversubscription: 4 ranks on a 2-core CI machine must be allowed (and makes Open MPI
#   yield when idle instead of spinning on a core that another rank needs);
# - pml ob1: the point-to-point layer Open MPI picks on one machine anyway (Debian's
#   openmpi-mca-params.conf leaves UCX out); naming it skips opening and probing the others
#   (cm and its PSM/PSM2 libraries) in every rank of every launch; a short test is mostly
#   MPI_Init (docs/testing.md has the figure).
set(MPIPLY_MPI_TEST_ENVIRONMENT
  OMPI_ALLOW_RUN_AS_ROOT=1
  OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  OMPI_MCA_btl_tcp_if_include=lo
  OMPI_MCA_oob_tcp_if_include=lo
  OMPI_MCA_rmaps_base_oversubscribe=1
  OMPI_MCA_pml=ob1)

# Prefix of an mpiexec command line for <n> ranks, in <out>.
function(mpiply_mpiexec_command out n)
  set(${out} ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${n} ${MPIEXEC_PREFLAGS} PARENT_SCOPE)
endfunction()

# When a rank exits non-zero, mpiexec tears the job down: SIGTERM to the ranks still running,
# then SIGKILL odls_base_sigkill_timeout seconds later (Open MPI's default: 1), and it waits out
# that timeout even when every rank has already exited: seconds of idle waiting per failing
# launch. Most exit, farm and error tests end that way, so the tests send SIGKILL at once.
# The drain tests (label `drain`) keep Open MPI's default: they check what the ranks do in the
# second between mpiexec's SIGTERM and its SIGKILL.
set(MPIPLY_MPI_TEST_QUICK_TEARDOWN OMPI_MCA_odls_base_sigkill_timeout=0)

# The long tests, each with its wall time in seconds on a loaded 2-core machine, as ctest's COST.
# `ctest -j` starts the tests in descending order of COST; a test without one is ranked by its
# own times from earlier runs of the same build tree, and a fresh clone (CI) has none, so every
# test would start in the order it was registered. The long ones are registered last (install,
# soak, farm, bench) and would then start last and form the tail of the run. A COST set here
# holds in every run (ctest uses its recorded times only for tests without one). Applied by
# mpiply_set_mpi_test_properties to the tests it is given by name; tests registered otherwise
# set COST themselves (tests/slurm, whose clusters take minutes, and bench-peers-smoke). A test
# renamed where it is registered and not here loses its place: keep the names in step.
set(MPIPLY_TEST_COSTS
  install-shared 60   install-deb 60   install-consumer 30   install-pkgconfig 30
  install-tree 20     test_soak_tasks-2 30   test_soak_keep-2 20
  bench-quick-3 35    farm-gnu-1 30    farm-replace-2 22   test_engine_threads-2 18
  farm-output-2 18    farm-replace-1 16   farm-gnu-4 15   test_engine_threads-3 12)

# Common test properties. PROCESSORS = ranks, so `ctest -jN` does not stack several
# 4-rank jobs onto a 2-core machine (ctest runs a test wider than -j on its own).
function(mpiply_set_mpi_test_properties test n timeout)
  set(labels mpi ${ARGN})
  set(environment ${MPIPLY_MPI_TEST_ENVIRONMENT})
  if(NOT "drain" IN_LIST labels)
    list(APPEND environment ${MPIPLY_MPI_TEST_QUICK_TEARDOWN})
  endif()
  set_tests_properties(${test} PROPERTIES
    TIMEOUT ${timeout}
    PROCESSORS ${n}
    ENVIRONMENT "${environment}"
    LABELS "${labels}")
  list(FIND MPIPLY_TEST_COSTS ${test} at)
  if(at GREATER -1)
    math(EXPR at "${at} + 1")
    list(GET MPIPLY_TEST_COSTS ${at} cost)
    set_tests_properties(${test} PROPERTIES COST ${cost})
  endif()
endfunction()

# The command prefix that checks <cmd>'s exit code and output (expect_output.sh), in <out>.
function(mpiply_expect_prefix out exit pass fail)
  set(prefix bash ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/expect_output.sh)
  if(NOT "${exit}" STREQUAL "")
    list(APPEND prefix --exit ${exit})
  endif()
  if(NOT "${pass}" STREQUAL "")
    list(APPEND prefix --pass "${pass}")
  endif()
  if(NOT "${fail}" STREQUAL "")
    list(APPEND prefix --fail "${fail}")
  endif()
  list(APPEND prefix --)
  set(${out} ${prefix} PARENT_SCOPE)
endfunction()

function(mpiply_add_output_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "NAME;PASS_REGEX;FAIL_REGEX;EXIT" "COMMAND")
  if(NOT arg_NAME OR NOT arg_COMMAND OR arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mpiply_add_output_test: NAME and COMMAND are required; unknown: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  mpiply_expect_prefix(prefix "${arg_EXIT}" "${arg_PASS_REGEX}" "${arg_FAIL_REGEX}")
  add_test(NAME ${arg_NAME} COMMAND ${prefix} ${arg_COMMAND})
endfunction()

function(mpiply_add_mpi_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "TARGET;NAME;TIMEOUT;PASS_REGEX;FAIL_REGEX;EXIT"
                        "RANKS;ARGS;LABELS")
  if(NOT arg_TARGET)
    message(FATAL_ERROR "mpiply_add_mpi_test: TARGET is required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mpiply_add_mpi_test: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_NAME)
    set(arg_NAME ${arg_TARGET})
  endif()
  if(NOT arg_RANKS)
    set(arg_RANKS 1 2 3 4)
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()

  set(prefix "")
  if(DEFINED arg_PASS_REGEX OR DEFINED arg_FAIL_REGEX OR DEFINED arg_EXIT)
    mpiply_expect_prefix(prefix "${arg_EXIT}" "${arg_PASS_REGEX}" "${arg_FAIL_REGEX}")
  endif()
  foreach(n IN LISTS arg_RANKS)
    mpiply_mpiexec_command(launch ${n})
    add_test(NAME ${arg_NAME}-${n}
      COMMAND ${prefix} ${launch} $<TARGET_FILE:${arg_TARGET}> ${MPIEXEC_POSTFLAGS} ${arg_ARGS})
    mpiply_set_mpi_test_properties(${arg_NAME}-${n} ${n} ${arg_TIMEOUT} ${arg_LABELS})
  endforeach()
endfunction()

# Exit-code tests (see tests/exit/expect_exit.cmake for what is checked):
#
#   mpiply_add_exit_test(NAME <name> SOURCE <file.cpp> RANKS <n>... EXPECT_RC <rc>
#                        [EXPECT_REGEX <re>...] [ARGS <arg>...] [TIMEOUT <s>]
#                        [REQUIRE_RANK_LINES])
#
# builds SOURCE into an executable linked to mpiply (one per source file, shared by all
# calls that name it) and registers `<name>-<n>` for each rank count, which runs
# `mpiexec -n <n> ${MPIEXEC_PREFLAGS} <exe> <args>` under expect_exit.cmake.
# EXPECT_REGEX: one regex per argument; no ';' and balanced '[' ']' in each (CMake lists).
set(MPIPLY_EXPECT_EXIT_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/../tests/exit/expect_exit.cmake)

function(mpiply_add_exit_test)
  cmake_parse_arguments(PARSE_ARGV 0 arg "REQUIRE_RANK_LINES" "NAME;SOURCE;EXPECT_RC;TIMEOUT"
    "RANKS;EXPECT_REGEX;ARGS;LABELS")
  foreach(required NAME SOURCE RANKS EXPECT_RC)
    if(NOT DEFINED arg_${required})
      message(FATAL_ERROR "mpiply_add_exit_test: ${required} is required")
    endif()
  endforeach()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "mpiply_add_exit_test: unknown arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_TIMEOUT)
    set(arg_TIMEOUT 120)
  endif()
  # The script's own limit is shorter, so a hang fails with its output shown.
  math(EXPR script_timeout "${arg_TIMEOUT} * 5 / 6")

  # Target mpiply_exit_<stem>, binary build/tests/exit/<stem>.
  get_filename_component(stem ${arg_SOURCE} NAME_WE)
  set(exe mpiply_exit_${stem})
  if(NOT TARGET ${exe})
    add_executable(${exe} ${arg_SOURCE})
    set_target_properties(${exe} PROPERTIES OUTPUT_NAME ${stem})
    target_link_libraries(${exe} PRIVATE mpiply::mpiply MPI::MPI_CXX)
    target_compile_options(${exe} PRIVATE ${MPIPLY_WARNINGS})
  endif()

  foreach(n IN LISTS arg_RANKS)
    mpiply_mpiexec_command(launch ${n})
    set(cmd ${launch} $<TARGET_FILE:${exe}> ${MPIEXEC_POSTFLAGS} ${arg_ARGS})
    add_test(NAME ${arg_NAME}-${n}
      COMMAND ${CMAKE_COMMAND}
        "-DCMD=${cmd}"
        -DEXPECT_RC=${arg_EXPECT_RC}
        "-DEXPECT_REGEX=${arg_EXPECT_REGEX}"
        -DRANKS=${n}
        -DREQUIRE_RANK_LINES=${arg_REQUIRE_RANK_LINES}
        -DTIMEOUT=${script_timeout}
        -P ${MPIPLY_EXPECT_EXIT_SCRIPT})
    mpiply_set_mpi_test_properties(${arg_NAME}-${n} ${n} ${arg_TIMEOUT} exit ${arg_LABELS})
  endforeach()
endfunction()
