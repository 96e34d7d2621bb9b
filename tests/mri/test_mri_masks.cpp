// Sampling masks: fastMRI's definitions (centre block, acceleration, seeding), Poisson-disc
// acceleration and calibration box, and the calibration-box search ESPIRiT uses.
#include <cmath>
#include <numeric>
#include <string>

#include "lumen/mri/mask.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::mri;

namespace {
index_t count(const Array<float>& m) {
    index_t n = 0;
    for (float v : m) n += v != 0.0f;
    return n;
}
}  // namespace

TEST(MriMask, FastMriCentreBlock) {
    // num_low = round-half-even(W * cf); pad = (W - num_low + 1) // 2.
    EXPECT_EQ(num_low_frequencies(368, 0.08), 29);
    EXPECT_EQ(num_low_frequencies(368, 0.04), 15);
    EXPECT_EQ(num_low_frequencies(50, 0.05), 2);  // 2.5 rounds to even
    EXPECT_EQ(num_low_frequencies(70, 0.05), 4);  // 3.5 rounds to even
    const Array<float> m = random_column_mask(368, 4.0, 0.08, 3);
    for (index_t i = 170; i < 199; ++i) EXPECT_EQ(m[i], 1.0f) << i;
    const Array<float> m8 = equispaced_column_mask(368, 8.0, 0.04, 3);
    for (index_t i = 177; i < 192; ++i) EXPECT_EQ(m8[i], 1.0f) << i;
}

TEST(MriMask, RandomHitsTheAccelerationOnAverage) {
    // Expected columns W / acc (fastMRI draws every column, then adds the centre); over 1000 seeds
    // the mean count is within 3 % (its standard error is about 0.4 %).
    for (double acc : {4.0, 8.0}) {
        double total = 0;
        for (std::uint64_t seed = 0; seed < 1000; ++seed) total += double(count(random_column_mask(368, acc, default_center_fraction(acc), seed)));
        const double mean_acc = 368.0 / (total / 1000.0);
        EXPECT_NEAR(mean_acc, acc, 0.03 * acc) << acc;
    }
}

TEST(MriMask, SeedsReproduceAndDiffer) {
    const Array<float> a = random_column_mask(320, 4.0, 0.08, 42), b = random_column_mask(320, 4.0, 0.08, 42);
    const Array<float> c = random_column_mask(320, 4.0, 0.08, 43);
    index_t same = 0, diff = 0;
    for (index_t i = 0; i < 320; ++i) {
        same += a[i] == b[i];
        diff += a[i] != c[i];
    }
    EXPECT_EQ(same, 320);
    EXPECT_GT(diff, 20);
    EXPECT_THROW(random_column_mask(320, 4.0, 0.08, std::uint64_t(1) << 33), Error);
}

TEST(MriMask, EquispacedSpacingAndFraction) {
    const Array<float> m = equispaced_column_mask(368, 4.0, 0.08, 5);
    // Outside the centre block, sampled columns are exactly 4 apart.
    index_t prev = -1;
    for (index_t i = 0; i < 170; ++i)
        if (m[i] != 0.0f) {
            if (prev >= 0) {
                EXPECT_EQ(i - prev, 4);
            }
            prev = i;
        }
    EXPECT_THROW(equispaced_column_mask(368, 4.5, 0.08, 5), Error);
    // EquispacedMaskFraction: the adjusted spacing makes the total W / acc within a column or two.
    for (double acc : {4.0, 8.0}) {
        const Array<float> f = equispaced_fraction_column_mask(368, acc, default_center_fraction(acc), 1);
        EXPECT_NEAR(double(count(f)), 368.0 / acc, 2.0) << acc;
    }
}

TEST(MriMask, PoissonAccelerationAndCalibration) {
    for (double acc : {4.0, 8.0}) {
        const Array<float> m = poisson_disc_mask(128, 96, acc, 20, 7);
        EXPECT_NEAR(achieved_acceleration(m.view()), acc, 0.02 * acc + 1e-9) << acc;
        const CalibrationBox box = find_calibration_box(m.view(), 24, 24);
        EXPECT_GE(box.rows, 20);
        EXPECT_GE(box.cols, 20);
        // Corners outside the unit ellipse of the outer region are never sampled.
        EXPECT_EQ(m[0], 0.0f);
        EXPECT_EQ(m[127 * 96 + 95], 0.0f);
        // Variable density: the inner quarter is sampled more densely than the outer ring.
        double inner = 0, inner_n = 0, outer = 0, outer_n = 0;
        for (index_t y = 0; y < 128; ++y)
            for (index_t x = 0; x < 96; ++x) {
                const double r = std::hypot((y - 64) / 64.0, (x - 48) / 48.0);
                if (r < 0.4) inner += m[y * 96 + x], inner_n += 1;
                else if (r > 0.7 && r < 1.0) outer += m[y * 96 + x], outer_n += 1;
            }
        EXPECT_GT(inner / inner_n, 1.5 * outer / outer_n);
    }
    EXPECT_THROW(poisson_disc_mask(32, 32, 8.0, 24, 1), Error);  // the box alone exceeds 1/8
}

TEST(MriMask, MakeMaskExpandsAndRestricts) {
    MaskSpec spec;
    spec.kind = MaskKind::random;
    spec.acceleration = 4.0;
    spec.seed = 1;
    Array<float> m = make_mask(spec, 16, 64);
    EXPECT_EQ(m.shape(), Shape({16, 64}));
    for (index_t y = 1; y < 16; ++y)
        for (index_t x = 0; x < 64; ++x) EXPECT_EQ(m[y * 64 + x], m[x]);
    restrict_columns(m.view(), 4, 60);
    for (index_t y = 0; y < 16; ++y) {
        EXPECT_EQ(m[y * 64 + 2], 0.0f);
        EXPECT_EQ(m[y * 64 + 61], 0.0f);
    }
    const CalibrationBox box = find_calibration_box(m.view(), 24, 24);
    EXPECT_EQ(box.rows, 16);
    EXPECT_GE(box.cols, num_low_frequencies(64, 0.08));
    EXPECT_THROW(expand_mask(Array<float>(Shape{63}).view(), 16, 64), Error);
    EXPECT_THROW(parse_mask_kind("spiral"), Error);
}

TEST(MriMask, BitExactWithFastMriNumpyMasks) {
    // Expected strings made with numpy 2 RandomState(seed) following fastmri/data/subsample.py
    // (RandomMaskFunc, EquiSpacedMaskFunc, EquispacedMaskFractionFunc; one (cf, acc) pair).
    struct Case {
        int kind;
        index_t width;
        double acc, cf;
        std::uint64_t seed;
        const char* bits;
    };
    const Case cases[] = {
        {0, 368, 4.0, 0.08, 42,
         "00001110001000110000010000000101100001001010000001000000101000000010100010000101000100000010000000111000000001010000000000010000100010000000000001001000100000000000100010111111111111111111111111111110011001101100000000000010000000000000010100001000000000100001001000000000000000000001010000110010000110000000000110000110000000000000111100010010000100000110100000000000"},
        {1, 368, 8.0, 0.04, 7,
         "00000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001011111111111111100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001000000010000000100000001"},
        {2, 320, 4.0, 0.08, 123456,
         "01000010000010000100000100001000001000010000010000100001000001000010000010000100000100001000001000010000100000100001000001000010000010000100000100011111111111111111111111111001000001000010000010000100001000001000010000010000100000100001000001000010000100000100001000001000010000010000100000100001000010000010000100000100"},
    };
    for (const Case& c : cases) {
        const Array<float> m = c.kind == 0   ? random_column_mask(c.width, c.acc, c.cf, c.seed)
                               : c.kind == 1 ? equispaced_column_mask(c.width, c.acc, c.cf, c.seed)
                                             : equispaced_fraction_column_mask(c.width, c.acc, c.cf, c.seed);
        std::string got;
        for (float v : m) got += v != 0.0f ? '1' : '0';
        EXPECT_EQ(got, c.bits) << "kind " << c.kind;
    }
}
