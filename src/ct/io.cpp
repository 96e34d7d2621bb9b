// CT scan files: DXchange + /lumen/geometry reading and writing (include/lumen/ct/io.hpp).
#include "lumen/ct/io.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>

#include "lumen/core/checks.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/history.hpp"
#include "lumen/io/png.hpp"
#include "lumen/version.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

const char* const k_geometry = "/lumen/geometry";

using detail::num;

// Frames [frames][nv][nu] (rank 3) or one frame [nv][nu] (rank 2) -> rank 3; only the file's rows
// [row_first, row_first + rows) when rows >= 0.
Array<float> read_frames(const io::H5File& f, const std::string& name, index_t nv, index_t nu, index_t row_first = 0,
                         index_t rows = -1) {
    const io::DatasetInfo info = f.info(name);
    const std::string w = f.path() + ": " + name;
    require(info.is_real_number(), w + " has type " + info.dtype + ", expected numbers");
    require(info.shape.rank() == 2 || info.shape.rank() == 3,
            w + " has shape " + info.shape.str() + ", expected (frames, " + std::to_string(nv) + ", " +
                std::to_string(nu) + ") or (" + std::to_string(nv) + ", " + std::to_string(nu) + ")");
    const index_t file_rows = info.shape[info.shape.rank() - 2], file_cols = info.shape[info.shape.rank() - 1];
    require(file_rows == nv && file_cols == nu,
            w + " has shape " + info.shape.str() + " but the projections are " + std::to_string(nv) + " x " +
                std::to_string(nu) + " (nv x nu)");
    require(info.shape.rank() == 2 || info.shape[0] >= 1, w + " has shape " + info.shape.str() + ": no frames");
    Array<float> a = rows < 0 ? f.read_float(name) : f.read_float_items(name, info.shape.rank() - 2, row_first, rows);
    if (a.rank() == 2) a.reshape(Shape{1, a.dim(0), a.dim(1)});
    return a;
}

// `row0`: the file's row that row 0 of `a` is (a hyperslab of rows).
void check_intensities(const Array<float>& a, const std::string& where, index_t row0 = 0) {
    for (index_t i = 0; i < a.size(); ++i) {
        const float v = a[i];
        if (!std::isfinite(v) || v < 0.0f) {
            const index_t per = a.dim(1) * a.dim(2);
            const index_t frame = i / per, row = (i % per) / a.dim(2), col = i % a.dim(2);
            throw Error(ErrorCode::bad_input, where + " holds " + num(v) + " at (" + std::to_string(frame) + ", " +
                                                  std::to_string(row0 + row) + ", " + std::to_string(col) +
                                                  "): intensities must be finite and non-negative");
        }
    }
}



// Where geometry attributes come from, first match wins: the command line (ReadOptions::geometry),
// a geometry file (text "name = value" lines or an HDF5 /lumen/geometry group), the scan's own
// /lumen/geometry group. Messages name the source of each value.
class GeometrySource {
public:
    GeometrySource(const io::H5File& scan, const ReadOptions& o) : scan_(scan), options_(o) {
        if (!o.geometry_file.empty()) {
            std::ifstream in(o.geometry_file, std::ios::binary);
            require(bool(in), "ReadOptions.geometry_file: cannot open '" + o.geometry_file + "'");
            char sig[8] = {};
            in.read(sig, 8);
            if (std::string(sig, 8) == std::string("\x89HDF\r\n\x1a\n", 8)) {
                file_h5_ = std::make_unique<io::H5File>(io::H5File::open(o.geometry_file));
                require(file_h5_->exists(k_geometry),
                        o.geometry_file + " (ReadOptions.geometry_file): the group /lumen/geometry is missing");
            } else {
                in.clear();
                in.seekg(0);
                std::string line;
                int n = 0;
                while (std::getline(in, line)) {
                    ++n;
                    line = line.substr(0, line.find('#'));
                    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
                    const auto eq = line.find('=');
                    require(eq != std::string::npos, o.geometry_file + " line " + std::to_string(n) + ": '" + line +
                                                         "' is not 'name = value'");
                    file_text_[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
                }
            }
        }
        has_group_ = scan.exists(k_geometry);
        for (const auto& [name, value] : o.geometry) check_name(name, "ReadOptions.geometry");
        for (const auto& [name, value] : file_text_) check_name(name, o.geometry_file);
    }

    // True when the scan itself carries no /lumen/geometry (the geometry is the user's).
    bool external() const { return !has_group_; }
    bool any() const { return has_group_ || file_h5_ || !file_text_.empty() || !options_.geometry.empty(); }

    bool has(const std::string& name) const {
        return options_.geometry.count(name) || file_text_.count(name) || (file_h5_ && file_h5_->has_attr(k_geometry, name)) ||
               (has_group_ && scan_.has_attr(k_geometry, name));
    }
    std::string where(const std::string& name) const {
        if (options_.geometry.count(name)) return "ReadOptions.geometry." + name;
        if (file_text_.count(name)) return options_.geometry_file + ": " + name;
        if (file_h5_ && file_h5_->has_attr(k_geometry, name))
            return options_.geometry_file + ": /lumen/geometry attribute " + name;
        return scan_.path() + ": /lumen/geometry attribute " + name;
    }
    double number(const std::string& name) const {
        if (const std::string* t = text_value(name)) {
            char* end = nullptr;
            const double v = std::strtod(t->c_str(), &end);
            require(!t->empty() && end && *end == '\0', where(name) + " is '" + *t + "', expected a number");
            return v;
        }
        if (file_h5_ && file_h5_->has_attr(k_geometry, name)) return file_h5_->attr_double(k_geometry, name);
        return scan_.attr_double(k_geometry, name);
    }
    std::string text(const std::string& name) const {
        if (const std::string* t = text_value(name)) return *t;
        if (file_h5_ && file_h5_->has_attr(k_geometry, name)) return file_h5_->attr_string(k_geometry, name);
        return scan_.attr_string(k_geometry, name);
    }
    std::string description() const {
        std::string d;
        if (!options_.geometry.empty()) d = "ReadOptions.geometry";
        if (file_h5_ || !file_text_.empty()) d += std::string(d.empty() ? "" : ", then ") + options_.geometry_file;
        if (has_group_) d += std::string(d.empty() ? "" : ", then ") + "/lumen/geometry";
        return d;
    }

private:
    // A misspelt name would otherwise be ignored and its value silently defaulted.
    static void check_name(const std::string& name, const std::string& where) {
        static const char* const known[] = {"type",        "dso_mm",      "dsd_mm",      "du_mm",       "dv_mm",
                                            "offset_u_mm", "offset_v_mm", "nx",          "ny",          "nz",
                                            "nu",          "nv",          "voxel_mm",    "voxel_x_mm",  "voxel_y_mm",
                                            "voxel_z_mm",  "offset_x_mm", "offset_y_mm", "offset_z_mm", "i0"};
        for (const char* k : known)
            if (name == k) return;
        throw Error(ErrorCode::bad_input, where + ": unknown geometry name '" + name +
                                              "' (expected type, dso_mm, dsd_mm, du_mm, dv_mm, offset_u_mm, "
                                              "offset_v_mm, nx, ny, nz, voxel_mm, voxel_x/y/z_mm, offset_x/y/z_mm, i0)");
    }
    static std::string trim(const std::string& s) {
        const auto a = s.find_first_not_of(" \t\r\"'"), b = s.find_last_not_of(" \t\r\"'");
        return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
    }
    const std::string* text_value(const std::string& name) const {
        if (auto it = options_.geometry.find(name); it != options_.geometry.end()) return &it->second;
        if (auto it = file_text_.find(name); it != file_text_.end()) return &it->second;
        return nullptr;
    }
    const io::H5File& scan_;
    const ReadOptions& options_;
    std::unique_ptr<io::H5File> file_h5_;
    std::map<std::string, std::string> file_text_;
    bool has_group_ = false;
};

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// Reverses the last axis (flip_u) or the middle axis (flip_v) of [frames][nv][nu] in place.
void flip_frames(Array<float>& a, bool flip_u, bool flip_v) {
    if (a.empty() || (!flip_u && !flip_v)) return;
    const index_t n = a.dim(0), nv = a.dim(1), nu = a.dim(2);
    for (index_t f = 0; f < n; ++f) {
        float* frame = a.data() + f * nv * nu;
        if (flip_u)
            for (index_t r = 0; r < nv; ++r) std::reverse(frame + r * nu, frame + (r + 1) * nu);
        if (flip_v)
            for (index_t r = 0; r < nv / 2; ++r) std::swap_ranges(frame + r * nu, frame + (r + 1) * nu, frame + (nv - 1 - r) * nu);
    }
}

}  // namespace

ThetaUnits parse_theta_units(const std::string& text) {
    const std::string u = lower(text);
    if (u.empty() || u == "file") return ThetaUnits::file;
    if (u == "deg" || u == "degree" || u == "degrees") return ThetaUnits::degrees;
    if (u == "rad" || u == "radian" || u == "radians") return ThetaUnits::radians;
    invalid_option("ReadOptions.theta_units", "'" + text + "' is not an angle unit; expected deg or rad");
}

double theta_scale(ThetaUnits units, const std::string& attribute, const std::vector<double>& values,
                   const std::string& where, std::string* description) {
    const double deg = kPi / 180.0;
    auto parse = [&](const std::string& text, const std::string& what) -> std::optional<double> {
        const std::string u = lower(text);
        if (u == "deg" || u == "degree" || u == "degrees") return deg;
        if (u == "rad" || u == "radian" || u == "radians") return 1.0;
        throw Error(ErrorCode::bad_input, what + " is '" + text + "', expected degrees or radians (deg, rad)");
    };
    double lo = 0, hi = 0;
    if (!values.empty()) {
        const auto [a, b] = std::minmax_element(values.begin(), values.end());
        lo = *a;
        hi = *b;
    }
    const double span = hi - lo;
    const double coverage = values.size() > 1 ? span * double(values.size()) / double(values.size() - 1) : 0.0;
    // Radians-like: at least a few views whose span (or span plus a step) is about pi or 2 pi.
    auto near = [](double x, double target) { return std::abs(x / target - 1.0) < 0.03; };
    const bool looks_radians = values.size() >= 3 && hi - lo <= 2.0 * kPi * 1.03 &&
                               (near(span, kPi) || near(span, 2 * kPi) || near(coverage, kPi) || near(coverage, 2 * kPi));
    const std::string span_text = num(lo) + " to " + num(hi);
    double scale;
    std::string how;
    bool warned = false;
    if (units != ThetaUnits::file) {
        scale = units == ThetaUnits::radians ? 1.0 : deg;
        how = (scale == 1.0 ? "radians" : "degrees") + std::string(" (ReadOptions.theta_units)");
    } else if (!attribute.empty()) {
        scale = *parse(attribute, where + "@units");
        how = (scale == 1.0 ? "radians" : "degrees") + std::string(" (") + where + "@units)";
        if (scale == deg && looks_radians) {
            warned = true;
            warn("ct.theta_units", where + "@units says degrees but the angles run " + span_text +
                                       ", about pi or 2 pi: if they are radians, set ReadOptions.theta_units to radians");
        }
    } else if (looks_radians) {
        scale = 1.0;
        how = "radians (no units attribute; inferred from the span)";
        warned = true;
        warn("ct.theta_units", where + " has no units attribute and runs " + span_text +
                                   ": read as radians (DXchange says degrees; set ReadOptions.theta_units to degrees if these are degrees)");
    } else {
        scale = deg;
        how = "degrees (no units attribute; the DXchange convention)";
    }
    if (!warned) report_check("ct.theta_units", true, "angles in " + how + ", " + span_text);
    if (description) *description = how;
    return scale;
}

Geometry read_geometry(const io::H5File& f, const Shape& projection_shape) {
    return read_geometry(f, projection_shape, ReadOptions{});
}

Geometry read_geometry(const io::H5File& f, const Shape& projection_shape, const ReadOptions& options, bool* axis_given,
                       std::vector<std::pair<std::string, std::string>>* conventions) {
    const GeometrySource src(f, options);
    require(src.any(),
            f.path() + ": the group /lumen/geometry is missing; lumen needs its attributes (type, dso_mm, dsd_mm, "
                       "du_mm, dv_mm, nx, ny, nz, voxel_mm) to know the scan geometry (docs/ct.md). For a file "
                       "written by another tool give them in ReadOptions.geometry (type parallel with du_mm and dv_mm, or "
                       "type cone with dso_mm, dsd_mm, du_mm and dv_mm) or in a file (ReadOptions.geometry_file)");
    // Values from the options name their source too.
    const bool overridden = !options.geometry.empty() || !options.geometry_file.empty();
    const std::string where = src.external() || overridden ? f.path() + ": geometry (" + src.description() + ")"
                                                           : f.path() + ": " + k_geometry;
    auto has = [&](const char* name) { return src.has(name); };
    // For a geometry from the user, name the option field that gives the missing value.
    auto hint = [](const std::string& name) -> std::string {
        if (name == "type") return "; give ReadOptions.geometry.type (cone or parallel)";
        if (name == "du_mm" || name == "dv_mm") return "; give ReadOptions.geometry." + name;
        if (name == "dso_mm" || name == "dsd_mm") return "; give ReadOptions.geometry." + name;
        return "";
    };
    auto need = [&](const char* name, const char* meaning) {
        require(has(name), src.external() ? where + " has no '" + name + "' (" + meaning + ")" + hint(name)
                                          : where + " has no attribute '" + name + "' (" + meaning + ")");
        return src.number(name);
    };
    auto opt = [&](const char* name, double fallback) { return has(name) ? src.number(name) : fallback; };
    auto count_of = [&](const char* name, double v) {
        require(std::isfinite(v) && v >= 1.0 && v == std::floor(v) && v < 1e7,
                src.where(name) + " is " + num(v) + ", expected a positive whole number");
        return index_t(v);
    };
    auto count = [&](const char* name, const char* meaning) { return count_of(name, need(name, meaning)); };

    Geometry g;
    require(has("type"), where + " has no attribute 'type' ('cone' or 'parallel')" + (src.external() ? hint("type") : ""));
    g.type = parse_beam_type(src.text("type"), src.where("type"));
    if (g.type == BeamType::cone) {
        g.dso = need("dso_mm", "source to rotation axis distance in mm");
        g.dsd = need("dsd_mm", "source to detector distance in mm");
    }
    g.du = need("du_mm", "detector column pitch in mm");
    g.dv = need("dv_mm", "detector row pitch in mm");
    g.offset_u = opt("offset_u_mm", 0.0);
    g.offset_v = opt("offset_v_mm", 0.0);
    if (axis_given) *axis_given = has("offset_u_mm") && !options.estimate_centre;

    require(f.exists("/exchange/theta"),
            f.path() + ": /exchange/theta is missing; lumen needs the projection angles in degrees, one per "
                       "projection of /exchange/data");
    Array<float> theta = f.read_float("/exchange/theta");
    require(theta.rank() == 1 || (theta.rank() == 2 && (theta.dim(0) == 1 || theta.dim(1) == 1)),
            f.path() + ": /exchange/theta has shape " + theta.shape().str() + ", expected (n_angles,)");
    if (projection_shape.rank() == 3) {
        g.nv = projection_shape[1];
        g.nu = projection_shape[2];
        require(theta.size() == projection_shape[0],
                f.path() + ": /exchange/theta has " + std::to_string(theta.size()) + " angles but /exchange/data has " +
                    std::to_string(projection_shape[0]) + " projections");
    } else {
        // A file without projections (a reconstruction): the detector size is stored with the geometry.
        g.nu = count("nu", "detector columns");
        g.nv = count("nv", "detector rows");
    }

    // The volume: required in a /lumen/geometry group (lumen wrote it, it knows); for a geometry
    // from the user, the detector's field of view by default.
    const bool fov_default = src.external();
    const double mag = g.magnification();
    const double voxel_default = g.du / (mag > 0 ? mag : 1.0);
    auto size = [&](const char* name, index_t fallback, const char* meaning) {
        if (!has(name) && fov_default) return fallback;
        return count(name, meaning);
    };
    g.volume.nx = size("nx", g.nu, "volume size along x");
    g.volume.ny = size("ny", g.nu, "volume size along y");
    g.volume.nz = size("nz", g.nv, "volume size along z");
    const bool has_voxel = has("voxel_mm") || (has("voxel_x_mm") && has("voxel_y_mm") && has("voxel_z_mm"));
    require(has_voxel || fov_default, where + " has no attribute 'voxel_mm' (voxel size in mm)");
    const double voxel = has("voxel_mm") ? src.number("voxel_mm") : fov_default ? voxel_default : 0.0;
    g.volume.voxel_x = opt("voxel_x_mm", voxel);
    g.volume.voxel_y = opt("voxel_y_mm", voxel);
    g.volume.voxel_z = opt("voxel_z_mm", has("voxel_mm") || !fov_default ? voxel : g.dv / (mag > 0 ? mag : 1.0));
    g.volume.offset_x = opt("offset_x_mm", 0.0);
    g.volume.offset_y = opt("offset_y_mm", 0.0);
    g.volume.offset_z = opt("offset_z_mm", 0.0);

    // Angles: theta@units (or the option), then the rotation direction.
    std::vector<double> values(std::size_t(theta.size()));
    for (index_t i = 0; i < theta.size(); ++i) values[std::size_t(i)] = double(theta[i]);
    const std::string attribute = f.has_attr("/exchange/theta", "units") ? f.attr_string("/exchange/theta", "units") : "";
    std::string units_text;
    const double scale = theta_scale(options.theta_units, attribute, values, f.path() + ": /exchange/theta", &units_text);
    const double sign = options.clockwise ? -1.0 : 1.0;
    g.angles.resize(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) g.angles[i] = sign * values[i] * scale;
    if (conventions) {
        conventions->emplace_back("theta_units", units_text);
        conventions->emplace_back("rotation", options.clockwise ? "clockwise in the file (angles negated)"
                                                                : "counter-clockwise (lumen's)");
        conventions->emplace_back("geometry_source", src.description());
    }
    g.validate(where);
    return g;
}

Scan read_scan(const std::string& path) { return read_scan(path, ReadOptions{}); }

namespace {

// read_scan without the data: the geometry (flips and centre applied), conventions and axis_given.
Scan read_header(const io::H5File& f, const std::string& path, const ReadOptions& options) {
    require(f.exists("/exchange/data"),
            path + ": /exchange/data is missing; expected DXchange projections (n_angles, nv, nu) of raw intensities");
    const io::DatasetInfo info = f.info("/exchange/data");
    require(info.is_real_number(), path + ": /exchange/data has type " + info.dtype + ", expected numbers");
    require(info.shape.rank() == 3,
            path + ": /exchange/data has shape " + info.shape.str() + ", expected (n_angles, nv, nu)");
    require(info.shape.size() > 0, path + ": /exchange/data is empty " + info.shape.str());

    Scan s;
    s.path = path;
    s.geometry = read_geometry(f, info.shape, options, &s.axis_given, &s.conventions);
    Geometry& g = s.geometry;
    if (!std::isnan(options.centre_column)) {
        require_option(std::isfinite(options.centre_column) && options.centre_column >= 0 &&
                           options.centre_column <= double(g.nu - 1),
                       "ReadOptions.centre_column",
                       num(options.centre_column) + " is not a detector column of " + path + "; expected [0, " +
                           std::to_string(g.nu - 1) + "]");
        g.offset_u = (0.5 * double(g.nu - 1) - options.centre_column) * g.du;
        s.axis_given = true;
    }
    // Geometry values describe the file as stored; in lumen's frame a mirrored axis mirrors them.
    if (options.flip_u) g.offset_u = -g.offset_u;
    s.flip_u = options.flip_u;
    if (options.flip_v) g.offset_v = -g.offset_v;
    s.conventions.emplace_back("flip_u", options.flip_u ? "yes (columns reversed)" : "no");
    s.conventions.emplace_back("flip_v", options.flip_v ? "yes (rows reversed)" : "no");
    return s;
}

}  // namespace

Geometry read_scan_geometry(const std::string& path, const ReadOptions& options) {
    return read_header(io::H5File::open(path), path, options).geometry;
}

Scan read_scan(const std::string& path, const ReadOptions& options) {
    const io::H5File f = io::H5File::open(path);
    Scan s = read_header(f, path, options);
    const index_t nv = s.geometry.nv, nu = s.geometry.nu;
    // Rows in lumen's frame; with flip_v the file holds them reversed.
    const bool some_rows = options.rows >= 0;
    require_option(!some_rows || (options.row_first >= 0 && options.row_first + options.rows <= nv),
                   "ReadOptions.rows", "rows [" + std::to_string(options.row_first) + ", " +
                                           std::to_string(options.row_first + options.rows) + ") are not rows of the " +
                                           std::to_string(nv) + " of " + path);
    const index_t file_first = !some_rows ? 0 : options.flip_v ? nv - options.row_first - options.rows : options.row_first;
    s.row_first = some_rows ? options.row_first : 0;
    s.data = some_rows ? f.read_float_items("/exchange/data", 1, file_first, options.rows, 3)
                       : f.read_float("/exchange/data", 3);
    check_intensities(s.data, path + ": /exchange/data", file_first);
    const index_t rows = some_rows ? options.rows : -1;
    if (f.exists("/exchange/data_white")) {
        s.white = read_frames(f, "/exchange/data_white", nv, nu, file_first, rows);
        check_intensities(s.white, path + ": /exchange/data_white", file_first);
    }
    if (f.exists("/exchange/data_dark")) {
        s.dark = read_frames(f, "/exchange/data_dark", nv, nu, file_first, rows);
        check_intensities(s.dark, path + ": /exchange/data_dark", file_first);
    }
    flip_frames(s.data, options.flip_u, options.flip_v);
    flip_frames(s.white, options.flip_u, options.flip_v);
    flip_frames(s.dark, options.flip_u, options.flip_v);
    if (s.white.empty() && options.geometry.count("i0")) {
        s.i0 = std::strtod(options.geometry.at("i0").c_str(), nullptr);
        require_option(std::isfinite(s.i0) && s.i0 > 0.0, "ReadOptions.geometry.i0",
                       "is " + options.geometry.at("i0") + ", expected a positive number");
    } else if (s.white.empty()) {
        require(f.has_attr(k_geometry, "i0"),
                path + ": there is no flat field (/exchange/data_white) and /lumen/geometry has no attribute 'i0' "
                       "(the unattenuated intensity); one of them is needed to normalise the projections");
        s.i0 = f.attr_double(k_geometry, "i0");
        require(std::isfinite(s.i0) && s.i0 > 0.0,
                path + ": /lumen/geometry attribute i0 is " + num(s.i0) + ", expected a positive number");
    }
    if (options.truth && f.exists("/lumen/truth/volume")) {
        s.truth = f.read_float("/lumen/truth/volume", 3);
        require(s.truth.shape() == s.geometry.volume_shape(),
                path + ": /lumen/truth/volume has shape " + s.truth.shape().str() + " but the geometry's volume is " +
                    s.geometry.volume_shape().str());
    }
    return s;
}

void write_geometry(io::H5Writer& out, const Geometry& g) {
    out.create_group(k_geometry);
    out.set_attr(k_geometry, "type", beam_type_name(g.type));
    if (g.type == BeamType::cone) {
        out.set_attr(k_geometry, "dso_mm", g.dso);
        out.set_attr(k_geometry, "dsd_mm", g.dsd);
    }
    out.set_attr(k_geometry, "nu", std::int64_t(g.nu));
    out.set_attr(k_geometry, "nv", std::int64_t(g.nv));
    out.set_attr(k_geometry, "du_mm", g.du);
    out.set_attr(k_geometry, "dv_mm", g.dv);
    out.set_attr(k_geometry, "offset_u_mm", g.offset_u);
    out.set_attr(k_geometry, "offset_v_mm", g.offset_v);
    out.set_attr(k_geometry, "nx", std::int64_t(g.volume.nx));
    out.set_attr(k_geometry, "ny", std::int64_t(g.volume.ny));
    out.set_attr(k_geometry, "nz", std::int64_t(g.volume.nz));
    const VolumeGrid& v = g.volume;
    if (v.voxel_x == v.voxel_y && v.voxel_y == v.voxel_z) {
        out.set_attr(k_geometry, "voxel_mm", v.voxel_x);
    } else {
        out.set_attr(k_geometry, "voxel_x_mm", v.voxel_x);
        out.set_attr(k_geometry, "voxel_y_mm", v.voxel_y);
        out.set_attr(k_geometry, "voxel_z_mm", v.voxel_z);
    }
    if (v.offset_x != 0.0 || v.offset_y != 0.0 || v.offset_z != 0.0) {
        out.set_attr(k_geometry, "offset_x_mm", v.offset_x);
        out.set_attr(k_geometry, "offset_y_mm", v.offset_y);
        out.set_attr(k_geometry, "offset_z_mm", v.offset_z);
    }
    out.set_attr(k_geometry, "rotation", "counter-clockwise seen from +z; angle 0: source on -y (docs/ct.md)");
    std::vector<float> deg(g.angles.size());
    for (std::size_t i = 0; i < deg.size(); ++i) deg[i] = float(g.angles[i] * 180.0 / kPi);
    Array<float> theta = Array<float>::from(deg, Shape{index_t(deg.size())});
    out.write("/exchange/theta", theta.view());
    out.set_attr("/exchange/theta", "units", "degrees");
}

void write_scan(const std::string& path, const Scan& scan, const std::map<std::string, std::string>& attributes) {
    const Geometry& g = scan.geometry;
    g.validate("write_scan");
    require(scan.data.shape() == g.projection_shape(),
            "write_scan: data of shape " + scan.data.shape().str() + " does not match " + g.projection_shape().str());
    io::H5Writer out(path);
    out.set_attr("/", "implements", "exchange:lumen");
    out.write("/exchange/data", scan.data.view());
    out.set_attr("/exchange/data", "axes", "theta:y:x");
    out.set_attr("/exchange/data", "units", "counts");
    if (!scan.white.empty()) out.write("/exchange/data_white", scan.white.view());
    if (!scan.dark.empty()) out.write("/exchange/data_dark", scan.dark.view());
    write_geometry(out, g);
    if (scan.white.empty()) out.set_attr(k_geometry, "i0", scan.i0);
    if (!scan.truth.empty()) {
        out.write("/lumen/truth/volume", scan.truth.view());
        out.set_attr("/lumen/truth/volume", "units", "attenuation per mm");
    }
    for (const auto& [k, v] : attributes) out.set_attr("/lumen", k, v);
    out.commit();
}

std::vector<std::string> write_reconstruction(const std::string& path, const Geometry& g, const ReconResult& r,
                                              const std::string& device, const Quality* quality, const std::string& png_prefix) {
    io::OutputSet set;
    std::vector<std::string> pngs = write_reconstruction(set, path, g, r, device, quality, png_prefix);
    set.commit();
    return pngs;
}

std::vector<std::string> write_reconstruction(io::OutputSet& set, const std::string& path, const Geometry& g,
                                              const ReconResult& r, const std::string& device, const Quality* quality,
                                              const std::string& png_prefix, int ranks) {
    require(r.volume.shape() == g.volume_shape(), "write_reconstruction: the volume does not match the geometry");
    io::require_finite(r.volume.view(), path + ": the reconstructed /volume");
    io::H5Writer out(set, path);
    out.write("/volume", r.volume.view());
    out.set_attr("/volume", "units", "attenuation per mm");
    out.set_attr("/volume", "axes", "z:y:x");
    write_history(out, r.solver);
    write_geometry(out, g);
    for (const auto& [k, v] : r.parameters) out.set_attr("/", k, v);
    out.set_attr("/", "lumen_version", LUMEN_VERSION);
    out.set_attr("/", "device", device);
    out.set_attr("/", "ranks", ranks);
    out.set_attr("/", "elapsed_s", r.elapsed_s);
    if (quality) {
        out.set_attr("/", "psnr_db", quality->psnr_db);
        out.set_attr("/", "psnr_peak", quality->peak);
        out.set_attr("/", "nrmse", quality->nrmse);
        out.set_attr("/", "ssim", quality->ssim);
    }
    out.commit();

    std::vector<std::string> pngs;
    if (png_prefix.empty()) return pngs;
    const std::string& stem = png_prefix;
    const index_t nx = g.volume.nx, ny = g.volume.ny, nz = g.volume.nz;
    const float* v = r.volume.data();
    // One grey scale for all three: 0 to the 99th percentile of the volume, a soft-tissue window
    // in which small dense inserts saturate rather than turning everything else black.
    std::vector<float> sorted(r.volume.begin(), r.volume.end());
    const std::size_t k = std::min(sorted.size() - 1, std::size_t(0.99 * double(sorted.size())));
    std::nth_element(sorted.begin(), sorted.begin() + std::ptrdiff_t(k), sorted.end());
    float hi = sorted[k];
    if (!(hi > 0.0f)) hi = 1.0f;
    Array<float> axial(Shape{ny, nx}), coronal(Shape{nz, nx}), sagittal(Shape{nz, ny});
    const index_t zc = nz / 2, yc = ny / 2, xc = nx / 2;
    for (index_t y = 0; y < ny; ++y)
        for (index_t x = 0; x < nx; ++x) axial[(ny - 1 - y) * nx + x] = v[(zc * ny + y) * nx + x];
    for (index_t z = 0; z < nz; ++z)
        for (index_t x = 0; x < nx; ++x) coronal[(nz - 1 - z) * nx + x] = v[(z * ny + yc) * nx + x];
    for (index_t z = 0; z < nz; ++z)
        for (index_t y = 0; y < ny; ++y) sagittal[(nz - 1 - z) * ny + y] = v[(z * ny + y) * nx + xc];
    const std::pair<const char*, Array<float>*> slices[] = {
        {"_axial.png", &axial}, {"_coronal.png", &coronal}, {"_sagittal.png", &sagittal}};
    for (const auto& [suffix, img] : slices) {
        const std::string p = stem + suffix;
        io::write_png(set, p, img->view(), 0.0f, hi);
        pngs.push_back(p);
    }
    return pngs;
}

}  // namespace lumen::ct
