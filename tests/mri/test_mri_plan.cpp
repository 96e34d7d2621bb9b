// mri::SliceReconstructor's view-out overload: the same bits as the overload that returns host
// arrays for every method, a reconstructor reused on another slice gives what a fresh one gives,
// and views of the wrong shape or device are refused by name.
#include <limits>
#include <string>

#include "lumen/linalg.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

constexpr index_t kC = 4, kH = 32, kW = 32;

SimulatedScan two_slices() {
    SimulationOptions o;
    o.height = kH;
    o.width = kW;
    o.coils = kC;
    o.slices = 2;
    o.recon_height = 16;
    o.noise = 0.05;
    o.seed = 3;
    return simulate(o);
}

// Every other column and the 8 central ones.
Array<float> column_mask() {
    Array<float> m(Shape{kH, kW});
    for (index_t y = 0; y < kH; ++y)
        for (index_t x = 0; x < kW; ++x) m[y * kW + x] = (x % 2 == 0 || (x >= kW / 2 - 4 && x < kW / 2 + 4)) ? 1.0f : 0.0f;
    return m;
}

std::vector<ReconOptions> every_method() {
    std::vector<ReconOptions> all;
    for (Method m : {Method::zero_filled, Method::cg_sense, Method::l1_wavelet, Method::tv}) {
        ReconOptions o;
        o.method = m;
        o.iterations = 5;
        o.wavelet_levels = 2;
        all.push_back(o);
    }
    return all;
}

View<const complex64> slice_of(const SimulatedScan& s, index_t slice) { return s.kspace.view().item(slice); }

}  // namespace

TEST(MriPlan, ViewOutEqualsTheReturnedImagesBitwise) {
    const SimulatedScan s = two_slices();
    const Array<float> mask = column_mask();
    for (const ReconOptions& o : every_method()) {
        SCOPED_TRACE(method_name(o.method));
        const SliceRecon returned = SliceReconstructor(o).reconstruct(slice_of(s, 0), mask, s.sensitivities);
        Array<float> magnitude(Shape{kH, kW});
        fill(magnitude.view(), std::numeric_limits<float>::quiet_NaN());  // every pixel is written
        Array<complex64> image;
        if (o.method != Method::zero_filled) image = Array<complex64>(Shape{kH, kW});
        const SliceInfo info = SliceReconstructor(o).reconstruct(slice_of(s, 0), mask, s.sensitivities, magnitude, image);
        EXPECT_TRUE(test::same_bits(returned.magnitude, magnitude));
        EXPECT_TRUE(test::same_bits(returned.image, image));
        EXPECT_EQ(info.solver.iterations, returned.solver.iterations);
        EXPECT_EQ(info.data_scale, returned.data_scale);
        EXPECT_EQ(info.residual_sq, returned.residual_sq);
        // The SENSE image is optional: without it the magnitude is the same.
        if (o.method != Method::zero_filled) {
            Array<float> alone(Shape{kH, kW});
            SliceReconstructor(o).reconstruct(slice_of(s, 0), mask, s.sensitivities, alone, View<complex64>());
            EXPECT_TRUE(test::same_bits(magnitude, alone));
        }
    }
}

TEST(MriPlan, ReusedReconstructorEqualsFreshOnes) {
    const SimulatedScan s = two_slices();
    const Array<float> mask = column_mask();
    for (const ReconOptions& o : every_method()) {
        SCOPED_TRACE(method_name(o.method));
        SliceReconstructor reused(o);
        Array<float> m0(Shape{kH, kW}), m1(Shape{kH, kW}), fresh(Shape{kH, kW});
        reused.reconstruct(slice_of(s, 0), mask, s.sensitivities, m0, {});
        reused.reconstruct(slice_of(s, 1), mask, s.sensitivities, m1, {});
        SliceReconstructor(o).reconstruct(slice_of(s, 1), mask, s.sensitivities, fresh, {});
        EXPECT_TRUE(test::same_bits(m1, fresh));
        EXPECT_FALSE(test::same_bits(m0, m1));  // the slices differ (their noise)
    }
}

TEST(MriPlan, RefusesViewsOfTheWrongShapeOrDevice) {
    const SimulatedScan s = two_slices();
    const Array<float> mask = column_mask();
    ReconOptions o;
    o.iterations = 2;
    SliceReconstructor plan(o);
    Array<float> magnitude(Shape{kH, kW}), wrong(Shape{kH, kW + 1});
    Array<complex64> image(Shape{kH, kW}), wrong_image(Shape{kH + 1, kW});
    Array<complex64> wrong_maps(Shape{kC + 1, kH, kW});
    auto field = [](const std::function<void()>& f) { return test::error_field(ErrorCode::bad_input, f); };
    EXPECT_EQ(field([&] { plan.reconstruct(slice_of(s, 0), mask, s.sensitivities, wrong, image); }), "magnitude");
    EXPECT_EQ(field([&] { plan.reconstruct(slice_of(s, 0), mask, s.sensitivities, magnitude, wrong_image); }), "image");
    EXPECT_EQ(field([&] { plan.reconstruct(slice_of(s, 0), mask, wrong_maps, magnitude, image); }), "maps");
    EXPECT_EQ(field([&] { plan.reconstruct(slice_of(s, 0), wrong, s.sensitivities, magnitude, image); }), "mask");
    ReconOptions zf;
    zf.method = Method::zero_filled;
    EXPECT_EQ(field([&] { SliceReconstructor(zf).reconstruct(slice_of(s, 0), mask, {}, magnitude, image); }), "image");
    if (!cuda_available()) {
        const View<float> device_magnitude(magnitude.data(), magnitude.shape(), Device::cuda);
        EXPECT_EQ(test::error_field(ErrorCode::no_gpu,
                                    [&] { plan.reconstruct(slice_of(s, 0), mask, s.sensitivities, device_magnitude, {}); }),
                  "magnitude");
    }
}
