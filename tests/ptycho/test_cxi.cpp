// CXI files and simulated scans: round trip (positions metres <-> pixels), the (3, N) layout,
// wavelength instead of energy, the mask convention, and the errors a broken file gets.
#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lumen/io/hdf5.hpp"
#include "lumen/linalg.hpp"
#include "lumen/ptycho/model.hpp"
#include "lumen/ptycho/io.hpp"
#include "lumen/ptycho/simulate.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ptycho;

namespace {

Scan small() {
    SimulationOptions o;
    o.frame = 32;
    o.positions = 16;
    o.photons = 1e4;
    o.seed = 9;
    return simulate(o);
}

// Writes a CXI file from parts, leaving out or altering what a test asks for.
struct CxiParts {
    Array<float> data;
    Array<float> translation;  // as stored
    double distance = 2.0, pixel = 75e-6, energy = Geometry::joules_from_kev(8.0);
    bool with_distance = true, with_energy = true, with_wavelength = false;
};

void write_parts(const std::string& path, const CxiParts& p) {
    io::H5Writer w(path);
    w.write(cxi::data, p.data.view());
    if (!p.translation.empty()) w.write(cxi::translation, p.translation.view());
    if (p.with_distance) w.write_scalar(cxi::distance, p.distance);
    w.write_scalar(cxi::x_pixel_size, p.pixel);
    w.write_scalar(cxi::y_pixel_size, p.pixel);
    if (p.with_energy) w.write_scalar(cxi::energy, p.energy);
    if (p.with_wavelength) w.write_scalar(cxi::wavelength, Geometry{p.energy, 1, 1, 1}.wavelength_m());
    w.commit();
}

CxiParts parts_of(const Scan& s) {
    CxiParts p;
    p.data = s.intensities.clone();
    const index_t J = s.n_positions();
    const double dx = s.geometry.object_pixel_x_m(s.intensities.dim(2));
    const double dy = s.geometry.object_pixel_y_m(s.intensities.dim(1));
    p.translation = Array<float>(Shape{J, 3});
    for (index_t j = 0; j < J; ++j) {
        p.translation[3 * j] = float(s.positions[2 * j + 1] * dx);
        p.translation[3 * j + 1] = float(s.positions[2 * j] * dy);
    }
    return p;
}

void expect_bad_input(const std::string& path, const std::string& fragment) {
    try {
        read_cxi(path);
        ADD_FAILURE() << "reading " << path << " should have failed";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2) << e.what();
        EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
}

}  // namespace

TEST(PtychoCxi, RoundTripKeepsPositionsDataProbeAndTruth) {
    const Scan s = small();
    const std::string path = test::temp_path("scan.cxi");
    write_cxi(path, s);
    const Scan r = read_cxi(path);
    ASSERT_EQ(r.intensities.shape(), s.intensities.shape());
    EXPECT_EQ(test::max_rel_diff(r.intensities, s.intensities), 0.0);
    EXPECT_EQ(r.object_shape, s.object_shape);
    for (index_t i = 0; i < s.positions.size(); ++i) EXPECT_NEAR(r.positions[i], s.positions[i], 1e-3);
    EXPECT_LT(test::max_rel_diff(r.probe, s.probe), 1e-7);
    EXPECT_LT(test::max_rel_diff(r.true_object, s.true_object), 1e-7);
    EXPECT_NEAR(r.geometry.energy_j, s.geometry.energy_j, 1e-25);
    // 8 keV, 2 m, 75 um, 32 px: lambda = 1.5498e-10 m, dx = lambda z / (N p) = 129.2 nm.
    EXPECT_NEAR(r.geometry.wavelength_m(), 1.5498e-10, 1e-13);
    EXPECT_NEAR(r.geometry.object_pixel_x_m(32), 1.5498e-10 * 2.0 / (32 * 75e-6), 1e-11);
}

// The file kinds `info` tells apart, a result file's account, and the readers' option parsers.
TEST(PtychoIo, FileKindsResultInfoAndParsers) {
    const Scan s = small();
    const std::string scan_path = test::temp_path("kind.cxi"), result_path = test::temp_path("kind.h5");
    write_cxi(scan_path, s);
    EXPECT_EQ(file_kind(scan_path), FileKind::scan);
    ReconResult r;
    r.object = s.true_object.clone();
    r.probe = s.true_probe.clone();
    r.illumination = Array<float>(s.true_object.shape());
    r.solver.iterations = 7;
    r.refined_probe = true;
    ReconOptions o;
    o.method = Method::rpie;
    write_result(result_path, r, o, {{"nrmse_object", 0.25}});
    EXPECT_EQ(file_kind(result_path), FileKind::result);
    const ResultInfo info = read_result_info(result_path);
    EXPECT_EQ(info.object_shape, s.true_object.shape());
    EXPECT_EQ(info.probe_shape, s.true_probe.shape());
    EXPECT_EQ(info.method, "rpie");
    EXPECT_EQ(info.iterations, 7);
    EXPECT_TRUE(info.refined_probe);
    EXPECT_EQ(info.quality.nrmse, 0.25);
    EXPECT_TRUE(std::isnan(info.quality.nrmse_probe));
    EXPECT_NE(describe_result(result_path).find("rpie, 7 iterations"), std::string::npos) << describe_result(result_path);
    EXPECT_THROW(read_result_info(scan_path), Error);

    EXPECT_EQ(parse_frame_order("auto"), FrameOrder::automatic);
    EXPECT_EQ(parse_propagation("near"), Propagation::near_field);
    for (const auto& [field, parse] : std::vector<std::pair<std::string, std::function<void()>>>{
             {"RunOptions.frame_order", [] { parse_frame_order("middle"); }},
             {"RunOptions.propagation", [] { parse_propagation("sideways"); }}}) {
        try {
            parse();
            ADD_FAILURE() << field;
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), ErrorCode::invalid_option);
            EXPECT_EQ(e.field(), field);
        }
    }
}

TEST(PtychoCxi, AcceptsTransposedTranslationsAndWavelengthAndMask) {
    const Scan s = small();
    CxiParts p = parts_of(s);
    const index_t J = s.n_positions();
    Array<float> t3n(Shape{3, J});
    for (index_t j = 0; j < J; ++j)
        for (index_t k = 0; k < 3; ++k) t3n[k * J + j] = p.translation[3 * j + k];
    p.translation = std::move(t3n);
    p.with_energy = false;
    p.with_wavelength = true;
    const std::string path = test::temp_path("pynx.cxi");
    write_parts(path, p);
    const Scan r = read_cxi(path);
    for (index_t i = 0; i < s.positions.size(); ++i) EXPECT_NEAR(r.positions[i], s.positions[i], 1e-3);
    EXPECT_NEAR(r.geometry.energy_j / s.geometry.energy_j, 1.0, 1e-9);
    EXPECT_TRUE(r.probe.empty());
    EXPECT_FALSE(r.has_truth());

    // Mask: CXI marks bad pixels with non-zero bits; lumen's mask is 1 where measured.
    Scan m = small();
    m.mask = Array<float>(Shape{32, 32});
    fill(m.mask.view(), 1.0f);
    m.mask[3 * 32 + 4] = 0.0f;
    const std::string mpath = test::temp_path("mask.cxi");
    write_cxi(mpath, m);
    const io::H5File f = io::H5File::open(mpath);
    const Array<std::int64_t> bits = f.read_int(cxi::mask);
    EXPECT_EQ(bits[3 * 32 + 4], 1);
    EXPECT_EQ(bits[0], 0);
    const Scan mr = read_cxi(mpath);
    EXPECT_EQ(mr.mask[3 * 32 + 4], 0.0f);
    EXPECT_EQ(mr.mask[0], 1.0f);
}

TEST(PtychoCxi, BrokenFilesAreBadInputWithClearMessages) {
    const Scan s = small();
    {
        CxiParts p = parts_of(s);
        p.with_distance = false;
        write_parts(test::temp_path("nodist.cxi"), p);
        expect_bad_input(test::temp_path("nodist.cxi"), "detector_1/distance");
    }
    {
        CxiParts p = parts_of(s);
        p.with_energy = false;
        write_parts(test::temp_path("noenergy.cxi"), p);
        expect_bad_input(test::temp_path("noenergy.cxi"), "energy");
    }
    {
        CxiParts p = parts_of(s);
        p.distance = -1.0;
        write_parts(test::temp_path("negdist.cxi"), p);
        expect_bad_input(test::temp_path("negdist.cxi"), "positive");
    }
    {
        CxiParts p = parts_of(s);
        p.data[100] = -5.0f;
        write_parts(test::temp_path("negative.cxi"), p);
        expect_bad_input(test::temp_path("negative.cxi"), "non-negative");
    }
    {
        CxiParts p = parts_of(s);
        p.data[7] = std::nanf("");
        write_parts(test::temp_path("nan.cxi"), p);
        expect_bad_input(test::temp_path("nan.cxi"), "finite");
    }
    {
        CxiParts p = parts_of(s);
        p.translation = Array<float>(Shape{s.n_positions() - 1, 3});
        write_parts(test::temp_path("fewpos.cxi"), p);
        expect_bad_input(test::temp_path("fewpos.cxi"), "translation");
    }
    {
        CxiParts p = parts_of(s);
        p.translation = Array<float>();
        write_parts(test::temp_path("nopos.cxi"), p);
        expect_bad_input(test::temp_path("nopos.cxi"), "translation");
    }
    {
        CxiParts p = parts_of(s);
        p.data = Array<float>(Shape{32, 32});
        write_parts(test::temp_path("rank2.cxi"), p);
        expect_bad_input(test::temp_path("rank2.cxi"), "data");
    }
    expect_bad_input(test::temp_path("missing.cxi"), "missing.cxi");
}

TEST(PtychoSimulate, ScanOverlapPhotonsAndTruthAreConsistent) {
    SimulationOptions o;
    o.frame = 32;
    o.positions = 49;
    o.overlap = 0.6;
    o.jitter = 0.0;
    o.photons = 2e4;
    o.poisson = false;
    const Scan s = simulate(o);
    // 7x7 raster, step = (1 - overlap) * beam diameter = 0.4 * 16 = 6.4 px.
    ASSERT_EQ(s.n_positions(), 49);
    EXPECT_NEAR(s.positions[2 * 1 + 1] - s.positions[1], 6.4, 1e-4);
    EXPECT_NEAR(s.positions[2 * 7] - s.positions[0], 6.4, 1e-4);
    double total = 0;
    for (float v : s.intensities) total += v;
    EXPECT_NEAR(total / 49.0, 2e4, 1.0);
    // Noiseless data are the model's intensities of the truth.
    Model m(s.object_shape, s.probe_shape(), s.true_positions, Device::cpu);
    m.set_probe(s.true_probe);
    m.set_data(s.intensities);
    EXPECT_LT(m.loss(Loss::amplitude, s.true_object, {}, {}), 1e-9 * total);
    // Object amplitude within [min_amplitude, 1], phase span as asked.
    float amin = 10, amax = 0, pmin = 10, pmax = -10;
    for (const complex64& v : s.true_object) {
        amin = std::min(amin, abs(v)), amax = std::max(amax, abs(v));
        pmin = std::min(pmin, arg(v)), pmax = std::max(pmax, arg(v));
    }
    EXPECT_GE(amin, 0.4f - 1e-5f);
    EXPECT_LE(amax, 1.0f + 1e-5f);
    EXPECT_NEAR(pmax - pmin, 1.5, 1e-3);

    // Fermat spiral: the requested count, nearest neighbours about one step apart.
    const Array<float> sp = make_scan(100, ScanPattern::spiral, 20.0, 0.7, 0.0, 1);
    ASSERT_EQ(sp.dim(0), 100);
    double mean_nn = 0;
    for (index_t a = 0; a < 100; ++a) {
        double best = 1e30;
        for (index_t b = 0; b < 100; ++b)
            if (a != b) best = std::min(best, double(std::hypot(sp[2 * a] - sp[2 * b], sp[2 * a + 1] - sp[2 * b + 1])));
        mean_nn += best / 100.0;
    }
    EXPECT_NEAR(mean_nn, 6.0, 1.5);

    // Position errors: recorded positions differ from the true ones by about the asked rms.
    o.position_error = 0.5;
    o.poisson = true;
    const Scan e = simulate(o);
    double rms = 0;
    for (index_t i = 0; i < e.positions.size(); ++i) rms += std::pow(e.positions[i] - e.true_positions[i], 2);
    rms = std::sqrt(rms / double(e.positions.size()));
    EXPECT_GT(rms, 0.3);
    EXPECT_LT(rms, 0.8);
    for (float v : e.intensities) EXPECT_EQ(v, std::round(v));  // photon counts
}
