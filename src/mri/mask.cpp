// Sampling masks: fastMRI's 1-D column masks and variable-density Poisson-disc masks.
#include "lumen/mri/mask.hpp"

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "lumen/core/error.hpp"

namespace lumen::mri {

namespace {

// The random numbers of numpy's legacy RandomState (which fastMRI's mask functions use): MT19937
// seeded by init_genrand (what std::mt19937(seed) does), doubles from two 32-bit draws, bounded
// integers by masked rejection. Written against those definitions so that masks agree bit for bit.
class NumpyRandomState {
public:
    explicit NumpyRandomState(std::uint64_t seed) {
        require(seed <= 0xFFFFFFFFull, "mask seed " + std::to_string(seed) +
                                           " is out of range: fastMRI-compatible seeds are 0 to 4294967295");
        gen_.seed(std::uint32_t(seed));
    }
    double random_sample() {
        const std::uint32_t a = std::uint32_t(gen_()) >> 5, b = std::uint32_t(gen_()) >> 6;
        return (double(a) * 67108864.0 + double(b)) / 9007199254740992.0;
    }
    // numpy randint(0, high): uniform in [0, high).
    std::int64_t randint(std::int64_t high) {
        const std::uint32_t range = std::uint32_t(high - 1);
        if (range == 0) return 0;  // numpy draws nothing in this case
        std::uint32_t mask = range;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        std::uint32_t v;
        do {
            v = std::uint32_t(gen_()) & mask;
        } while (v > range);
        return std::int64_t(v);
    }

private:
    std::mt19937 gen_;
};

// Python's round() and numpy's around(): half to even (the default floating-point rounding mode).
double round_half_even(double x) {
    const int old = std::fegetround();
    std::fesetround(FE_TONEAREST);
    const double r = std::nearbyint(x);
    std::fesetround(old);
    return r;
}

void check_mask_args(index_t width, double acceleration, double center_fraction, const char* kind) {
    require(width >= 2, std::string(kind) + " mask: the k-space width must be at least 2, got " + std::to_string(width));
    require_option(std::isfinite(acceleration) && acceleration >= 1.0, "MaskSpec.acceleration",
                   std::string(kind) + " mask: must be at least 1, got " + std::to_string(acceleration));
    require_option(std::isfinite(center_fraction) && center_fraction > 0.0 && center_fraction <= 1.0,
                   "MaskSpec.center_fraction",
                   std::string(kind) + " mask: must be in (0, 1], got " + std::to_string(center_fraction));
    require_option(double(width) / acceleration >= double(num_low_frequencies(width, center_fraction)) ||
                       acceleration == 1.0,
                   "MaskSpec.center_fraction",
                   std::string(kind) + " mask: acceleration " + std::to_string(acceleration) + " with centre fraction " +
                       std::to_string(center_fraction) + " would keep fewer columns (" +
                       std::to_string(double(width) / acceleration) + ") than the fully sampled centre (" +
                       std::to_string(num_low_frequencies(width, center_fraction)) + "); lower the centre fraction");
}

// fastMRI's centre block: pad = (W - low + 1) // 2, columns [pad, pad + low).
void set_center(Array<float>& mask, index_t low) {
    const index_t width = mask.size();
    const index_t pad = (width - low + 1) / 2;
    for (index_t i = pad; i < pad + low; ++i) mask[i] = 1.0f;
}

}  // namespace

MaskKind parse_mask_kind(const std::string& text) {
    if (text == "random") return MaskKind::random;
    if (text == "equispaced") return MaskKind::equispaced;
    if (text == "equispaced-fraction") return MaskKind::equispaced_fraction;
    if (text == "poisson") return MaskKind::poisson;
    invalid_option("MaskSpec.kind",
                   "unknown mask '" + text + "'; expected random, equispaced, equispaced-fraction or poisson");
}

const char* mask_kind_name(MaskKind kind) noexcept {
    switch (kind) {
        case MaskKind::random: return "random";
        case MaskKind::equispaced: return "equispaced";
        case MaskKind::equispaced_fraction: return "equispaced-fraction";
        case MaskKind::poisson: return "poisson";
    }
    return "?";
}

index_t num_low_frequencies(index_t width, double center_fraction) {
    return index_t(round_half_even(double(width) * center_fraction));
}

double default_center_fraction(double acceleration) {
    if (acceleration == 4.0) return 0.08;
    if (acceleration == 8.0) return 0.04;
    return std::min(1.0, 0.32 / acceleration);
}

Array<float> random_column_mask(index_t width, double acceleration, double center_fraction, std::uint64_t seed) {
    check_mask_args(width, acceleration, center_fraction, "random");
    NumpyRandomState rng(seed);
    const index_t low = num_low_frequencies(width, center_fraction);
    Array<float> mask(Shape{width});
    const double prob = (double(width) / acceleration - double(low)) / double(width - low);
    for (index_t i = 0; i < width; ++i) mask[i] = rng.random_sample() < prob ? 1.0f : 0.0f;
    set_center(mask, low);
    return mask;
}

Array<float> equispaced_column_mask(index_t width, double acceleration, double center_fraction, std::uint64_t seed) {
    check_mask_args(width, acceleration, center_fraction, "equispaced");
    require_option(acceleration == std::floor(acceleration), "MaskSpec.acceleration",
                   "equispaced mask: must be a whole number (every acc-th column), got " + std::to_string(acceleration) +
                       "; the equispaced-fraction and random masks take fractional accelerations");
    NumpyRandomState rng(seed);
    const index_t low = num_low_frequencies(width, center_fraction);
    const auto step = index_t(acceleration);
    const index_t offset = rng.randint(index_t(round_half_even(acceleration)));
    Array<float> mask(Shape{width});
    for (index_t i = offset; i < width; i += step) mask[i] = 1.0f;
    set_center(mask, low);
    return mask;
}

Array<float> equispaced_fraction_column_mask(index_t width, double acceleration, double center_fraction,
                                             std::uint64_t seed) {
    check_mask_args(width, acceleration, center_fraction, "equispaced-fraction");
    NumpyRandomState rng(seed);
    const index_t low = num_low_frequencies(width, center_fraction);
    Array<float> mask(Shape{width});
    const double denom = double(low) * acceleration - double(width);
    if (denom == 0.0 || acceleration == 1.0) {
        for (index_t i = 0; i < width; ++i) mask[i] = 1.0f;
        return mask;
    }
    // Spacing chosen so that the accelerated samples plus the centre give about W / acc columns.
    const double adjusted = acceleration * double(low - width) / denom;
    const index_t offset = rng.randint(std::max<index_t>(1, index_t(round_half_even(adjusted))));
    const double stop = double(width - 1);
    const auto count = index_t(std::ceil((stop - double(offset)) / adjusted));
    for (index_t k = 0; k < count; ++k) {
        const auto idx = index_t(round_half_even(double(offset) + double(k) * adjusted));
        if (idx >= 0 && idx < width) mask[idx] = 1.0f;
    }
    set_center(mask, low);
    return mask;
}

namespace {

// A portable uniform integer in [0, n) from a 64-bit Mersenne twister (std::uniform_int_distribution
// differs between standard libraries, which would change masks across platforms).
std::uint64_t uniform_below(std::mt19937_64& gen, std::uint64_t n) {
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t v;
    do {
        v = gen();
    } while (v >= limit);
    return v % n;
}

struct PoissonGrid {
    index_t h, w, calib;
    std::vector<float> r;  // normalised distance outside the calibration box; > 1: corner
    std::vector<index_t> order;

    PoissonGrid(index_t height, index_t width, index_t calibration, std::uint64_t seed)
        : h(height), w(width), calib(calibration), r(std::size_t(height * width)) {
        const double cy = double(h / 2), cx = double(w / 2);
        const double half = double(calib) / 2.0;
        const double ny = std::max(1.0, double(h) / 2.0 - half), nx = std::max(1.0, double(w) / 2.0 - half);
        for (index_t y = 0; y < h; ++y)
            for (index_t x = 0; x < w; ++x) {
                const double dy = std::max(std::fabs(double(y) - cy) - half, 0.0) / ny;
                const double dx = std::max(std::fabs(double(x) - cx) - half, 0.0) / nx;
                r[std::size_t(y * w + x)] = float(std::sqrt(dy * dy + dx * dx));
            }
        for (index_t i = 0; i < h * w; ++i)
            if (r[std::size_t(i)] <= 1.0f) order.push_back(i);
        std::mt19937_64 gen(seed);
        for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[uniform_below(gen, i)]);
    }

    // Dart throwing in the fixed random order: a pixel is accepted unless an earlier accepted sample's
    // exclusion ellipse covers it. Returns the mask (calibration box included).
    std::vector<unsigned char> sample(double slope) const {
        std::vector<unsigned char> accepted(std::size_t(h * w), 0), blocked(std::size_t(h * w), 0);
        const double big = double(std::max(h, w));
        for (index_t p : order) {
            if (blocked[std::size_t(p)]) continue;
            accepted[std::size_t(p)] = 1;
            const double grow = 1.0 + slope * double(r[std::size_t(p)]);
            const double ry = std::max(1.0, grow * double(h) / big), rx = std::max(1.0, grow * double(w) / big);
            const index_t py = p / w, px = p % w;
            const auto wy = index_t(std::ceil(ry)), wx = index_t(std::ceil(rx));
            for (index_t y = std::max<index_t>(0, py - wy); y <= std::min(h - 1, py + wy); ++y) {
                const double dy = double(y - py) / ry;
                for (index_t x = std::max<index_t>(0, px - wx); x <= std::min(w - 1, px + wx); ++x) {
                    const double dx = double(x - px) / rx;
                    if (dy * dy + dx * dx < 1.0) blocked[std::size_t(y * w + x)] = 1;
                }
            }
        }
        const index_t y0 = h / 2 - std::min(calib, h) / 2, x0 = w / 2 - std::min(calib, w) / 2;
        for (index_t y = y0; y < y0 + std::min(calib, h); ++y)
            for (index_t x = x0; x < x0 + std::min(calib, w); ++x) accepted[std::size_t(y * w + x)] = 1;
        return accepted;
    }

    static double acceleration_of(const std::vector<unsigned char>& m) {
        index_t n = 0;
        for (unsigned char v : m) n += v;
        return double(m.size()) / double(std::max<index_t>(n, 1));
    }
};

}  // namespace

Array<float> poisson_disc_mask(index_t height, index_t width, double acceleration, index_t calibration,
                               std::uint64_t seed) {
    require(height >= 4 && width >= 4, "poisson mask: the k-space plane must be at least 4x4, got " +
                                           std::to_string(height) + "x" + std::to_string(width));
    require_option(std::isfinite(acceleration) && acceleration >= 1.0, "MaskSpec.acceleration",
                   "poisson mask: must be at least 1, got " + std::to_string(acceleration));
    require_option(calibration >= 0, "MaskSpec.calibration", "poisson mask: the calibration box must not be negative");
    require_option(double(std::min(calibration, height) * std::min(calibration, width)) <=
                       double(height * width) / acceleration,
                   "MaskSpec.calibration",
                   "poisson mask: a " + std::to_string(calibration) + "x" + std::to_string(calibration) +
                       " calibration box alone samples more than 1/" + std::to_string(acceleration) +
                       " of the plane; lower the acceleration or the calibration size");
    const PoissonGrid grid(height, width, calibration, seed);
    std::vector<unsigned char> best = grid.sample(0.0);
    double best_err = std::fabs(PoissonGrid::acceleration_of(best) - acceleration);
    double lo = 0.0, hi = 1.0;
    // Bracket, then bisect on the slope; the fixed visiting order keeps acceleration(slope) nearly
    // monotone.
    const double hi_limit = 8.0 * double(std::max(height, width));
    while (hi < hi_limit) {
        const auto m = grid.sample(hi);
        const double acc = PoissonGrid::acceleration_of(m);
        if (std::fabs(acc - acceleration) < best_err) {
            best_err = std::fabs(acc - acceleration);
            best = m;
        }
        if (acc >= acceleration) break;
        lo = hi;
        hi *= 2.0;
    }
    for (int it = 0; it < 40 && best_err > 0.01 * acceleration; ++it) {
        const double mid = 0.5 * (lo + hi);
        const auto m = grid.sample(mid);
        const double acc = PoissonGrid::acceleration_of(m);
        if (std::fabs(acc - acceleration) < best_err) {
            best_err = std::fabs(acc - acceleration);
            best = m;
        }
        if (acc < acceleration) lo = mid;
        else hi = mid;
    }
    Array<float> mask(Shape{height, width});
    for (index_t i = 0; i < height * width; ++i) mask[i] = float(best[std::size_t(i)]);
    return mask;
}

void MaskSpec::validate() const {
    require_option(std::isfinite(acceleration) && acceleration >= 1.0, "MaskSpec.acceleration",
                   "must be at least 1, got " + std::to_string(acceleration));
    require_option(kind != MaskKind::equispaced || acceleration == std::floor(acceleration), "MaskSpec.acceleration",
                   "equispaced masks need a whole number (every acc-th column), got " + std::to_string(acceleration) +
                       "; the equispaced-fraction and random masks take fractional accelerations");
    require_option(std::isfinite(center_fraction) && center_fraction <= 1.0, "MaskSpec.center_fraction",
                   "must be in (0, 1] (or <= 0 for the default), got " + std::to_string(center_fraction));
    require_option(calibration >= 0, "MaskSpec.calibration", "must not be negative, got " + std::to_string(calibration));
}

Array<float> make_mask(const MaskSpec& spec, index_t height, index_t width) {
    spec.validate();
    const double cf = spec.center_fraction > 0.0 ? spec.center_fraction : default_center_fraction(spec.acceleration);
    Array<float> cols;
    switch (spec.kind) {
        case MaskKind::poisson: return poisson_disc_mask(height, width, spec.acceleration, spec.calibration, spec.seed);
        case MaskKind::random: cols = random_column_mask(width, spec.acceleration, cf, spec.seed); break;
        case MaskKind::equispaced: cols = equispaced_column_mask(width, spec.acceleration, cf, spec.seed); break;
        case MaskKind::equispaced_fraction:
            cols = equispaced_fraction_column_mask(width, spec.acceleration, cf, spec.seed);
            break;
    }
    return expand_mask(cols.view(), height, width);
}

Array<float> expand_mask(View<const float> mask, index_t height, index_t width, const std::string& what) {
    const Array<float> host = Array<float>::copy_of(mask, Device::cpu);
    Array<float> out(Shape{height, width});
    if (host.rank() == 1 || (host.rank() == 2 && host.dim(0) == 1)) {
        require(host.size() == width, what + ": a 1-D mask has " + std::to_string(host.size()) +
                                          " entries but the k-space has " + std::to_string(width) +
                                          " columns (the last axis); expected " + std::to_string(width));
        // NaN != 0 is true: without this check a NaN entry would count as a sampled column.
        for (index_t x = 0; x < width; ++x)
            require(std::isfinite(host[x]), what + ": contains a non-finite value at index " + std::to_string(x));
        for (index_t y = 0; y < height; ++y)
            for (index_t x = 0; x < width; ++x) out[y * width + x] = host[x] != 0.0f ? 1.0f : 0.0f;
        return out;
    }
    require(host.rank() == 2 && host.dim(0) == height && host.dim(1) == width,
            what + ": shape " + host.shape().str() + " does not match the k-space plane; expected (" +
                std::to_string(width) + ",) or (" + std::to_string(height) + ", " + std::to_string(width) + ")");
    for (index_t i = 0; i < host.size(); ++i) {
        require(std::isfinite(host[i]), what + ": contains a non-finite value at index " + std::to_string(i));
        out[i] = host[i] != 0.0f ? 1.0f : 0.0f;
    }
    return out;
}

void restrict_columns(View<float> mask, index_t first, index_t last) {
    require(mask.rank() == 2 && mask.device() == Device::cpu, "restrict_columns: expected a host [H][W] mask");
    const index_t h = mask.dim(0), w = mask.dim(1);
    for (index_t y = 0; y < h; ++y)
        for (index_t x = 0; x < w; ++x)
            if (x < first || x >= last) mask[y * w + x] = 0.0f;
}

double sampled_fraction(View<const float> mask) {
    const Array<float> host = Array<float>::copy_of(mask, Device::cpu);
    double n = 0;
    for (float v : host) n += v != 0.0f ? 1.0 : 0.0;
    return host.size() ? n / double(host.size()) : 0.0;
}

CalibrationBox find_calibration_box(View<const float> mask, index_t max_height, index_t max_width) {
    const Array<float> m = Array<float>::copy_of(mask, Device::cpu);
    require(m.rank() == 2, "find_calibration_box: expected a [H][W] mask, got shape " + m.shape().str());
    const index_t h = m.dim(0), w = m.dim(1);
    max_height = std::min(max_height, h);
    max_width = std::min(max_width, w);
    auto full = [&](index_t rows, index_t cols) {
        const index_t r0 = h / 2 - rows / 2, c0 = w / 2 - cols / 2;
        for (index_t y = r0; y < r0 + rows; ++y)
            for (index_t x = c0; x < c0 + cols; ++x)
                if (m[y * w + x] == 0.0f) return false;
        return true;
    };
    CalibrationBox box;
    if (max_height < 1 || max_width < 1 || !full(1, 1)) return box;
    index_t rows = 1, cols = 1;
    bool grew = true;
    while (grew) {
        grew = false;
        if (rows < max_height && full(rows + 1, cols)) {
            ++rows;
            grew = true;
        }
        if (cols < max_width && full(rows, cols + 1)) {
            ++cols;
            grew = true;
        }
    }
    box.rows = rows;
    box.cols = cols;
    box.row0 = h / 2 - rows / 2;
    box.col0 = w / 2 - cols / 2;
    return box;
}

}  // namespace lumen::mri
