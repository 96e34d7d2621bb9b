// SenseOperator and FftPlan on the GPU applied from several host threads at once (the cuFFT plan
// and the scratch buffers are shared): tests/mri/sense_threads.hpp.
#include "tests/mri/sense_threads.hpp"

using namespace lumen;

TEST(SenseThreadsGpu, OperatorFromFourThreadsMatchesOneThread) {
    LUMEN_REQUIRE_GPU();
    test::check_sense_from_threads(Device::cuda, 33, 27);
    test::check_sense_from_threads(Device::cuda, 32, 24);
}

TEST(SenseThreadsGpu, FftPlanFromFourThreadsMatchesOneThread) {
    LUMEN_REQUIRE_GPU();
    test::check_fft_from_threads(Device::cuda, 33, 27);
    test::check_fft_from_threads(Device::cuda, 32, 24);
}
