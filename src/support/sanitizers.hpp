#pragma once
// Whether this translation unit is built with AddressSanitizer (GCC says so with
// __SANITIZE_ADDRESS__, clang with __has_feature): MPIPLY_ASAN is 1 then, else 0.
#if defined(__SANITIZE_ADDRESS__)
#define MPIPLY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MPIPLY_ASAN 1
#endif
#endif
#ifndef MPIPLY_ASAN
#define MPIPLY_ASAN 0
#endif
