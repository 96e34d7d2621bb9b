// CT scan files (DXchange + /lumen/geometry), normalisation and the log transform.
#include "lumen/ct/scan.hpp"

#include <cmath>
#include <cstdio>

#include "kernels/ct/elementwise.hpp"
#include "lumen/io/hdf5.hpp"
#include "src/executor.hpp"
#include "src/text.hpp"

namespace lumen::ct {

namespace {

using detail::k_pi;
const char* const k_geometry = "/lumen/geometry";

using detail::num;

// Frames [frames][nv][nu] (rank 3) or one frame [nv][nu] (rank 2) -> rank 3.
Array<float> read_frames(const io::H5File& f, const std::string& name, index_t nv, index_t nu) {
    const io::DatasetInfo info = f.info(name);
    const std::string w = f.path() + ": " + name;
    require(info.is_real_number(), w + " has type " + info.dtype + ", expected numbers");
    require(info.shape.rank() == 2 || info.shape.rank() == 3,
            w + " has shape " + info.shape.str() + ", expected (frames, " + std::to_string(nv) + ", " +
                std::to_string(nu) + ") or (" + std::to_string(nv) + ", " + std::to_string(nu) + ")");
    Array<float> a = f.read_float(name);
    if (a.rank() == 2) a.reshape(Shape{1, a.dim(0), a.dim(1)});
    require(a.dim(1) == nv && a.dim(2) == nu && a.dim(0) >= 1,
            w + " has shape " + info.shape.str() + " but the projections are " + std::to_string(nv) + " x " +
                std::to_string(nu) + " (nv x nu)");
    return a;
}

void check_intensities(const Array<float>& a, const std::string& where) {
    for (index_t i = 0; i < a.size(); ++i) {
        const float v = a[i];
        if (!std::isfinite(v) || v < 0.0f) {
            const index_t per = a.dim(1) * a.dim(2);
            const index_t frame = i / per, row = (i % per) / a.dim(2), col = i % a.dim(2);
            throw Error(ErrorCode::bad_input, where + " holds " + num(v) + " at (" + std::to_string(frame) + ", " +
                                                  std::to_string(row) + ", " + std::to_string(col) +
                                                  "): intensities must be finite and non-negative");
        }
    }
}

std::vector<float> mean_frame(const Array<float>& frames) {
    const index_t per = frames.dim(1) * frames.dim(2);
    std::vector<double> acc(static_cast<std::size_t>(per), 0.0);
    for (index_t f = 0; f < frames.dim(0); ++f)
        for (index_t p = 0; p < per; ++p) acc[std::size_t(p)] += frames[f * per + p];
    std::vector<float> out(static_cast<std::size_t>(per));
    for (index_t p = 0; p < per; ++p) out[std::size_t(p)] = float(acc[std::size_t(p)] / double(frames.dim(0)));
    return out;
}

}  // namespace

Geometry read_geometry(const io::H5File& f, const Shape& projection_shape) {
    const std::string where = f.path() + ": " + k_geometry;
    require(f.exists(k_geometry),
            f.path() + ": the group /lumen/geometry is missing; lumen needs its attributes (type, dso_mm, dsd_mm, "
                       "du_mm, dv_mm, nx, ny, nz, voxel_mm) to know the scan geometry (docs/ct.md)");
    auto has = [&](const char* name) { return f.has_attr(k_geometry, name); };
    auto need = [&](const char* name, const char* meaning) {
        require(has(name), where + " has no attribute '" + name + "' (" + meaning + ")");
        return f.attr_double(k_geometry, name);
    };
    auto opt = [&](const char* name, double fallback) { return has(name) ? f.attr_double(k_geometry, name) : fallback; };
    auto count = [&](const char* name, const char* meaning) {
        const double v = need(name, meaning);
        require(std::isfinite(v) && v >= 1.0 && v == std::floor(v) && v < 1e7,
                where + ": attribute " + name + " is " + num(v) + ", expected a positive whole number");
        return index_t(v);
    };

    Geometry g;
    require(has("type"), where + " has no attribute 'type' ('cone' or 'parallel')");
    g.type = parse_beam_type(f.attr_string(k_geometry, "type"), where + ": attribute type");
    if (g.type == BeamType::cone) {
        g.dso = need("dso_mm", "source to rotation axis distance in mm");
        g.dsd = need("dsd_mm", "source to detector distance in mm");
    }
    g.du = need("du_mm", "detector column pitch in mm");
    g.dv = need("dv_mm", "detector row pitch in mm");
    g.offset_u = opt("offset_u_mm", 0.0);
    g.offset_v = opt("offset_v_mm", 0.0);
    g.volume.nx = count("nx", "volume size along x");
    g.volume.ny = count("ny", "volume size along y");
    g.volume.nz = count("nz", "volume size along z");
    const double voxel = has("voxel_mm") ? f.attr_double(k_geometry, "voxel_mm") : 0.0;
    require(has("voxel_mm") || (has("voxel_x_mm") && has("voxel_y_mm") && has("voxel_z_mm")),
            where + " has no attribute 'voxel_mm' (voxel size in mm)");
    g.volume.voxel_x = opt("voxel_x_mm", voxel);
    g.volume.voxel_y = opt("voxel_y_mm", voxel);
    g.volume.voxel_z = opt("voxel_z_mm", voxel);
    g.volume.offset_x = opt("offset_x_mm", 0.0);
    g.volume.offset_y = opt("offset_y_mm", 0.0);
    g.volume.offset_z = opt("offset_z_mm", 0.0);

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
    // Re-read in double through the float path is enough: degrees to 1e-7 relative.
    g.angles.resize(std::size_t(theta.size()));
    for (index_t i = 0; i < theta.size(); ++i) g.angles[std::size_t(i)] = double(theta[i]) * k_pi / 180.0;
    g.validate(where);
    return g;
}

Scan read_scan(const std::string& path) {
    const io::H5File f = io::H5File::open(path);
    require(f.exists("/exchange/data"),
            path + ": /exchange/data is missing; expected DXchange projections (n_angles, nv, nu) of raw intensities");
    const io::DatasetInfo info = f.info("/exchange/data");
    require(info.is_real_number(), path + ": /exchange/data has type " + info.dtype + ", expected numbers");
    require(info.shape.rank() == 3,
            path + ": /exchange/data has shape " + info.shape.str() + ", expected (n_angles, nv, nu)");
    require(info.shape.size() > 0, path + ": /exchange/data is empty " + info.shape.str());

    Scan s;
    s.path = path;
    s.geometry = read_geometry(f, info.shape);
    s.data = f.read_float("/exchange/data", 3);
    check_intensities(s.data, path + ": /exchange/data");
    const index_t nv = s.geometry.nv, nu = s.geometry.nu;
    if (f.exists("/exchange/data_white")) {
        s.white = read_frames(f, "/exchange/data_white", nv, nu);
        check_intensities(s.white, path + ": /exchange/data_white");
    }
    if (f.exists("/exchange/data_dark")) {
        s.dark = read_frames(f, "/exchange/data_dark", nv, nu);
        check_intensities(s.dark, path + ": /exchange/data_dark");
    }
    if (s.white.empty()) {
        require(f.has_attr(k_geometry, "i0"),
                path + ": there is no flat field (/exchange/data_white) and /lumen/geometry has no attribute 'i0' "
                       "(the unattenuated intensity); one of them is needed to normalise the projections");
        s.i0 = f.attr_double(k_geometry, "i0");
        require(std::isfinite(s.i0) && s.i0 > 0.0,
                path + ": /lumen/geometry attribute i0 is " + num(s.i0) + ", expected a positive number");
    }
    if (f.exists("/lumen/truth/volume")) {
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
    for (std::size_t i = 0; i < deg.size(); ++i) deg[i] = float(g.angles[i] * 180.0 / k_pi);
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

Array<float> transmission(const Scan& scan, Device device) {
    const Geometry& g = scan.geometry;
    const std::string where = scan.path.empty() ? std::string("scan") : scan.path;
    require(scan.data.shape() == g.projection_shape(),
            where + ": /exchange/data has shape " + scan.data.shape().str() + ", expected " + g.projection_shape().str());
    const index_t per = g.nu * g.nv;
    std::vector<float> dark = scan.dark.empty() ? std::vector<float>() : mean_frame(scan.dark);
    std::vector<float> inv_gain(static_cast<std::size_t>(per));
    if (!scan.white.empty()) {
        const std::vector<float> white = mean_frame(scan.white);
        for (index_t p = 0; p < per; ++p) {
            const float d = dark.empty() ? 0.0f : dark[std::size_t(p)];
            const float gain = white[std::size_t(p)] - d;
            if (!(gain > 0.0f))
                throw Error(ErrorCode::bad_input,
                            where + ": the flat field (/exchange/data_white, " + num(white[std::size_t(p)]) +
                                ") does not exceed the dark field (" + num(d) + ") at detector pixel (row " +
                                std::to_string(p / g.nu) + ", column " + std::to_string(p % g.nu) +
                                "); the projections cannot be normalised");
            inv_gain[std::size_t(p)] = 1.0f / gain;
        }
    } else {
        require(scan.i0 > 0.0, where + ": no flat field and no positive i0 to normalise with");
        std::fill(inv_gain.begin(), inv_gain.end(), float(1.0 / scan.i0));
    }
    Array<float> data = scan.data.to(device);
    Array<float> gain_d = Array<float>::from(inv_gain, Shape{per}).to(device);
    Array<float> dark_d;
    if (!dark.empty()) dark_d = Array<float>::from(dark, Shape{per}).to(device);
    Array<float> t(g.projection_shape(), device);
    detail::for_each(device, t.size(),
                     kern::ct::NormalizeF{data.data(), dark_d.empty() ? nullptr : dark_d.data(), gain_d.data(), per,
                                          t.data()});
    return t;
}

Array<float> line_integrals(View<const float> t, double min_transmission, const std::string& context) {
    const Device dev = t.device();
    Array<float> out(t.shape(), dev);
    if (!(min_transmission > 0.0)) {
        const double bad = detail::reduce<double>(dev, t.size(), kern::ct::NonPositiveF{t.data()});
        if (bad > 0.0) {
            Array<float> host = Array<float>::copy_of(t, Device::cpu);
            index_t first = 0;
            while (first < host.size() && host[first] > 0.0f && std::isfinite(host[first])) ++first;
            const index_t nu = t.rank() == 3 ? t.dim(2) : 1, nv = t.rank() == 3 ? t.dim(1) : 1;
            throw Error(ErrorCode::bad_input,
                        context + ": " + std::to_string(index_t(bad)) +
                            " projection pixels have a non-positive normalised intensity (first: view " +
                            std::to_string(first / (nu * nv)) + ", row " + std::to_string((first / nu) % nv) +
                            ", column " + std::to_string(first % nu) + ", value " + num(host[first]) +
                            "); the log transform needs positive values. Use --method nonlinear (no log), or "
                            "--clamp-transmission EPS to clamp them");
        }
    }
    detail::for_each(dev, t.size(), kern::ct::NegLogF{t.data(), float(std::max(min_transmission, 0.0)), out.data()});
    return out;
}

}  // namespace lumen::ct
