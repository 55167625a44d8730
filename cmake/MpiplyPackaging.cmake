# CPack: `cpack -G DEB` in a build directory packages what `cmake --install` installs, under
# /usr, as mpiply_<version>_<arch>.deb. The package is for development (headers, library, CMake
# and pkg-config files) as well as use (the mpiply-* programs), as a -dev package with its tools
# would be, so it depends on the -dev packages whose headers mpiply's own headers include.
include_guard(GLOBAL)

set(CPACK_PACKAGE_NAME mpiply)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "mpiply")
set(CPACK_PACKAGE_CONTACT "mpiply maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "IPython Parallel's client model (views, apply, map, AsyncResult) on MPI, for C++20")
set(CPACK_PACKAGE_DESCRIPTION
  "mpiply runs C++ functions on MPI ranks the way IPython Parallel runs Python functions on
engines: views, apply, map and AsyncResult. This package holds the headers, the library, the
CMake package and pkg-config file, the mpiply-farm, mpiply-db and mpiply-resume programs, and
the Slurm templates and examples under /usr/share/mpiply.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # mpiply_0.1.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
# The Debian 12 packages mpiply is built and tested against (tools/setup.sh installs them).
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libopenmpi-dev, openmpi-bin, libboost-mpi-dev, libboost-serialization-dev, libboost-program-options-dev, libfmt-dev, libsqlite3-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pkg-config, cmake")
include(CPack)
