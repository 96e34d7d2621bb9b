// A time limit on reading user files (issue #10): libHDF5 and libismrmrd parse what a file says,
// and a corrupt or crafted file can make them loop or crawl (a B-tree that points back into
// itself, a heap walked object by object). No library call can be interrupted safely, so a
// watchdog thread ends the program instead: when one read has been inside the libraries for
// longer than the limit, it prints "PROG: error: FILE: reading took more than N s ..." on stderr,
// removes every staged output (lumen/io/output.hpp) and exits with status 2.
//
// The limit is LUMEN_READ_TIMEOUT seconds (default 3600, generous for any real file on a slow
// disk; 0 turns the watchdog off). Every lumen::io::H5File call and the ISMRMRD checks hold a
// ReadWatch. The watchdog acts only in programs that called enable_read_watchdog() (the apps):
// a library caller's process is never ended behind its back.
#pragma once

#include <string>

namespace lumen::io {

// Starts the watchdog thread (idempotent). Throws Error(usage) when LUMEN_READ_TIMEOUT is not a
// number >= 0.
void enable_read_watchdog();
// The limit in seconds (0: none), from LUMEN_READ_TIMEOUT.
double read_timeout_seconds();

// Marks the time spent in one read of `path`; nested watches count from the outermost.
class ReadWatch {
public:
    explicit ReadWatch(const std::string& path);
    ~ReadWatch();
    ReadWatch(const ReadWatch&) = delete;
    ReadWatch& operator=(const ReadWatch&) = delete;
};

}  // namespace lumen::io
