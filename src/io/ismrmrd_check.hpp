// Validation of ISMRMRD acquisition records before libismrmrd reads them (issue #10 item 5).
#pragma once

#include <string>

namespace lumen::io {

// libismrmrd 1.8 copies number_of_samples x active_channels complex samples (and
// trajectory_dimensions x number_of_samples floats) out of each record's variable-length data
// without comparing with the length stored: a header claiming more than the record holds reads
// past the end of a heap buffer. This reads every record's header fields and stored lengths with
// HDF5 alone and throws Error(bad_input), naming the file, dataset and acquisition, when they
// disagree or when /dataset/data is not an ISMRMRD acquisition table.
void check_ismrmrd_acquisitions(const std::string& path, const std::string& dataset = "/dataset/data");

}  // namespace lumen::io
