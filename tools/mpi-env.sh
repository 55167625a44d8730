# shellcheck shell=bash
# Source me (". tools/mpi-env.sh"): the Open MPI environment our scripts run jobs with.
# Values the user already set win. The same settings are given to every ctest MPI test
# (cmake/MpiplyTesting.cmake).
#  - Open MPI refuses to start as root (containers, CI) unless both ALLOW variables are set;
#    they have no effect for other users.
#  - Keeping TCP on loopback stops Open MPI from probing (and hanging on) container or VPN
#    interfaces; on one machine the ranks talk through shared memory anyway.
export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
export OMPI_MCA_btl_tcp_if_include="${OMPI_MCA_btl_tcp_if_include:-lo}"
export OMPI_MCA_oob_tcp_if_include="${OMPI_MCA_oob_tcp_if_include:-lo}"
#  - Open MPI 4.1 removes the top of its session directory (<tmp>/ompi.<host>.<uid>) whenever it
#    finds it empty as a job ends, and a job starting at that moment on the same node can fail to
#    create it ("A call to mkdir was unable to create the desired directory ... File exists").
#    The test suite starts and ends many jobs at once; a subdirectory of our own keeps that top
#    directory from ever being empty (Open MPI leaves subdirectories it did not make alone).
mkdir -p "${TMPDIR:-/tmp}/ompi.$(hostname -s 2>/dev/null || hostname).$(id -u)/keep" 2>/dev/null || true
