# mpiply.pc for builds without CMake: `c++ -std=c++20 main.cpp $(pkg-config --cflags --libs mpiply)`.
# The flags are the ones this build found (the MPI, Boost, fmt and SQLite it compiled against),
# written as absolute paths, so the file is right on a cluster whose libraries live in modules
# as well as on Debian. The prefix is relative to the .pc file itself (${pcfiledir}), so an
# install tree can be moved, and `cmake --install --prefix` anywhere gives a working file.
include_guard(GLOBAL)

# Appends "<prefix><item>" for each item of the remaining arguments to the list <out>.
function(mpiply_pc_prefixed out prefix)
  set(result ${${out}})
  foreach(item IN LISTS ARGN)
    if(NOT item STREQUAL "")
      list(APPEND result "${prefix}${item}")
    endif()
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

function(mpiply_write_pkgconfig file)
  # ${pcfiledir} is <prefix>/<libdir>/pkgconfig: walk up to the prefix.
  file(RELATIVE_PATH to_prefix "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
  string(REGEX REPLACE "/$" "" to_prefix "${to_prefix}")

  # Compile flags: the public headers include Boost.Serialization, fmt and (engine_comm.hpp) MPI.
  get_target_property(fmt_includes fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  get_target_property(fmt_defines fmt::fmt INTERFACE_COMPILE_DEFINITIONS)
  set(includes ${MPI_CXX_INCLUDE_DIRS} ${Boost_INCLUDE_DIRS})
  if(fmt_includes)
    list(APPEND includes ${fmt_includes})
  endif()
  list(REMOVE_DUPLICATES includes)
  list(REMOVE_ITEM includes /usr/include)   # the compiler's own; pkg-config drops it anyway
  set(cflags -I\${includedir})
  mpiply_pc_prefixed(cflags -I ${includes})
  mpiply_pc_prefixed(cflags -D ${MPI_CXX_COMPILE_DEFINITIONS})
  if(fmt_defines)
    mpiply_pc_prefixed(cflags -D ${fmt_defines})
  endif()
  list(APPEND cflags ${MPI_CXX_COMPILE_OPTIONS} -pthread)

  # Link flags. Libraries named by generator expressions resolve to the configuration built.
  set(public_libs
    $<TARGET_LINKER_FILE:Boost::serialization> $<TARGET_LINKER_FILE:fmt::fmt>
    ${MPI_CXX_LIBRARIES})
  set(private_libs $<TARGET_LINKER_FILE:Boost::mpi> ${SQLite3_LIBRARIES} ${MPIPLY_HWLOC_LIBRARY})
  mpiply_pc_prefixed(private_libs -l ${CMAKE_DL_LIBS})
  list(APPEND private_libs -pthread)
  separate_arguments(mpi_link UNIX_COMMAND "${MPI_CXX_LINK_FLAGS}")
  set(libs -L\${libdir} -lmpiply ${mpi_link} ${public_libs})
  if(MPIPLY_SHARED)
    # libmpiply.so records its own dependencies: a user links only what the headers need.
    set(libs_private ${private_libs})
  else()
    # libmpiply.a does not: plain `--libs` must still link a program, so all go in Libs.
    list(APPEND libs ${private_libs})
    set(libs_private "")
  endif()

  list(JOIN cflags " " MPIPLY_PC_CFLAGS)
  list(JOIN libs " " MPIPLY_PC_LIBS)
  list(JOIN libs_private " " libs_private)
  set(MPIPLY_PC_LIBS_PRIVATE_LINE "")
  if(libs_private)
    set(MPIPLY_PC_LIBS_PRIVATE_LINE "Libs.private: ${libs_private}")
  endif()
  set(MPIPLY_PC_PREFIX "\${pcfiledir}/${to_prefix}")
  configure_file(${PROJECT_SOURCE_DIR}/cmake/mpiply.pc.in ${PROJECT_BINARY_DIR}/mpiply.pc.in @ONLY)
  file(GENERATE OUTPUT ${file} INPUT ${PROJECT_BINARY_DIR}/mpiply.pc.in)
endfunction()
