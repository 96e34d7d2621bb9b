// What the fuzz targets share: writing the input to a file the readers can open, and the
// readers' entry points with every expected refusal (lumen::Error) caught. Anything else (a
// crash, a sanitizer report, another exception, a hang) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace lumen::fuzz {

// Sets what every target needs once: a memory limit so that header-declared sizes are refused
// by lumen (not by libFuzzer's allocator limit), HDF5 quiet.
void init();
// A per-process scratch path (tmpfs when available) holding `size` bytes of `data`.
std::string write_input(const std::uint8_t* data, std::size_t size);

// Each reads the file fully the way `recon` does before reconstructing, and returns normally
// when the file is refused with a lumen::Error.
void read_ct(const std::string& path);
void read_mri(const std::string& path);
void read_ptycho(const std::string& path);

}  // namespace lumen::fuzz
