// Scans as other tools write them (issue 11, items 8-11): no /lumen/geometry, theta in radians with
// or without a units attribute, clockwise angles, a mirrored detector axis, a rotation axis off the
// detector's middle. Each trap is written from lumen's own simulation and must either reconstruct
// correctly with the right option or raise a check that says what to change.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "lumen/core/checks.hpp"
#include "lumen/ct/axis.hpp"
#include "lumen/ct/recon.hpp"
#include "lumen/ct/run.hpp"
#include "lumen/ct/simulate.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/metrics.hpp"
#include "tests/support/test_support.hpp"

using namespace lumen;
using namespace lumen::ct;

namespace {


// How a foreign writer stores a simulated scan.
struct Foreign {
    std::string theta_units = "degrees";  // "degrees", "radians" or "" (no attribute)
    bool radians = false;                 // values in radians
    bool clockwise = false;               // angles negated
    bool flip_u = false;                  // columns reversed
    index_t crop_u = 0;                   // keep columns [0, nu - crop_u): the axis moves off the middle
    bool lumen_geometry = false;          // also write /lumen/geometry (without offset_u_mm)
    bool truth = true;                    // /lumen/truth/volume for scoring
};

Array<float> edit_frames(const Array<float>& a, const Foreign& f) {
    const index_t n = a.dim(0), nv = a.dim(1), nu = a.dim(2), keep = nu - f.crop_u;
    Array<float> out(Shape{n, nv, keep});
    for (index_t k = 0; k < n; ++k)
        for (index_t r = 0; r < nv; ++r)
            for (index_t j = 0; j < keep; ++j)
                out[(k * nv + r) * keep + (f.flip_u ? keep - 1 - j : j)] = a[(k * nv + r) * nu + j];
    return out;
}

// Writes `s` as TomoPy/dxchange would: /exchange only (plus the truth for scoring).
std::string write_foreign(const std::string& name, const Scan& s, const Foreign& f) {
    const std::string path = test::temp_path(name);
    io::H5Writer out(path);
    out.write("/exchange/data", edit_frames(s.data, f).view());
    out.write("/exchange/data_white", edit_frames(s.white, f).view());
    out.write("/exchange/data_dark", edit_frames(s.dark, f).view());
    Array<float> theta(Shape{s.geometry.n_angles()});
    for (index_t i = 0; i < theta.size(); ++i) {
        const double a = (f.clockwise ? -1.0 : 1.0) * s.geometry.angles[std::size_t(i)];
        theta[i] = float(f.radians ? a : a * 180.0 / kPi);
    }
    out.write("/exchange/theta", theta.view());
    if (!f.theta_units.empty()) out.set_attr("/exchange/theta", "units", f.theta_units);
    if (f.lumen_geometry) {
        const Geometry& g = s.geometry;
        out.create_group("/lumen/geometry");
        out.set_attr("/lumen/geometry", "type", beam_type_name(g.type));
        if (g.type == BeamType::cone) {
            out.set_attr("/lumen/geometry", "dso_mm", g.dso);
            out.set_attr("/lumen/geometry", "dsd_mm", g.dsd);
        }
        out.set_attr("/lumen/geometry", "du_mm", g.du);
        out.set_attr("/lumen/geometry", "dv_mm", g.dv);
        out.set_attr("/lumen/geometry", "nx", std::int64_t(g.volume.nx));
        out.set_attr("/lumen/geometry", "ny", std::int64_t(g.volume.ny));
        out.set_attr("/lumen/geometry", "nz", std::int64_t(g.volume.nz));
        out.set_attr("/lumen/geometry", "voxel_mm", g.volume.voxel_x);
    }
    if (f.truth) out.write("/lumen/truth/volume", s.truth.view());
    out.commit();
    return path;
}

// The geometry a user gives on the command line for these scans.
ReadOptions user_geometry(const Scan& s) {
    ReadOptions r;
    const Geometry& g = s.geometry;
    r.geometry = {{"type", beam_type_name(g.type)},
                  {"du_mm", std::to_string(g.du)},
                  {"dv_mm", std::to_string(g.dv)},
                  {"nx", std::to_string(g.volume.nx)},
                  {"ny", std::to_string(g.volume.ny)},
                  {"nz", std::to_string(g.volume.nz)},
                  {"voxel_mm", std::to_string(g.volume.voxel_x)}};
    if (g.type == BeamType::cone) {
        r.geometry["dso_mm"] = std::to_string(g.dso);
        r.geometry["dsd_mm"] = std::to_string(g.dsd);
    }
    return r;
}

// A 180-degree parallel scan of a 32^3 phantom on 48 x 32 pixels; cropping 8 columns on the right puts
// the axis at column 23.5 of 40 (the middle is 19.5).
const Scan& parallel_scan() {
    static const Scan s = [] {
        SimulationOptions o;
        o.size = 32;
        o.views = 90;
        o.arc_deg = 180;
        o.type = BeamType::parallel;
        o.nu = 48;
        return simulate(o, Device::cpu);
    }();
    return s;
}

// A full-circle cone-beam scan of a 32^3 phantom (fan half-angle about 9 degrees).
const Scan& cone_scan() {
    static const Scan s = [] {
        SimulationOptions o;
        o.size = 32;
        o.views = 90;
        return simulate(o, Device::cpu);
    }();
    return s;
}

double fdk_psnr(Scan& s) {
    ReconOptions o;
    const ReconResult r = reconstruct(s, o);
    return psnr(s.truth, r.volume, 0.02);
}

}  // namespace

// Item 8: a scan whose axis is off the detector's middle and whose file does not say where.
TEST(CtRealScans, RotationAxisIsEstimatedWhenTheFileGivesNone) {
    Foreign f;
    f.crop_u = 8;
    const std::string path = write_foreign("offaxis.h5", parallel_scan(), f);
    Scan s = read_scan(path, user_geometry(parallel_scan()));
    EXPECT_FALSE(s.axis_given);
    EXPECT_EQ(s.geometry.nu, 40);
    CheckCollector checks;
    const AxisReport axis = resolve_axis(s, transmission(s, Device::cpu));
    EXPECT_EQ(axis.source, "estimated");
    EXPECT_NEAR(axis.column, 23.5, 0.2);
    EXPECT_NEAR(s.geometry.offset_u, (19.5 - 23.5) * s.geometry.du, 0.2 * s.geometry.du);
    EXPECT_FALSE(checks.has_warning("ct.rotation_axis"));
    // Measured 27.1 dB with the axis found, 15.8 dB with the axis in the middle.
    const double found = fdk_psnr(s);
    EXPECT_GT(found, 25.0);

    ReadOptions middle = user_geometry(parallel_scan());
    middle.centre_column = 19.5;  // the old assumption, now an explicit (wrong) override
    Scan m = read_scan(path, middle);
    EXPECT_TRUE(m.axis_given);
    CheckCollector wrong;
    const AxisReport given = resolve_axis(m, transmission(m, Device::cpu));
    EXPECT_EQ(given.source, "file");
    EXPECT_NEAR(given.column, 19.5, 1e-9);
    EXPECT_TRUE(wrong.has_warning("ct.rotation_axis"));
    EXPECT_LT(fdk_psnr(m), found - 6.0);
}

// Item 8 for cone beam: the mid-plane row's opposing fan rays place the axis.
TEST(CtRealScans, ConeBeamAxisFromTheMidPlane) {
    Foreign f;
    f.crop_u = 6;
    f.lumen_geometry = true;  // a lumen geometry group that leaves offset_u_mm out
    const std::string path = write_foreign("cone_offaxis.h5", cone_scan(), f);
    Scan s = read_scan(path);
    EXPECT_FALSE(s.axis_given);
    CheckCollector checks;
    const AxisReport axis = resolve_axis(s, transmission(s, Device::cpu));
    EXPECT_NEAR(axis.column, 15.5, 0.2);  // the middle of 32 columns, now 3 columns right of 12.5
    EXPECT_TRUE(checks.warnings().empty()) << checks.warnings().front().message;
}

// Item 9: the geometry from the command line, a text file or another HDF5 file.
TEST(CtRealScans, GeometryFromOptionsOrAFile) {
    const Scan& sim = parallel_scan();
    Foreign plain;
    plain.truth = false;
    const std::string path = write_foreign("plain.h5", sim, plain);
    try {
        read_scan(path);
        FAIL() << "a file without /lumen/geometry was read without a geometry";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_NE(std::string(e.what()).find("ReadOptions.geometry (type parallel with du_mm and dv_mm"), std::string::npos) << e.what();
    }
    // Only what a parallel beam needs: the volume defaults to the detector's field of view.
    ReadOptions minimal;
    minimal.geometry = {{"type", "parallel"}, {"du_mm", "1"}, {"dv_mm", "1"}};
    const Scan m = read_scan(path, minimal);
    EXPECT_EQ(m.geometry.volume_shape(), Shape({32, 48, 48}));
    EXPECT_DOUBLE_EQ(m.geometry.volume.voxel_x, 1.0);

    const std::string text = test::temp_path("geometry.txt");
    std::ofstream(text) << "# the tooth's geometry, as a user writes it\ntype = parallel\ndu_mm = 1\ndv_mm = 1\n"
                           "nx = 32\nny = 32\nnz = 32\nvoxel_mm = 1  # mm\n";
    ReadOptions from_text;
    from_text.geometry_file = text;
    from_text.geometry["nz"] = "2";  // the command line wins over the file
    const Scan t = read_scan(path, from_text);
    EXPECT_EQ(t.geometry.volume_shape(), Shape({2, 32, 32}));

    Foreign with_group;
    with_group.lumen_geometry = true;
    const std::string h5 = write_foreign("with_geometry.h5", sim, with_group);
    ReadOptions from_h5;
    from_h5.geometry_file = h5;
    const Scan h = read_scan(path, from_h5);
    EXPECT_EQ(h.geometry.volume_shape(), Shape({32, 32, 32}));

    std::ofstream(text) << "type = parallel\ndu = 1\n";
    try {
        read_scan(path, from_text);
        FAIL() << "a misspelt name was ignored";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unknown geometry name 'du'"), std::string::npos) << e.what();
    }
    // --centre is a column of the file as stored: with --flip-u it lands on the mirrored column.
    ReadOptions mirrored = minimal;
    mirrored.centre_column = 10.0;
    mirrored.flip_u = true;
    const Scan f = read_scan(path, mirrored);
    EXPECT_TRUE(f.axis_given);
    EXPECT_NEAR(0.5 * double(f.geometry.nu - 1) - f.geometry.offset_u / f.geometry.du, 47.0 - 10.0, 1e-9);
    Scan ff = read_scan(path, mirrored);
    CheckCollector shown;
    EXPECT_NEAR(resolve_axis(ff, transmission(ff, Device::cpu)).column, 10.0, 1e-9);  // as the user gave it
    ReadOptions cone;
    cone.geometry = {{"type", "cone"}, {"du_mm", "1"}, {"dv_mm", "1"}};
    try {
        read_scan(path, cone);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("give ReadOptions.geometry.dso_mm"), std::string::npos) << e.what();
    }
    ReadOptions bad;
    bad.geometry = {{"type", "parallel"}, {"du_mm", "one"}, {"dv_mm", "1"}};
    try {
        read_scan(path, bad);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("du_mm is 'one'"), std::string::npos) << e.what();
    }
}

// Item 10: theta@units honoured; without it, degrees unless the span says radians (with a warning).
TEST(CtRealScans, ThetaUnits) {
    const Scan& sim = cone_scan();
    auto angles_match = [&](const Scan& s) {
        ASSERT_EQ(s.geometry.angles.size(), sim.geometry.angles.size());
        for (std::size_t i = 0; i < s.geometry.angles.size(); ++i)
            ASSERT_NEAR(s.geometry.angles[i], sim.geometry.angles[i], 1e-5) << i;
    };
    Foreign rad;
    rad.radians = true;
    rad.theta_units = "radians";
    {
        CheckCollector c;
        angles_match(read_scan(write_foreign("rad.h5", sim, rad), user_geometry(sim)));
        EXPECT_TRUE(c.warnings().empty());
    }
    rad.theta_units = "";
    {
        CheckCollector c;
        Scan s = read_scan(write_foreign("rad_no_units.h5", sim, rad), user_geometry(sim));
        angles_match(s);
        EXPECT_TRUE(c.has_warning("ct.theta_units"));
        EXPECT_EQ(c.results().size(), 1u);  // one line per check
        EXPECT_GT(fdk_psnr(s), 25.0);  // read as degrees, FDK refused: "views cover 3.1 deg"
    }
    rad.theta_units = "degrees";  // a wrong attribute: read as it says, but warned
    {
        CheckCollector c;
        const std::string p = write_foreign("rad_said_deg.h5", sim, rad);
        const Scan s = read_scan(p, user_geometry(sim));
        EXPECT_NEAR(s.geometry.angles[1], sim.geometry.angles[1] * kPi / 180.0, 1e-7);
        EXPECT_TRUE(c.has_warning("ct.theta_units"));
        ReadOptions o = user_geometry(sim);
        o.theta_units = ThetaUnits::radians;
        angles_match(read_scan(p, o));
    }
    Foreign deg;
    deg.theta_units = "";
    {
        CheckCollector c;
        angles_match(read_scan(write_foreign("deg_no_units.h5", sim, deg), user_geometry(sim)));
        EXPECT_TRUE(c.warnings().empty());
    }
    deg.theta_units = "furlongs";
    try {
        read_scan(write_foreign("furlongs.h5", sim, deg), user_geometry(sim));
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("@units is 'furlongs'"), std::string::npos) << e.what();
    }
}

// Item 11: clockwise angles or a mirrored u axis in a cone-beam scan warn, and the options fix them.
TEST(CtRealScans, ClockwiseAndMirroredScansWarnAndTheOptionsFixThem) {
    const Scan& sim = cone_scan();
    Foreign straight;
    straight.lumen_geometry = true;
    Foreign cw = straight, mirrored = straight;
    cw.clockwise = true;
    mirrored.flip_u = true;
    struct Case {
        const char* name;
        Foreign file;
        ReadOptions fix;
    };
    ReadOptions none, rotate, flip;
    none.centre_column = rotate.centre_column = flip.centre_column = 15.5;
    rotate.clockwise = true;
    flip.flip_u = true;
    double reference = 0.0;
    for (const Case& c : {Case{"straight", straight, none}, Case{"clockwise", cw, rotate}, Case{"mirrored", mirrored, flip}}) {
        SCOPED_TRACE(c.name);
        const std::string path = write_foreign(std::string(c.name) + ".h5", sim, c.file);
        Scan plain = read_scan(path, none);
        CheckCollector as_is;
        resolve_axis(plain, transmission(plain, Device::cpu));
        const bool trap = std::string(c.name) != "straight";
        EXPECT_EQ(as_is.has_warning("ct.opposing_views"), trap);
        const double wrong = fdk_psnr(plain);

        Scan fixed = read_scan(path, c.fix);
        CheckCollector after;
        resolve_axis(fixed, transmission(fixed, Device::cpu));
        EXPECT_FALSE(after.has_warning("ct.opposing_views"));
        const double right = fdk_psnr(fixed);
        if (!trap) reference = right;
        else {
            // Measured 22.5 dB read as it is against 26.5 dB with the option.
            EXPECT_LT(wrong, right - 3.0);
            EXPECT_NEAR(right, reference, 0.2);
        }
    }
}

// Item 13: the TomoPy tooth (../shared/realdata), when present: the axis about column 296.
TEST(CtRealScans, TomoPyToothAxis) {
    const std::string path = std::string(LUMEN_SOURCE_DIR) + "/../shared/realdata/tomopy_tooth.h5";
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
    ReadOptions o;
    o.geometry = {{"type", "parallel"}, {"du_mm", "1"}, {"dv_mm", "1"}};
    Scan s = read_scan(path, o);
    CheckCollector checks;
    const AxisReport axis = resolve_axis(s, transmission(s, Device::cpu));
    EXPECT_EQ(axis.source, "estimated");
    EXPECT_NEAR(axis.column, 296.0, 1.5);  // measured 295.61
    EXPECT_TRUE(checks.warnings().empty());
}

// The noise-normalised residual is about 1 when the model explains the counts (a voxel-model
// simulation, so that discretisation adds nothing) and well above when the geometry is wrong.
// (A reversed rotation hardly shows in it at this size and noise: ct.opposing_views catches that.)
TEST(CtRealScans, NoiseNormalisedResidual) {
    SimulationOptions o;
    o.size = 24;
    o.views = 60;
    o.i0 = 1e4;
    o.analytic = false;
    Scan s = simulate(o, Device::cpu);
    const ReconResult r = reconstruct(s, ReconOptions{});
    index_t rays = 0;
    const double fit = noise_normalised_residual(s, r.volume, Device::cpu, &rays);
    EXPECT_EQ(rays, s.data.size());
    EXPECT_GT(fit, 0.7);  // measured 0.93
    EXPECT_LT(fit, 1.3);
    s.geometry.offset_u = 3.0 * s.geometry.du;  // the axis assumed 3 columns off
    const ReconResult w = reconstruct(s, ReconOptions{});
    // Measured 4.1 against 0.93.
    EXPECT_GT(noise_normalised_residual(s, w.volume, Device::cpu), 3.0 * fit);
}

// Item 11, the general case: angles that do not describe the data (a full turn stored as 0 to 324
// degrees, as a writer with the wrong angular step would) make opposing views disagree far beyond
// the noise, while the right angles agree to it.
TEST(CtRealScans, OpposingViewsWarnWhenTheGeometryIsWrong) {
    const Scan& sim = cone_scan();
    Foreign plain;
    plain.truth = false;
    plain.lumen_geometry = true;
    ReadOptions centre;
    centre.centre_column = 15.5;
    {
        Scan s = read_scan(write_foreign("cone_plain.h5", sim, plain), centre);
        CheckCollector c;
        const AxisReport a = resolve_axis(s, transmission(s, Device::cpu));
        EXPECT_FALSE(c.has_warning("ct.opposing_views"));
        EXPECT_LT(a.used.chi2, 2.0);  // measured 0.5
    }
    Scan squeezed = read_scan(write_foreign("cone_plain.h5", sim, plain), centre);
    for (double& angle : squeezed.geometry.angles) angle *= 0.9;
    CheckCollector c;
    const AxisReport a = resolve_axis(squeezed, transmission(squeezed, Device::cpu));
    EXPECT_GT(a.used.chi2, 10.0);  // measured 18.8
    ASSERT_TRUE(c.has_warning("ct.opposing_views"));
    EXPECT_NE(c.warnings().back().message.find("does not describe the data"), std::string::npos)
        << c.warnings().back().message;
}
