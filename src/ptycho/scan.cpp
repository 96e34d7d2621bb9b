// The in-memory scan types (include/lumen/ptycho/scan.hpp): the geometry's conversions and the
// positions in object pixels. No file access (the CXI files are in cxi.cpp).
#include "lumen/ptycho/scan.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace lumen::ptycho {

namespace {
constexpr double k_planck = 6.62607015e-34;     // J s
constexpr double k_light = 299792458.0;         // m / s
constexpr double k_kev = 1.602176634e-16;       // J per keV
}  // namespace

double Geometry::wavelength_m() const { return k_planck * k_light / energy_j; }
double Geometry::object_pixel_x_m(index_t frame_x) const {
    return wavelength_m() * distance_m / (double(frame_x) * pixel_x_m);
}
double Geometry::object_pixel_y_m(index_t frame_y) const {
    return wavelength_m() * distance_m / (double(frame_y) * pixel_y_m);
}
double Geometry::joules_from_kev(double kev) { return kev * k_kev; }
double Geometry::joules_from_wavelength(double metres) { return k_planck * k_light / metres; }

ModelOptions ScanLayout::model_options(index_t batch, bool subpixel) const {
    ModelOptions o{batch, subpixel};
    if (near_field) {
        require(geometry.valid() && frame.rank() == 2,
                "ptycho: a near-field scan needs its geometry (energy, distance, pixel sizes) and frames");
        const double lz = geometry.wavelength_m() * geometry.distance_m;
        const double wy = double(frame[0]) * geometry.pixel_y_m, wx = double(frame[1]) * geometry.pixel_x_m;
        o.fresnel_y = lz / (wy * wy);
        o.fresnel_x = lz / (wx * wx);
    }
    return o;
}

ModelOptions ScanLayout::with_slices(ModelOptions o, index_t slices, double dz) const {
    o.slices = slices;
    if (slices == 1) return o;
    require_option(std::isfinite(dz) && dz > 0, "ReconOptions.slice_distance",
                   "a multi-slice object needs the slice distance (metres, > 0), got " + std::to_string(dz));
    require(geometry.valid() && frame.rank() == 2,
            "ptycho: a multi-slice object needs the scan's geometry (energy, distance, pixel sizes) and frames");
    const double py = near_field ? geometry.pixel_y_m : geometry.object_pixel_y_m(frame[0]);
    const double px = near_field ? geometry.pixel_x_m : geometry.object_pixel_x_m(frame[1]);
    const double wy = double(frame[0]) * py, wx = double(frame[1]) * px;
    o.slice_fresnel_y = geometry.wavelength_m() * dz / (wy * wy);
    o.slice_fresnel_x = geometry.wavelength_m() * dz / (wx * wx);
    return o;
}

double ScanLayout::pixel_aspect() const {
    return geometry.valid() && frame.rank() == 2 ? geometry.object_pixel_y_m(frame[0]) / geometry.object_pixel_x_m(frame[1])
                                                 : 1.0;
}

Array<float> positions_from_translations(View<const float> t_v, const Geometry& g, const Shape& probe_shape) {
    require(t_v.rank() == 2 && t_v.dim(1) == 3 && t_v.dim(0) >= 1,
            "ptycho::positions_from_translations: expected translations [J][3], got " + t_v.shape().str());
    require(g.valid(), "ptycho::positions_from_translations: the geometry (energy, distance, pixel sizes) must be positive");
    const Array<float> t = Array<float>::copy_of(t_v, Device::cpu);
    const index_t J = t.dim(0);
    const double dx = g.object_pixel_x_m(probe_shape[1]), dy = g.object_pixel_y_m(probe_shape[0]);
    std::vector<double> rows(static_cast<std::size_t>(J)), cols(static_cast<std::size_t>(J));
    for (index_t j = 0; j < J; ++j) {
        cols[std::size_t(j)] = double(t[3 * j]) / dx;
        rows[std::size_t(j)] = double(t[3 * j + 1]) / dy;
    }
    const double r0 = *std::min_element(rows.begin(), rows.end());
    const double c0 = *std::min_element(cols.begin(), cols.end());
    Array<float> p(Shape{J, 2});
    for (index_t j = 0; j < J; ++j) {
        p[2 * j] = float(rows[std::size_t(j)] - r0);
        p[2 * j + 1] = float(cols[std::size_t(j)] - c0);
    }
    return p;
}

}  // namespace lumen::ptycho
