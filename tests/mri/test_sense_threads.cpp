// SenseOperator and FftPlan applied from several threads at once (CPU): tests/mri/sense_threads.hpp.
#include "tests/mri/sense_threads.hpp"

using namespace lumen;

TEST(SenseThreads, OperatorFromFourThreadsMatchesOneThread) {
    test::check_sense_from_threads(Device::cpu, 33, 27);  // odd: the FFT's scratch path
    test::check_sense_from_threads(Device::cpu, 32, 24);  // even: the modulation path
}

TEST(SenseThreads, FftPlanFromFourThreadsMatchesOneThread) {
    test::check_fft_from_threads(Device::cpu, 33, 27);
    test::check_fft_from_threads(Device::cpu, 32, 24);
}
