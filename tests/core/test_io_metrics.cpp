// HDF5 round trips (float32, complex64 as h5py's {r, i}, int, strings, attributes), the error
// paths, atomic writes, PNG previews, and the metrics against hand-computed values.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "lumen/io/hdf5.hpp"
#include "lumen/linalg.hpp"
#include "lumen/io/png.hpp"
#include "lumen/metrics.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;

namespace {
template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(Hdf5, RoundTripsEveryType) {
    const std::string path = test::temp_path("round.h5");
    Array<float> f = test::random_real(Shape{2, 3, 4}, 1);
    Array<complex64> c = test::random_complex(Shape{5, 2}, 2);
    Array<std::int64_t> n = Array<std::int64_t>::from({1, -2, 3}, Shape{3});
    {
        io::H5Writer w(path);
        w.write("/a/b/floats", f);
        w.write("/complex", c);
        w.write("/ints", n);
        w.write_string("/header", "<xml>hello</xml>");
        w.write_scalar("/energy", 1.25e-15);
        w.set_attr("/", "method", "awf");
        w.set_attr("/a/b/floats", "scale", 2.5);
        w.set_attr("/", "iters", 12);
        w.commit();
    }
    io::H5File r = io::H5File::open(path);
    EXPECT_TRUE(r.exists("/a/b/floats"));
    EXPECT_FALSE(r.exists("/a/nothing"));
    EXPECT_FALSE(r.exists("/nothing/deeper"));
    EXPECT_EQ(r.info("/complex").dtype, "complex64");
    EXPECT_EQ(r.info("/a/b/floats").shape, (Shape{2, 3, 4}));
    EXPECT_EQ(test::max_rel_diff(f, r.read_float("/a/b/floats", 3)), 0.0);
    EXPECT_EQ(test::max_rel_diff(c, r.read_complex("/complex", 2)), 0.0);
    Array<std::int64_t> n2 = r.read_int("/ints", 1);
    EXPECT_EQ(n2[1], -2);
    EXPECT_EQ(r.read_string("/header"), "<xml>hello</xml>");
    EXPECT_DOUBLE_EQ(r.read_scalar("/energy"), 1.25e-15);
    EXPECT_EQ(r.attr_string("/", "method"), "awf");
    EXPECT_DOUBLE_EQ(r.attr_double("/a/b/floats", "scale"), 2.5);
    EXPECT_DOUBLE_EQ(r.attr_double("/", "iters"), 12.0);
    Array<complex64> part = r.read_complex_items("/complex", 1, 3);
    EXPECT_EQ(part.shape(), (Shape{3, 2}));
    EXPECT_EQ(part[0], c[2]);
    // Integers read as floats convert.
    EXPECT_EQ(r.read_float("/ints")[2], 3.0f);
}

TEST(Hdf5, ErrorsNameFileDatasetFoundAndExpected) {
    const std::string path = test::temp_path("err.h5");
    {
        io::H5Writer w(path);
        Array<float> f(Shape{4, 4});
        w.write("/data", f);
        w.commit();
    }
    io::H5File r = io::H5File::open(path);
    const std::string missing = error_of([&] { r.read_float("/kspace"); });
    EXPECT_NE(missing.find(path), std::string::npos);
    EXPECT_NE(missing.find("/kspace"), std::string::npos);
    EXPECT_NE(missing.find("missing"), std::string::npos);

    const std::string dtype = error_of([&] { r.read_complex("/data"); });
    EXPECT_NE(dtype.find("float32"), std::string::npos);
    EXPECT_NE(dtype.find("expected complex"), std::string::npos);

    const std::string rank = error_of([&] { r.read_float("/data", 3); });
    EXPECT_NE(rank.find("(4, 4)"), std::string::npos);
    EXPECT_NE(rank.find("expected rank 3"), std::string::npos);

    EXPECT_NE(error_of([] { io::H5File::open("/nonexistent/x.h5"); }).find("no such file"), std::string::npos);
    const std::string text = test::temp_path("not.h5");
    std::ofstream(text) << "hello";
    EXPECT_NE(error_of([&] { io::H5File::open(text); }).find("not an HDF5 file"), std::string::npos);
    try {
        r.read_float("/kspace");
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
    }
}

TEST(Hdf5, UncommittedWriteLeavesNoFileAndNeverTouchesTarget) {
    const std::string path = test::temp_path("out.h5");
    std::ofstream(path) << "previous contents";
    {
        io::H5Writer w(path);
        Array<float> f(Shape{3});
        w.write("/x", f);
        // no commit: as if the run failed
    }
    std::ifstream in(path);
    std::string s;
    std::getline(in, s);
    EXPECT_EQ(s, "previous contents");
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path()))
        EXPECT_EQ(e.path().string().find(".tmp-"), std::string::npos) << e.path();
    EXPECT_THROW(io::require_distinct_paths(path, path), Error);
}

TEST(Png, WritesAValidFile) {
    const std::string path = test::temp_path("img.png");
    Array<complex64> img = test::random_complex(Shape{16, 20}, 5);
    io::write_png_magnitude(path, img);
    std::ifstream f(path, std::ios::binary);
    char sig[8];
    f.read(sig, 8);
    EXPECT_EQ(std::string(sig + 1, 3), "PNG");
    EXPECT_THROW(io::write_png(path, Array<float>(Shape{3, 3, 3})), Error);
}

TEST(Metrics, HandComputedValues) {
    Array<float> ref = Array<float>::from({3.0f, 4.0f}, Shape{2});
    Array<float> est = Array<float>::from({3.0f, 3.0f}, Shape{2});
    EXPECT_NEAR(nrmse(ref, est), 1.0 / 5.0, 1e-12);
    EXPECT_NEAR(nmse(ref, est), 1.0 / 25.0, 1e-12);
    // MSE = 0.5, peak 4: 10 log10(16 / 0.5)
    EXPECT_NEAR(psnr(ref, est), 10.0 * std::log10(32.0), 1e-9);
    EXPECT_NEAR(psnr(ref, est, 8.0), 10.0 * std::log10(128.0), 1e-9);
}

TEST(Metrics, ComplexNrmseRemovesGlobalPhaseAndScale) {
    Array<complex64> ref = test::random_complex(Shape{64}, 9);
    Array<complex64> est(Shape{64});
    const complex64 factor = polar(2.0f, 0.7f);
    for (index_t i = 0; i < 64; ++i) est[i] = ref[i] * polar(1.0f, 0.7f);
    EXPECT_LT(nrmse_complex(ref, est, true, false), 1e-6);
    EXPECT_GT(nrmse_complex(ref, est, false, false), 0.5);
    for (index_t i = 0; i < 64; ++i) est[i] = ref[i] * factor;
    EXPECT_LT(nrmse_complex(ref, est, true, true), 1e-6);
    EXPECT_NEAR(nrmse_complex(ref, est, true, false), 1.0, 1e-5);  // phase removed, |2x - x| / |x|
    // Weights restrict the comparison.
    Array<float> w(Shape{64});
    for (index_t i = 0; i < 32; ++i) w[i] = 1.0f;
    for (index_t i = 32; i < 64; ++i) est[i] = complex64(100.0f);
    for (index_t i = 0; i < 32; ++i) est[i] = ref[i];
    EXPECT_LT(nrmse_complex(ref, est, false, false, w), 1e-6);
}

TEST(Metrics, SsimOfIdenticalIsOneAndMatchesHandComputedConstantShift) {
    Array<float> a = test::random_real(Shape{12, 15}, 1);
    EXPECT_NEAR(ssim(a, a, 2.0), 1.0, 1e-12);
    // Constant images x = 1, y = 0.5 with L = 1: variances are zero, so every window gives
    // (2*1*0.5 + C1) / (1 + 0.25 + C1) with C1 = 1e-4.
    Array<float> x(Shape{9, 9}), y(Shape{9, 9});
    fill(x.view(), 1.0f);
    fill(y.view(), 0.5f);
    const double c1 = 1e-4;
    EXPECT_NEAR(ssim(x, y, 1.0), (1.0 + c1) / (1.25 + c1), 1e-9);
    // Noise lowers it.
    Array<float> b = a.clone();
    for (index_t i = 0; i < b.size(); i += 2) b[i] += 0.5f;
    EXPECT_LT(ssim(a, b, 2.0), 0.95);
    Array<float> s3 = test::random_real(Shape{2, 8, 8}, 4);
    EXPECT_NEAR(ssim_stack(s3, s3), 1.0, 1e-12);
}
