// Client::report: the HTML report of every task so far, from the hub's records (no database).
#include <mpiply/client.hpp>
#include <mpiply/report.hpp>

namespace mpiply {

void Client::report(const std::string& path, const ReportOptions& options) const {
  write_report(all_metadata(), path, options);
}

}  // namespace mpiply
