// 8-bit greyscale PNG previews through libpng, staged in an OutputSet (lumen/io/output.hpp).
#include "lumen/io/png.hpp"

#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

namespace lumen::io {

namespace {

void write_gray8(OutputSet& set, const std::string& path, const std::vector<unsigned char>& pixels, index_t ny,
                 index_t nx) {
    const std::string temp = set.stage(path);
    const int fd = create_exclusive(temp, path);
    std::FILE* f = ::fdopen(fd, "wb");
    if (!f) {
        ::close(fd);
        throw Error(ErrorCode::failure, path + ": cannot write the PNG file");
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png ? png_create_info_struct(png) : nullptr;
    volatile bool ok = png && info;  // volatile: survives libpng's longjmp
    if (ok && setjmp(png_jmpbuf(png))) ok = false;  // libpng reports errors by longjmp
    else if (ok) {
        png_init_io(png, f);
        png_set_IHDR(png, info, png_uint_32(nx), png_uint_32(ny), 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
        png_write_info(png, info);
        for (index_t r = 0; r < ny; ++r) png_write_row(png, const_cast<png_bytep>(pixels.data() + r * nx));
        png_write_end(png, nullptr);
    }
    png_destroy_write_struct(png ? &png : nullptr, info ? &info : nullptr);
    const bool closed = std::fclose(f) == 0;
    ok = closed && ok;
    // On failure the set removes the staged file; nothing reaches `path`.
    if (!ok) throw Error(ErrorCode::failure, path + ": writing the PNG failed (disk full?)");
    set.finished(temp);
}

// A preview written on its own: staged and committed at once.
template <class F>
void standalone(const F& write) {
    OutputSet set;
    write(set);
    set.commit();
}

void require_2d(const char* what, const Shape& s) {
    require(s.rank() == 2 && s.size() > 0, std::string(what) + ": expected a non-empty 2-D image, got shape " + s.str());
}

std::vector<unsigned char> quantise(const Array<float>& img, float lo, float hi) {
    if (!(lo < hi)) {
        std::vector<float> sorted;
        sorted.reserve(std::size_t(img.size()));
        for (float v : img)
            if (std::isfinite(v)) sorted.push_back(v);
        if (sorted.empty()) sorted.push_back(0.0f);
        std::sort(sorted.begin(), sorted.end());
        auto at = [&](double q) { return sorted[std::size_t(q * double(sorted.size() - 1))]; };
        lo = at(0.005);
        hi = at(0.995);
        if (!(lo < hi)) hi = lo + 1.0f;
    }
    std::vector<unsigned char> px(std::size_t(img.size()));
    for (index_t i = 0; i < img.size(); ++i) {
        const float v = std::isfinite(img[i]) ? img[i] : lo;
        const float t = std::clamp((v - lo) / (hi - lo), 0.0f, 1.0f);
        px[std::size_t(i)] = static_cast<unsigned char>(std::lround(255.0f * t));
    }
    return px;
}

}  // namespace

void write_png(OutputSet& set, const std::string& path, View<const float> image, float lo, float hi) {
    require_2d("write_png", image.shape());
    const Array<float> h = Array<float>::copy_of(image, Device::cpu);
    write_gray8(set, path, quantise(h, lo, hi), image.dim(0), image.dim(1));
}

void write_png_magnitude(OutputSet& set, const std::string& path, View<const complex64> image) {
    require_2d("write_png_magnitude", image.shape());
    const Array<complex64> h = Array<complex64>::copy_of(image, Device::cpu);
    Array<float> mag(image.shape());
    for (index_t i = 0; i < h.size(); ++i) mag[i] = abs(h[i]);
    write_gray8(set, path, quantise(mag, 0.0f, 0.0f), image.dim(0), image.dim(1));
}

void write_png(const std::string& path, View<const float> image, float lo, float hi) {
    standalone([&](OutputSet& set) { write_png(set, path, image, lo, hi); });
}
void write_png_magnitude(const std::string& path, View<const complex64> image) {
    standalone([&](OutputSet& set) { write_png_magnitude(set, path, image); });
}
void write_png_phase(const std::string& path, View<const complex64> image) {
    standalone([&](OutputSet& set) { write_png_phase(set, path, image); });
}

std::string preview_prefix(const std::string& output_path, const std::string& requested, bool disabled) {
    if (disabled) return "";
    if (!requested.empty()) return requested;
    const std::filesystem::path p(output_path);
    return (p.parent_path() / p.stem()).string();
}

void write_png_phase(OutputSet& set, const std::string& path, View<const complex64> image) {
    require_2d("write_png_phase", image.shape());
    const Array<complex64> h = Array<complex64>::copy_of(image, Device::cpu);
    Array<float> ph(image.shape());
    for (index_t i = 0; i < h.size(); ++i) ph[i] = arg(h[i]);
    write_gray8(set, path, quantise(ph, -kPiF, kPiF), image.dim(0), image.dim(1));
}

}  // namespace lumen::io
