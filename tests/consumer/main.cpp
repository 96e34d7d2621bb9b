// Uses the installed public API only: an array, vector algebra and a unitary FFT round trip.
#include <lumen/lumen.hpp>

#include <cmath>
#include <cstdio>

int main() {
    using namespace lumen;
    Array<complex64> x(Shape{4, 8});
    for (index_t i = 0; i < x.size(); ++i) x[i] = complex64(float(i % 5), float(i % 3));
    Array<complex64> y = x.clone();
    FftPlan plan = FftPlan::for_shape(x.shape(), 1, Device::cpu);
    plan.forward(y);
    plan.inverse(y);
    axpy(complex64(-1.0f), View<const complex64>(x), y.view());
    const double err = norm2(View<const complex64>(y)) / norm2(View<const complex64>(x));
    std::printf("lumen %s consumer: FFT round-trip relative error %.2e\n", LUMEN_VERSION, err);
    return err < 1e-5 ? 0 : 1;
}
