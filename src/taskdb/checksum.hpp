#pragma once
// Checksums of the task database's stored records (docs/database.md, "Integrity"): each result's
// bytes carry a 64-bit XXH3 written beside them, and each packed row a checksum of its strings
// and meta blobs. A record whose checksum does not match is never returned as a value.
#include <cstdint>
#include <string_view>

namespace mpiply::detail {

std::uint64_t result_checksum(std::string_view bytes) noexcept;
// Of a row's strings and meta blobs together (the results blob is covered per record).
std::uint64_t row_checksum(std::string_view strings, std::string_view meta) noexcept;

// False only when the bench knob MPIPLY_BENCH_NO_CHECKSUM=1 is set on rank 0 (read when a
// database is opened): its rows are then written without checksums (NULL in `checksum`, 0 per
// record), and every later read refuses them as unverifiable. It exists so that jobs/bench can
// measure what the checksums cost, not for use.
bool checksums_on() noexcept;

}  // namespace mpiply::detail
