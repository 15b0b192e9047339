// Fuzzes DMARC record parsing and aggregate reports (XML, and report mail with attachments).
#include <cstdint>
#include <string_view>

#include "dmarc/record.hpp"
#include "dmarc/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)mk::dmarc::is_dmarc_record(in);
  if (auto r = mk::dmarc::parse_record(in)) (void)mk::dmarc::policy_name(r->p);
  if (auto a = mk::dmarc::parse_aggregate_xml(in)) (void)mk::dmarc::aggregate_xml(*a);
  (void)mk::dmarc::reports_in_message(in);
  return 0;
}
