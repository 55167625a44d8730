# cmake -P script behind the `install-consumer` test:
#   1. cmake --install <MPIPLY_BUILD_DIR> --prefix <WORK_DIR>/prefix
#   2. configure + build tests/consumer with CMAKE_PREFIX_PATH=<WORK_DIR>/prefix
#   3. run it with `mpiexec -n 2 <MPIEXEC_PREFLAGS>`, expect exit 0 and "twice(21) = 42".
# The OMPI_* environment comes from the test's ENVIRONMENT property.
cmake_minimum_required(VERSION 3.21)

foreach(v MPIPLY_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR MPIEXEC)
  if(NOT ${v})
    message(FATAL_ERROR "install-consumer.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT MPIEXEC_NUMPROC_FLAG)
  set(MPIEXEC_NUMPROC_FLAG -n)
endif()

# Start from nothing: a stale prefix could hide a missing install rule.
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
set(build ${WORK_DIR}/build)

# Run one step with a time limit (so a hang reports its output instead of being killed
# silently by ctest); on failure show the output and stop.
function(step what timeout)
  execute_process(COMMAND ${ARGN} TIMEOUT ${timeout}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install-consumer: ${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "install-consumer: ${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

step("install" 60 ${CMAKE_COMMAND} --install ${MPIPLY_BUILD_DIR} --prefix ${prefix})

set(configure_args -S ${CONSUMER_SOURCE_DIR} -B ${build} -DCMAKE_PREFIX_PATH=${prefix})
if(CMAKE_GENERATOR)
  list(APPEND configure_args -G ${CMAKE_GENERATOR})
endif()
if(CXX_COMPILER)
  list(APPEND configure_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
step("configure consumer" 60 ${CMAKE_COMMAND} ${configure_args})
step("build consumer" 120 ${CMAKE_COMMAND} --build ${build})

step("run consumer" 50 ${MPIEXEC} ${MPIEXEC_NUMPROC_FLAG} 2 ${MPIEXEC_PREFLAGS} ${build}/consumer)
message(STATUS "consumer output:\n${step_output}")
if(NOT step_output MATCHES "twice\\(21\\) = 42")
  message(FATAL_ERROR "install-consumer: expected 'twice(21) = 42' in the output")
endif()
if(NOT step_output MATCHES "team of 1")
  message(FATAL_ERROR "install-consumer: expected 'team of 1' (engine_comm on 2 ranks)")
endif()
if(NOT step_output MATCHES "mpiply ${EXPECT_VERSION}")
  message(FATAL_ERROR "install-consumer: expected 'mpiply ${EXPECT_VERSION}' (the installed version.hpp)")
endif()
