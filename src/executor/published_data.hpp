#pragma once
// publish_data's engine side and the DataMap wire encoding (include/mpiply/publish.hpp). A task's
// published values live in a per-thread map while it runs (TaskData); its result carries the
// final map, and with streaming on the engine's MPI thread sends the map whenever it changed.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <mpiply/detail/codec.hpp>
#include <mpiply/publish.hpp>

namespace mpiply::detail {

void encode_data(Writer& w, const DataMap& m);
// Throws ValueDecodeError if the bytes are not an encoded DataMap.
DataMap decode_data(std::string_view bytes);

// Marks this thread as running task `msg` (publish_data is refused elsewhere) for its lifetime.
class TaskData {
 public:
  explicit TaskData(std::uint64_t msg);
  ~TaskData();
  TaskData(const TaskData&) = delete;
  TaskData& operator=(const TaskData&) = delete;
  // The task published something: its whole map, encoded (empty when it published nothing).
  std::string encoded() const;

 private:
  TaskData* prev_;
  std::uint64_t msg_;
  DataMap map_;
  friend void mpiply::publish_data(const DataMap&);
  bool published_ = false;
};

// Maps published since the last call, of tasks still running: (msg id, encoded map). For the
// engine's MPI thread when streaming.
std::vector<std::pair<std::uint64_t, std::string>> take_live_data();
// Whether publish_data should queue maps for take_live_data (engines that stream).
void set_live_data(bool on) noexcept;
bool live_data() noexcept;

}  // namespace mpiply::detail
