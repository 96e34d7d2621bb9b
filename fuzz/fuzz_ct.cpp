// Raw bytes as a ct input file (fuzz/README.md). Seeds: fuzz/corpus/fuzz_ct/.
#include "fuzz/common.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    lumen::fuzz::init();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    lumen::fuzz::read_ct(lumen::fuzz::write_input(data, size));
    return 0;
}
