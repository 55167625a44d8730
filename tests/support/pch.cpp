// Holds the precompiled header the Catch2 test programs share (tests/CMakeLists.txt): Catch2's
// header and mpiply's umbrella header are parsed once per build instead of once per test file.
