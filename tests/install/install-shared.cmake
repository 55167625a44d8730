# cmake -P script behind the `install-shared` test: configure this source tree a second time
# with -DMPIPLY_SHARED=ON (library only), link libmpiply.so and check its SONAME, then install it
# and build the consumer against it with find_package (tests/consumer/install-consumer.cmake)
# and with pkg-config (pkgconfig-consumer.cmake); both consumers must need the shared library
# and run on 2 ranks. The library is linked from the object files of the build under test
# (OBJECTS, its mpiply_objects.txt; src/CMakeLists.txt, MPIPLY_OBJECTS_FROM): the modules'
# flags are the same whether the library is static or shared, so compiling them again would
# make the same objects.
include(${CMAKE_CURRENT_LIST_DIR}/common.cmake)
require_args(SOURCE_DIR WORK_DIR MPIEXEC CXX_COMPILER EXPECT_VERSION EXPECT_SONAME LIBDIR OBJECTS)

file(REMOVE_RECURSE ${WORK_DIR})
set(build ${WORK_DIR}/build)
set(configure_args -S ${SOURCE_DIR} -B ${build} -DMPIPLY_SHARED=ON -DMPIPLY_BUILD_TESTS=OFF
  -DMPIPLY_BUILD_JOBS=OFF -DMPIPLY_INSTALL=ON -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DMPIPLY_OBJECTS_FROM=${OBJECTS})
if(BUILD_TYPE)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
if(CMAKE_GENERATOR)
  list(APPEND configure_args -G ${CMAKE_GENERATOR})
endif()
step("configure with MPIPLY_SHARED=ON" 120 ${CMAKE_COMMAND} ${configure_args})
step("link libmpiply.so" 300 ${CMAKE_COMMAND} --build ${build} --target mpiply)
if(step_output MATCHES "Building CXX object")
  message(FATAL_ERROR "install-shared: the library's modules were compiled again:\n${step_output}")
endif()

set(library ${build}/${LIBDIR}/libmpiply.so)
if(NOT EXISTS ${library})
  message(FATAL_ERROR "install-shared: the build made no ${library}")
endif()
step("readelf -d libmpiply.so" 30 readelf -d ${library})
if(NOT step_output MATCHES "Library soname: \\[${EXPECT_SONAME}\\]")
  message(FATAL_ERROR "install-shared: expected SONAME ${EXPECT_SONAME}:\n${step_output}")
endif()

set(common_args -DMPIEXEC=${MPIEXEC} -DMPIEXEC_NUMPROC_FLAG=${MPIEXEC_NUMPROC_FLAG}
  "-DMPIEXEC_PREFLAGS=${MPIEXEC_PREFLAGS}" -DEXPECT_VERSION=${EXPECT_VERSION}
  -DCXX_COMPILER=${CXX_COMPILER} -DMPIPLY_BUILD_DIR=${build}
  -DCONSUMER_SOURCE_DIR=${SOURCE_DIR}/tests/consumer)
step("CMake consumer against the shared install" 400 ${CMAKE_COMMAND} ${common_args}
  -DWORK_DIR=${WORK_DIR}/cmake-consumer -DBUILD_TYPE=${BUILD_TYPE}
  -P ${SOURCE_DIR}/tests/consumer/install-consumer.cmake)
step("pkg-config consumer against the shared install" 400 ${CMAKE_COMMAND} ${common_args}
  -DWORK_DIR=${WORK_DIR}/pkgconfig-consumer -DLIBDIR=${LIBDIR}
  -P ${CMAKE_CURRENT_LIST_DIR}/pkgconfig-consumer.cmake)

# Each consumer must load the installed libmpiply.so, not carry a static copy.
foreach(consumer ${WORK_DIR}/cmake-consumer/build/consumer ${WORK_DIR}/pkgconfig-consumer/consumer)
  step("readelf -d ${consumer}" 30 readelf -d ${consumer})
  if(NOT step_output MATCHES "Shared library: \\[${EXPECT_SONAME}\\]")
    message(FATAL_ERROR "install-shared: ${consumer} does not need ${EXPECT_SONAME}:\n${step_output}")
  endif()
endforeach()
