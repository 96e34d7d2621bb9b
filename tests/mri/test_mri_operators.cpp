// MRI operators: the centred DFT convention against a direct DFT (with the MRI index convention
// k, r measured from the centre index n/2), SENSE adjointness and a slow reference, the fused
// normal operator, coil utilities and crops.
#include <cmath>
#include <complex>
#include <vector>

#include "lumen/linalg.hpp"
#include "lumen/mri/sense.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {

using cd = std::complex<double>;

// Centred unitary DFT of one [h][w] image written directly from the definition:
// y[ky][kx] = 1/sqrt(hw) sum x[y][x] exp(-+2 pi i ((ky - h/2)(y - h/2)/h + (kx - w/2)(x - w/2)/w)).
std::vector<cd> centered_dft(const complex64* x, index_t h, index_t w, int sign) {
    std::vector<cd> out(std::size_t(h * w));
    for (index_t ky = 0; ky < h; ++ky)
        for (index_t kx = 0; kx < w; ++kx) {
            cd acc = 0;
            for (index_t y = 0; y < h; ++y)
                for (index_t xx = 0; xx < w; ++xx) {
                    const double ph = double((ky - h / 2) * (y - h / 2)) / double(h) +
                                      double((kx - w / 2) * (xx - w / 2)) / double(w);
                    const complex64 v = x[y * w + xx];
                    acc += cd(v.re, v.im) * std::polar(1.0, sign * 2.0 * kPi * ph);
                }
            out[std::size_t(ky * w + kx)] = acc / std::sqrt(double(h * w));
        }
    return out;
}

double max_abs_diff(const complex64* a, const std::vector<cd>& b) {
    double e = 0;
    for (std::size_t i = 0; i < b.size(); ++i) e = std::max(e, std::abs(cd(a[i].re, a[i].im) - b[i]));
    return e;
}

}  // namespace

TEST(MriFft, CenteredMatchesDirectDftOddAndEven) {
    for (auto hw : std::vector<std::pair<index_t, index_t>>{{8, 6}, {7, 5}, {9, 12}}) {
        const index_t h = hw.first, w = hw.second;
        Array<complex64> x = test::random_complex(Shape{2, h, w}, 11);
        const Array<complex64> orig = x.clone();
        fft_centered(x.view());
        for (index_t b = 0; b < 2; ++b) {
            const auto ref = centered_dft(orig.data() + b * h * w, h, w, -1);
            EXPECT_LT(max_abs_diff(x.data() + b * h * w, ref), 1e-5) << h << "x" << w;
        }
        Array<complex64> y = orig.clone();
        ifft_centered(y.view());
        const auto ref_inv = centered_dft(orig.data(), h, w, +1);
        EXPECT_LT(max_abs_diff(y.data(), ref_inv), 1e-5) << h << "x" << w;
    }
}

TEST(MriSense, AdjointTest2dAnd3d) {
    {
        const Array<complex64> maps = test::random_complex(Shape{4, 24, 20}, 1);
        Array<float> mask = test::random_real(Shape{24, 20}, 2);
        for (auto& v : mask) v = v > 0.2f ? 1.0f : 0.0f;
        const SenseOperator A(maps.view(), mask.view(), Device::cpu);
        EXPECT_LT(adjoint_test(A, 5), 1e-5);
    }
    {
        const Array<complex64> maps = test::random_complex(Shape{3, 6, 8, 10}, 3);
        Array<float> mask = test::random_real(Shape{6, 8, 10}, 4);
        for (auto& v : mask) v = v > 0.0f ? 1.0f : 0.0f;
        const SenseOperator A(maps.view(), mask.view(), Device::cpu);
        EXPECT_LT(adjoint_test(A, 6), 1e-5);
    }
}

class MriSenseReference : public ::testing::TestWithParam<std::pair<index_t, index_t>> {};

// Odd sizes use the centred FFT; even sizes the modulated plain FFT: both against the definition.
INSTANTIATE_TEST_SUITE_P(OddAndEven, MriSenseReference,
                         ::testing::Values(std::make_pair(index_t(9), index_t(8)), std::make_pair(index_t(8), index_t(6)),
                                           std::make_pair(index_t(10), index_t(14))));

TEST_P(MriSenseReference, ForwardAndNormalMatchSlowReference) {
    const index_t C = 3, h = GetParam().first, w = GetParam().second;
    const Array<complex64> maps = test::random_complex(Shape{C, h, w}, 7);
    const Array<complex64> x = test::random_complex(Shape{h, w}, 8);
    Array<float> mask(Shape{h, w});
    for (index_t i = 0; i < h * w; ++i) mask[i] = (i * 7) % 3 == 0 ? 0.0f : 1.0f;
    const SenseOperator A(maps.view(), mask.view(), Device::cpu);

    Array<complex64> y(Shape{C, h, w});
    A.apply(x.view(), y.view());
    std::vector<cd> ref_y(std::size_t(C * h * w));
    for (index_t c = 0; c < C; ++c) {
        Array<complex64> coil(Shape{h, w});
        for (index_t i = 0; i < h * w; ++i) coil[i] = maps[c * h * w + i] * x[i];
        const auto k = centered_dft(coil.data(), h, w, -1);
        for (index_t i = 0; i < h * w; ++i) ref_y[std::size_t(c * h * w + i)] = k[std::size_t(i)] * double(mask[i]);
    }
    EXPECT_LT(max_abs_diff(y.data(), ref_y), 1e-5);

    // Normal operator = adjoint(forward), and the fused path equals the generic one.
    Array<complex64> n1(Shape{h, w}), n2(Shape{h, w});
    A.apply_normal(x.view(), n1.view());
    A.apply_adjoint(y.view(), n2.view());
    EXPECT_LT(test::max_rel_diff(n1.view(), n2.view()), 1e-5);
    // Slow adjoint: sum_c conj(S_c) IDFT(M y_c).
    std::vector<cd> ref_n(std::size_t(h * w), 0.0);
    for (index_t c = 0; c < C; ++c) {
        Array<complex64> kc(Shape{h, w});
        for (index_t i = 0; i < h * w; ++i) kc[i] = complex64(float(ref_y[std::size_t(c * h * w + i)].real()),
                                                              float(ref_y[std::size_t(c * h * w + i)].imag()));
        const auto img = centered_dft(kc.data(), h, w, +1);
        for (index_t i = 0; i < h * w; ++i)
            ref_n[std::size_t(i)] += std::conj(cd(maps[c * h * w + i].re, maps[c * h * w + i].im)) * img[std::size_t(i)];
    }
    EXPECT_LT(max_abs_diff(n1.data(), ref_n), 1e-4);
}

TEST(MriSense, SetMapsAndMaskReuseThePlan) {
    const Array<complex64> m1 = test::random_complex(Shape{2, 8, 8}, 1), m2 = test::random_complex(Shape{2, 8, 8}, 2);
    Array<float> mask(Shape{8, 8});
    fill(mask.view(), 1.0f);
    SenseOperator A(m1.view(), mask.view(), Device::cpu);
    A.set_maps(m2.view());
    const SenseOperator B(m2.view(), mask.view(), Device::cpu);
    const Array<complex64> x = test::random_complex(Shape{8, 8}, 3);
    Array<complex64> ya(Shape{2, 8, 8}), yb(Shape{2, 8, 8});
    A.apply(x.view(), ya.view());
    B.apply(x.view(), yb.view());
    EXPECT_EQ(test::max_rel_diff(ya.view(), yb.view()), 0.0);
    EXPECT_THROW(A.set_maps(test::random_complex(Shape{3, 8, 8}, 4).view()), Error);
    EXPECT_THROW(SenseOperator(m1.view(), Array<float>(Shape{8, 7}).view(), Device::cpu), Error);
}

TEST(MriSense, UnitNormMapsFullMaskIsIsometry) {
    // With sum_c |S_c|^2 = 1 and a full mask, A^H A = I (unitary F): the SENSE convention is exact.
    const index_t C = 4, h = 10, w = 12;
    Array<complex64> maps = test::random_complex(Shape{C, h, w}, 9);
    for (index_t p = 0; p < h * w; ++p) {
        double s = 0;
        for (index_t c = 0; c < C; ++c) s += norm(maps[c * h * w + p]);
        for (index_t c = 0; c < C; ++c) maps[c * h * w + p] = maps[c * h * w + p] * float(1.0 / std::sqrt(s));
    }
    Array<float> mask(Shape{h, w});
    fill(mask.view(), 1.0f);
    const SenseOperator A(maps.view(), mask.view(), Device::cpu);
    const Array<complex64> x = test::random_complex(Shape{h, w}, 10);
    Array<complex64> out(Shape{h, w});
    A.apply_normal(x.view(), out.view());
    EXPECT_LT(test::max_rel_diff(x.view(), out.view()), 1e-5);
    EXPECT_NEAR(operator_norm(A, 20), 1.0, 1e-3);
}

TEST(MriCoils, RssCombineMaskAndCrop) {
    const Array<complex64> z = test::random_complex(Shape{3, 5, 4}, 1);
    const Array<complex64> maps = test::random_complex(Shape{3, 5, 4}, 2);
    Array<float> r(Shape{5, 4});
    rss(z.view(), r.view());
    Array<complex64> comb(Shape{5, 4});
    coil_combine(z.view(), maps.view(), comb.view());
    for (index_t p = 0; p < 20; ++p) {
        double s = 0;
        cd acc = 0;
        for (index_t c = 0; c < 3; ++c) {
            s += norm(z[c * 20 + p]);
            acc += std::conj(cd(maps[c * 20 + p].re, maps[c * 20 + p].im)) * cd(z[c * 20 + p].re, z[c * 20 + p].im);
        }
        EXPECT_NEAR(r[p], std::sqrt(s), 1e-5);
        EXPECT_NEAR(comb[p].re, acc.real(), 1e-5);
        EXPECT_NEAR(comb[p].im, acc.imag(), 1e-5);
    }
    Array<complex64> k = test::random_complex(Shape{2, 5, 4}, 3);
    Array<float> m(Shape{5, 4});
    for (index_t i = 0; i < 20; ++i) m[i] = i % 2 ? 1.0f : 0.0f;
    apply_mask(k.view(), m.view(), k.view());
    Array<float> inferred(Shape{5, 4});
    mask_from_data(k.view(), inferred.view());
    for (index_t i = 0; i < 20; ++i) EXPECT_EQ(inferred[i], m[i]);

    // fastMRI crop offsets: start = (H - h) // 2; padding is the exact adjoint.
    Array<float> img(Shape{2, 7, 6});
    for (index_t i = 0; i < img.size(); ++i) img[i] = float(i);
    const Array<float> c = center_crop(img.view(), 4, 3);
    EXPECT_EQ(c.shape(), Shape({2, 4, 3}));
    EXPECT_EQ(c[0], img[1 * 6 + 1]);                 // start (1, 1)
    EXPECT_EQ(c[12 + 3 * 3 + 2], img[42 + 4 * 6 + 3]);
    const auto crop = crop_operator(Shape{7, 6}, 4, 3, Device::cpu);
    EXPECT_LT(adjoint_test(*crop, 3), 1e-6);
}
