# Shared by the install-* test scripts (cmake -P): argument checks and a checked, time-limited
# step that shows its output when it fails.
cmake_minimum_required(VERSION 3.21)

# Stops with a message unless each named variable was given with -D.
macro(require_args)
  foreach(v ${ARGN})
    if(NOT ${v})
      message(FATAL_ERROR "${CMAKE_SCRIPT_MODE_FILE}: -D${v}=... is required")
    endif()
  endforeach()
  if(NOT MPIEXEC_NUMPROC_FLAG)
    set(MPIEXEC_NUMPROC_FLAG -n)
  endif()
endmacro()

# step(<what> <timeout> <command>...): runs the command; on failure shows its output and stops.
# Its output is left in step_output.
function(step what timeout)
  execute_process(COMMAND ${ARGN} TIMEOUT ${timeout}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "${what}: ok")
  set(step_output "${out}" PARENT_SCOPE)
endfunction()

# Checks the consumer's output (tests/consumer/main.cpp) at 2 ranks.
function(check_consumer_output out version)
  foreach(expected "twice\\(21\\) = 42" "team of 1" "mpiply ${version}")
    if(NOT out MATCHES "${expected}")
      message(FATAL_ERROR "expected '${expected}' in the consumer's output:\n${out}")
    endif()
  endforeach()
endfunction()
