#pragma once
// Options of map: how many items travel per message, and whether iteration yields results in
// input order or as they arrive.
namespace mpiply {

struct MapOptions {
  long chunksize = 1;  // items per task message; must be at least 1
  bool ordered = true;
};

}  // namespace mpiply
