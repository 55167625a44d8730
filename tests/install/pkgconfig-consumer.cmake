# cmake -P script behind `install-pkgconfig` (and part of `install-shared`): install into a
# scratch prefix, build tests/consumer/main.cpp with nothing but
#   c++ -std=c++20 main.cpp $(pkg-config --cflags --libs mpiply)
# and run it on 2 ranks. PKG_CONFIG_PATH points at the prefix, as a user's would.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_args(MPIPLY_BUILD_DIR CONSUMER_SOURCE_DIR WORK_DIR MPIEXEC CXX_COMPILER EXPECT_VERSION
             LIBDIR)

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
file(MAKE_DIRECTORY ${WORK_DIR})
step("install" 60 ${CMAKE_COMMAND} --install ${MPIPLY_BUILD_DIR} --prefix ${prefix})

set(ENV{PKG_CONFIG_PATH} ${prefix}/${LIBDIR}/pkgconfig)
step("pkg-config --modversion" 30 pkg-config --modversion mpiply)
string(STRIP "${step_output}" version)
if(NOT version STREQUAL EXPECT_VERSION)
  message(FATAL_ERROR "pkg-config says mpiply ${version}, the build is ${EXPECT_VERSION}")
endif()
step("pkg-config --cflags --libs" 30 pkg-config --cflags --libs mpiply)
separate_arguments(flags UNIX_COMMAND "${step_output}")
# The RUNPATH lets a shared libmpiply.so be found in the scratch prefix (unused when static).
step("build consumer with pkg-config" 180 ${CXX_COMPILER} -std=c++20
  ${CONSUMER_SOURCE_DIR}/main.cpp ${flags} -Wl,-rpath,${prefix}/${LIBDIR} -o ${WORK_DIR}/consumer)
step("run consumer" 50 ${MPIEXEC} ${MPIEXEC_NUMPROC_FLAG} 2 ${MPIEXEC_PREFLAGS} ${WORK_DIR}/consumer)
message(STATUS "consumer output:\n${step_output}")
check_consumer_output("${step_output}" ${EXPECT_VERSION})
