#pragma once
// publish_data: a task reports values to rank 0 while it runs, as ipyparallel's
// ipyparallel.datapub.publish_data; rank 0 reads the latest value of each key with ar.data()
// (docs/output.md). Values are a small JSON-like set, so no registration is needed for them.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace mpiply {

// One published value: a flag, an integer, a number, a text or an array of numbers.
using DataValue = std::variant<bool, std::int64_t, double, std::string, std::vector<double>>;
// The values a task published, by key; a later publish of a key replaces its value.
using DataMap = std::map<std::string, DataValue>;

// Inside a task (on an engine, or on rank 0 when it runs tasks): merges values into this task's
// published data. Rank 0 sees them while the task runs when output streaming is on
// (RunOptions::stream_output, MPIPLY_STREAM=1), and always once its result arrives. Called
// outside a task, or from a thread the task started, it throws UsageError.
//   mpiply::publish_data({{"step", std::int64_t(i)}, {"loss", loss}});
void publish_data(const DataMap& values);

}  // namespace mpiply
