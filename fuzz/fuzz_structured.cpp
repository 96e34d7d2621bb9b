// Structurally valid HDF5 files with odd types, shapes and values (fuzz/README.md): the fuzz
// input is a recipe. Its first byte picks the reader (CT, MRI, ptychography); then, for each
// dataset and attribute that reader looks at, whether it is there, its type (float, double,
// integer, complex with members in either order or with unknown names, string), its rank and
// dimensions (small, or declared huge with no data) and its values (drawn from 0, +-1, NaN,
// +-Inf, 1e31, 1e-35, 1e15, denormals and arbitrary floats). Raw-byte fuzzing rarely gets past
// HDF5's checksums and B-trees; this gets to lumen's own validation every time.
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "fuzz/common.hpp"
#include "tests/support/h5craft.hpp"

namespace {

float odd_value(FuzzedDataProvider& p) {
    static const float special[] = {0.0f, 1.0f, -1.0f, NAN, INFINITY, -INFINITY, 1e31f, 1e-35f, 1e15f, 1e-45f,
                                    3.0e38f, 0.5f, 2.0f, 900.0f, 1000.0f, 1.6e-15f, 3e-7f};
    if (p.ConsumeBool()) return special[p.ConsumeIntegralInRange<std::size_t>(0, std::size(special) - 1)];
    return p.ConsumeFloatingPoint<float>();
}

std::vector<std::uint64_t> odd_shape(FuzzedDataProvider& p, std::uint64_t& count) {
    const int rank = p.ConsumeIntegralInRange(0, 4);
    std::vector<std::uint64_t> shape;
    count = 1;
    for (int i = 0; i < rank; ++i) {
        shape.push_back(p.ConsumeIntegralInRange<std::uint64_t>(0, 6));
        count *= shape.back();
    }
    return shape;
}

void odd_dataset(FuzzedDataProvider& p, lumen::test::H5Craft& f, const std::string& name) {
    if (!p.ConsumeBool()) return;  // absent
    const int kind = p.ConsumeIntegralInRange(0, 7);
    if (kind == 7) {
        // Declared large with no data: lumen must refuse or read fill values, never allocate blindly.
        std::vector<std::uint64_t> dims;
        const int rank = p.ConsumeIntegralInRange(1, 4);
        for (int i = 0; i < rank; ++i) dims.push_back(std::uint64_t(1) << p.ConsumeIntegralInRange(0, 40));
        try {
            f.declared(name, dims, p.ConsumeBool());
        } catch (const std::exception&) {
        }
        return;
    }
    std::uint64_t n = 0;
    const std::vector<std::uint64_t> shape = odd_shape(p, n);
    try {
        if (kind == 0 || kind == 1) {
            std::vector<float> v(n);
            for (auto& x : v) x = odd_value(p);
            if (kind == 0) f.floats(name, shape, v);
            else f.doubles(name, shape, std::vector<double>(v.begin(), v.end()));
        } else if (kind == 2) {
            std::vector<std::int64_t> v(n);
            for (auto& x : v) x = p.ConsumeIntegral<std::int64_t>();
            f.ints(name, shape, v);
        } else if (kind <= 5) {
            std::vector<float> v(2 * n);
            for (auto& x : v) x = odd_value(p);
            const char* names[][2] = {{"r", "i"}, {"i", "r"}, {"real", "imag"}, {"a", "b"}};
            const int which = kind == 3 ? 0 : kind == 4 ? 1 : p.ConsumeIntegralInRange(2, 3);
            f.complex(name, shape, v, names[which][0], names[which][1]);
        } else {
            f.string(name, p.ConsumeRandomLengthString(64));
        }
    } catch (const std::exception&) {
        // A group where a dataset was to go, and similar: leave it.
    }
}

void odd_attrs(FuzzedDataProvider& p, lumen::test::H5Craft& f, const std::string& object,
               const std::vector<std::string>& names) {
    try {
        f.group(object);
    } catch (const std::exception&) {
        return;
    }
    for (const std::string& n : names) {
        const int kind = p.ConsumeIntegralInRange(0, 3);
        if (kind == 0) continue;
        if (kind == 3) f.attr(object, n, p.ConsumeRandomLengthString(16));
        else f.attr(object, n, double(odd_value(p)));
    }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    lumen::fuzz::init();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider p(data, size);
    const int reader = p.ConsumeIntegralInRange(0, 2);
    const std::string path = lumen::fuzz::write_input(nullptr, 0);
    {
        lumen::test::H5Craft f(path);
        if (reader == 0) {
            for (const char* ds : {"/exchange/data", "/exchange/theta", "/exchange/data_white", "/exchange/data_dark",
                                   "/lumen/truth/volume"})
                odd_dataset(p, f, ds);
            if (p.ConsumeBool())
                odd_attrs(p, f, "/lumen/geometry",
                          {"type", "dso_mm", "dsd_mm", "du_mm", "dv_mm", "offset_u_mm", "offset_v_mm", "nx", "ny", "nz",
                           "voxel_mm", "i0", "nu", "nv"});
        } else if (reader == 1) {
            for (const char* ds : {"/kspace", "/mask", "/ismrmrd_header", "/reconstruction_rss"}) odd_dataset(p, f, ds);
        } else {
            for (const char* ds : {"/entry_1/data_1/data", "/entry_1/sample_1/geometry_1/translation",
                                   "/entry_1/instrument_1/detector_1/distance",
                                   "/entry_1/instrument_1/detector_1/x_pixel_size",
                                   "/entry_1/instrument_1/detector_1/y_pixel_size",
                                   "/entry_1/instrument_1/source_1/energy", "/entry_1/instrument_1/detector_1/mask",
                                   "/entry_1/instrument_1/source_1/illumination"})
                odd_dataset(p, f, ds);
        }
    }
    if (reader == 0) lumen::fuzz::read_ct(path);
    else if (reader == 1) lumen::fuzz::read_mri(path);
    else lumen::fuzz::read_ptycho(path);
    return 0;
}
