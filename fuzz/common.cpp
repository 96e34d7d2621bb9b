#include "fuzz/common.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lumen/ct/io.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/ptycho/io.hpp"

namespace lumen::fuzz {

void init() {
    // Well below libFuzzer's -rss_limit_mb: a declared size above this is a clean refusal.
    ::setenv("LUMEN_MEMORY_LIMIT", "512M", 1);
}

std::string write_input(const std::uint8_t* data, std::size_t size) {
    static const std::string path = [] {
        const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
        return dir + "/lumen-fuzz-" + std::to_string(::getpid()) + ".h5";
    }();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    return path;
}

void read_ct(const std::string& path) {
    try {
        const ct::Scan s = ct::read_scan(path);
        (void)ct::transmission(s, Device::cpu);
    } catch (const Error&) {
    }
}

void read_mri(const std::string& path) {
    try {
        const mri::ScanReader r = mri::ScanReader::open(path);
        (void)r.file_mask();
        for (index_t s = 0; s < r.header().slices && s < 4; ++s) (void)r.read_slice(s);
        (void)r.reference();
    } catch (const Error&) {
    }
}

void read_ptycho(const std::string& path) {
    try {
        (void)ptycho::read_cxi(path);
    } catch (const Error&) {
    }
}

}  // namespace lumen::fuzz
