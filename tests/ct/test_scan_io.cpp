// CT scan files: round trip through write_scan / read_scan, normalisation, and every bad input
// (missing or invalid geometry, shapes, intensities) as a clear Error(bad_input).
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "lumen/ct/io.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/io/hdf5.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {

// A hand-written scan file: 4 views of 6 x 5 pixels, an 8^3 volume. `skip` leaves attributes or
// datasets out, `numbers` overrides numeric attributes, `edit` changes arrays before writing.
struct Custom {
    std::set<std::string> skip;
    std::map<std::string, double> numbers;
    std::string type = "cone";
    Shape data_shape{4, 5, 6};
    index_t theta_count = 4;
    Shape white_shape{2, 5, 6};
    std::function<void(Array<float>& data, Array<float>& white, Array<float>& dark)> edit;
};

std::string write_custom(const std::string& name, const Custom& c) {
    const std::string path = test::temp_path(name);
    io::H5Writer out(path);
    Array<float> data(c.data_shape), white(c.white_shape), dark(c.white_shape);
    for (float& v : data) v = 600.0f;
    for (float& v : white) v = 1000.0f;
    for (float& v : dark) v = 100.0f;
    if (c.edit) c.edit(data, white, dark);
    if (!c.skip.count("data")) out.write("/exchange/data", data.view());
    if (!c.skip.count("white")) out.write("/exchange/data_white", white.view());
    if (!c.skip.count("dark")) out.write("/exchange/data_dark", dark.view());
    if (!c.skip.count("theta")) {
        Array<float> theta(Shape{c.theta_count});
        for (index_t i = 0; i < c.theta_count; ++i) theta[i] = float(90 * i);
        out.write("/exchange/theta", theta.view());
    }
    if (!c.skip.count("geometry")) {
        out.create_group("/lumen/geometry");
        std::map<std::string, double> attrs = {{"dso_mm", 100}, {"dsd_mm", 200}, {"du_mm", 3}, {"dv_mm", 3},
                                               {"nx", 8},       {"ny", 8},       {"nz", 8},    {"voxel_mm", 1}};
        for (const auto& [k, v] : c.numbers) attrs[k] = v;
        for (const auto& [k, v] : attrs)
            if (!c.skip.count(k)) out.set_attr("/lumen/geometry", k, v);
        if (!c.skip.count("type")) out.set_attr("/lumen/geometry", "type", c.type);
    }
    out.commit();
    return path;
}

// Expects read_scan (and, with `log`, the log transform) to fail with bad_input naming `needle`.
void expect_bad(const std::string& path, const std::string& needle, bool log = false) {
    try {
        const Scan s = read_scan(path);
        const Array<float> t = transmission(s, Device::cpu);
        if (log) line_integrals(t, 0.0, path);
        FAIL() << "no error for " << path << " (expected one mentioning '" << needle << "')";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2) << e.what();
        EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(CtScanIo, HandWrittenFileReadsAndNormalises) {
    const std::string path = write_custom("ok.h5", Custom{});
    const Scan s = read_scan(path);
    EXPECT_EQ(s.geometry.type, BeamType::cone);
    EXPECT_EQ(s.geometry.projection_shape(), Shape({4, 5, 6}));
    EXPECT_EQ(s.geometry.volume_shape(), Shape({8, 8, 8}));
    EXPECT_NEAR(s.geometry.angles[1], kPi / 2, 1e-6);
    const Array<float> t = transmission(s, Device::cpu);
    for (float v : t) EXPECT_NEAR(v, 0.5f / 0.9f * 1.0f, 1e-6f);  // (600 - 100) / (1000 - 100)
    const Array<float> b = line_integrals(t, 0.0, "x");
    EXPECT_NEAR(b[0], -std::log(500.0 / 900.0), 1e-6);
}

TEST(CtScanIo, SimulatedScanRoundTrip) {
    SimulationOptions so;
    so.size = 12;
    so.views = 7;
    so.arc_deg = 250;
    so.type = BeamType::cone;
    const Scan s = simulate(so, Device::cpu);
    const std::string path = test::temp_path("sim.h5");
    write_scan(path, s, simulation_attributes(so));
    const Scan r = read_scan(path);
    EXPECT_EQ(r.geometry.describe(), s.geometry.describe());
    for (std::size_t i = 0; i < s.geometry.angles.size(); ++i) EXPECT_NEAR(r.geometry.angles[i], s.geometry.angles[i], 1e-6);
    EXPECT_EQ(test::max_rel_diff(s.data, r.data), 0.0);
    EXPECT_EQ(test::max_rel_diff(s.white, r.white), 0.0);
    EXPECT_EQ(test::max_rel_diff(s.truth, r.truth), 0.0);
    const io::H5File f = io::H5File::open(path);
    EXPECT_EQ(f.attr_string("/lumen", "phantom"), "shepp-logan");
    // Normalised intensities of the simulation are e^{-line integral}, noisy around it.
    const Array<float> t = transmission(r, Device::cpu);
    for (float v : t) {
        EXPECT_GT(v, 0.5f);
        EXPECT_LT(v, 1.05f);
    }
}

TEST(CtScanIo, MissingGeometryIsNamed) {
    Custom c;
    c.skip = {"geometry"};
    expect_bad(write_custom("no_group.h5", c), "/lumen/geometry");
    for (const char* attr : {"dso_mm", "dsd_mm", "du_mm", "dv_mm", "nx", "voxel_mm", "type"}) {
        Custom m;
        m.skip = {attr};
        expect_bad(write_custom(std::string("no_") + attr + ".h5", m), attr);
    }
    Custom t;
    t.skip = {"theta"};
    expect_bad(write_custom("no_theta.h5", t), "/exchange/theta");
    Custom d;
    d.skip = {"data"};
    expect_bad(write_custom("no_data.h5", d), "/exchange/data");
    Custom n;
    n.skip = {"white"};
    expect_bad(write_custom("no_flat.h5", n), "i0");
}

TEST(CtScanIo, InvalidGeometryValuesAreRejected) {
    Custom neg;
    neg.numbers = {{"dso_mm", -100}};
    expect_bad(write_custom("neg_dso.h5", neg), "dso_mm");
    Custom behind;
    behind.numbers = {{"dsd_mm", 50}};
    expect_bad(write_custom("dsd_short.h5", behind), "dsd_mm");
    Custom inside;
    inside.numbers = {{"dso_mm", 4}, {"dsd_mm", 20}};
    expect_bad(write_custom("source_inside.h5", inside), "radius");
    Custom pitch;
    pitch.numbers = {{"du_mm", 0}};
    expect_bad(write_custom("zero_pitch.h5", pitch), "du_mm");
    Custom size;
    size.numbers = {{"nx", 2.5}};
    expect_bad(write_custom("fractional_nx.h5", size), "nx");
    Custom type;
    type.type = "fan";
    expect_bad(write_custom("fan.h5", type), "'fan'");
    Custom nan;
    nan.numbers = {{"voxel_mm", std::numeric_limits<double>::quiet_NaN()}};
    expect_bad(write_custom("nan_voxel.h5", nan), "voxel");
}

TEST(CtScanIo, ShapeMismatchesAreRejected) {
    Custom theta;
    theta.theta_count = 5;
    expect_bad(write_custom("theta_count.h5", theta), "5 angles");
    Custom rank;
    rank.data_shape = Shape{20, 6};
    expect_bad(write_custom("rank2.h5", rank), "(n_angles, nv, nu)");
    Custom white;
    white.white_shape = Shape{2, 5, 7};
    expect_bad(write_custom("white_shape.h5", white), "data_white");
    Custom no_white;
    no_white.white_shape = Shape{0, 5, 6};
    expect_bad(write_custom("white_empty.h5", no_white), "no frames");
}

TEST(CtScanIo, BadIntensitiesAreRejected) {
    Custom negative;
    negative.edit = [](Array<float>& d, Array<float>&, Array<float>&) { d[7] = -3.0f; };
    expect_bad(write_custom("negative.h5", negative), "non-negative");
    Custom nan;
    nan.edit = [](Array<float>& d, Array<float>&, Array<float>&) { d[3] = std::numeric_limits<float>::quiet_NaN(); };
    expect_bad(write_custom("nan.h5", nan), "finite");
    Custom flat;
    flat.edit = [](Array<float>&, Array<float>& w, Array<float>&) {
        w[2] = 50.0f;  // both frames below the dark level at pixel 2
        w[32] = 50.0f;
    };
    expect_bad(write_custom("flat_below_dark.h5", flat), "flat field");
    // Below the dark level: fine for a nonlinear fit, an error for the log unless clamped.
    Custom starved;
    starved.edit = [](Array<float>& d, Array<float>&, Array<float>&) { d[9] = 80.0f; };
    const std::string path = write_custom("starved.h5", starved);
    expect_bad(path, "ReconOptions.min_transmission", true);
    const Array<float> t = transmission(read_scan(path), Device::cpu);
    const Array<float> b = line_integrals(t, 1e-3, "clamped");
    EXPECT_NEAR(b[9], -std::log(1e-3), 1e-4);
}
