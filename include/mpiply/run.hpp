#pragma once
// mpiply::run: the entry point of a program. Every rank calls it; rank 0 runs client_main with a
// Client while the other ranks serve as engines. When client_main returns (or throws: the error
// is printed and the code is 1) the engines are stopped and every rank returns the same code.
#include <functional>
#include <type_traits>
#include <utility>

#include <mpiply/client.hpp>

namespace mpiply {

// Exit codes mpiply itself returns on every rank.
inline constexpr int kExitClientThrew = 1;
inline constexpr int kExitStartupFailed = 2;

int run(int argc, char** argv, std::function<int(Client&)> client_main);

template <class F>
  requires std::is_invocable_v<F&, Client&> &&
           std::is_void_v<std::invoke_result_t<F&, Client&>>
int run(int argc, char** argv, F&& client_main) {
  return run(argc, argv, std::function<int(Client&)>([&client_main](Client& c) {
               client_main(c);
               return 0;
             }));
}

}  // namespace mpiply
