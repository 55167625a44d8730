#pragma once
// The one way to make a Client (its constructor is private so user code holds only the Client&
// that run() hands it): run.cpp, and tests that drive a ClientCore of their own.
#include <memory>

#include <mpiply/client.hpp>

namespace mpiply::detail {

struct ClientFactory {
  static Client make(std::shared_ptr<ClientCore> core) { return Client(std::move(core)); }
};

}  // namespace mpiply::detail
