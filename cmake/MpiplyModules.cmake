# The library's modules: one folder of src/ each, one OBJECT library each, and the modules it
# may use stated once, in its own CMakeLists.txt:
#
#   mpiply_module(<name> SOURCES <file>... [DEPENDS <module>...] [PRIVATE <target>...])
#
# DEPENDS becomes target_link_libraries between the object libraries, so CMake refuses a cycle;
# cmake/check_modules.cmake (run by every build and by the ctest `module-includes`) refuses a
# file that includes a header of a module its own does not name in DEPENDS. The public library
# mpiply::mpiply is all the modules' objects in one archive (src/CMakeLists.txt).
include_guard(GLOBAL)

function(mpiply_module name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;DEPENDS;PRIVATE")
  if(arg_UNPARSED_ARGUMENTS OR NOT arg_SOURCES)
    message(FATAL_ERROR "mpiply_module(${name}): SOURCES is required; unknown: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  set(target mpiply_${name})
  add_library(${target} OBJECT ${arg_SOURCES})
  target_compile_options(${target} PRIVATE ${MPIPLY_WARNINGS})
  # MPIPLY_UNITY_BUILD: a module's files compile eight to a translation unit, so the public and
  # Boost headers they share are parsed once per eight files (a full build takes far less CPU;
  # a file's own anonymous-namespace names must therefore be unique within its module).
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON
    UNITY_BUILD ${MPIPLY_UNITY_BUILD} UNITY_BUILD_BATCH_SIZE 8)
  target_link_libraries(${target} PUBLIC mpiply_interface)
  foreach(dep IN LISTS arg_DEPENDS)
    target_link_libraries(${target} PUBLIC mpiply_${dep})
  endforeach()
  if(arg_PRIVATE)
    target_link_libraries(${target} PRIVATE ${arg_PRIVATE})
  endif()
  set_property(GLOBAL APPEND PROPERTY MPIPLY_MODULES ${name})
  set_property(GLOBAL PROPERTY MPIPLY_MODULE_DEPENDS_${name} "${arg_DEPENDS}")
  set_property(GLOBAL APPEND PROPERTY MPIPLY_MODULE_PRIVATE ${arg_PRIVATE})
endfunction()

# Writes the modules and their DEPENDS to <file> for cmake/check_modules.cmake.
function(mpiply_write_module_graph file)
  get_property(modules GLOBAL PROPERTY MPIPLY_MODULES)
  set(text "set(MPIPLY_MODULES ${modules})\n")
  foreach(m IN LISTS modules)
    get_property(deps GLOBAL PROPERTY MPIPLY_MODULE_DEPENDS_${m})
    string(APPEND text "set(MPIPLY_DEPENDS_${m} ${deps})\n")
  endforeach()
  file(WRITE ${file} "${text}")
endfunction()
