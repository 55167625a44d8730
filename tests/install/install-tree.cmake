# cmake -P script behind the `install-tree` test: `cmake --install` into a scratch prefix must
# give everything a user is promised (README, "Use it from your own project"): headers, the
# library, the CMake package, mpiply.pc, the mpiply-* programs (which run), the Slurm templates
# and examples; and no file may point back into the build tree.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_args(MPIPLY_BUILD_DIR WORK_DIR EXPECT_VERSION LIBDIR)

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
step("install" 60 ${CMAKE_COMMAND} --install ${MPIPLY_BUILD_DIR} --prefix ${prefix})

set(expected
  include/mpiply/mpiply.hpp include/mpiply/version.hpp include/mpiply/engine_comm.hpp
  ${LIBDIR}/cmake/mpiply/mpiplyConfig.cmake ${LIBDIR}/cmake/mpiply/mpiplyConfigVersion.cmake
  ${LIBDIR}/cmake/mpiply/mpiplyTargets.cmake ${LIBDIR}/pkgconfig/mpiply.pc
  share/mpiply/slurm/mpirun.sbatch share/mpiply/slurm/srun.sbatch
  share/mpiply/slurm/farm.sbatch share/mpiply/slurm/README.md
  share/mpiply/examples/pids.cpp share/mpiply/examples/consumer/CMakeLists.txt
  share/mpiply/examples/consumer/main.cpp)
if(SHARED)
  list(APPEND expected ${LIBDIR}/libmpiply.so)
else()
  list(APPEND expected ${LIBDIR}/libmpiply.a)
endif()
set(tools mpiply-farm mpiply-db mpiply-resume)
foreach(tool IN LISTS tools)
  list(APPEND expected bin/${tool})
endforeach()
set(missing "")
foreach(f IN LISTS expected)
  if(NOT EXISTS ${prefix}/${f})
    list(APPEND missing ${f})
  endif()
endforeach()
if(missing)
  message(FATAL_ERROR "install-tree: missing from the install tree: ${missing}")
endif()

# The short build-tree names must not be installed: `farm` or `resume` on PATH could shadow
# another package's program.
file(GLOB bin_files RELATIVE ${prefix}/bin ${prefix}/bin/*)
foreach(f IN LISTS bin_files)
  if(NOT f MATCHES "^mpiply-")
    message(FATAL_ERROR "install-tree: bin/${f} does not start with 'mpiply-'")
  endif()
endforeach()

# Each tool runs from the install tree (singleton MPI: no mpirun needed for --help) and its
# usage speaks of it under its installed name, not the build tree's (dbinfo, farm, resume).
foreach(tool IN LISTS tools)
  step("${tool} --help" 30 ${prefix}/bin/${tool} --help)
  if(NOT step_output MATCHES "usage: (mpirun -n N )?${tool} ")
    message(FATAL_ERROR
      "install-tree: ${tool} --help does not say 'usage: ... ${tool}':\n${step_output}")
  endif()
endforeach()

file(READ ${prefix}/${LIBDIR}/pkgconfig/mpiply.pc pc)
if(NOT pc MATCHES "\nVersion: ${EXPECT_VERSION}\n")
  message(FATAL_ERROR "install-tree: mpiply.pc does not say Version: ${EXPECT_VERSION}:\n${pc}")
endif()
# Text files only: the binaries carry debug paths, which is fine.
file(GLOB_RECURSE text_files ${prefix}/*.pc ${prefix}/*.cmake ${prefix}/*.hpp)
foreach(f IN LISTS text_files)
  file(READ ${f} text)
  string(FIND "${text}" "${MPIPLY_BUILD_DIR}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "install-tree: ${f} names the build tree ${MPIPLY_BUILD_DIR}")
  endif()
endforeach()
message(STATUS "install-tree: ${prefix} holds everything")
