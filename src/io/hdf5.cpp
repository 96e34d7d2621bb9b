// HDF5 C API behind RAII handles. See include/lumen/io/hdf5.hpp for the contract.
#include "lumen/io/hdf5.hpp"
#include "lumen/io/watchdog.hpp"

#include <hdf5.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>

namespace lumen::io {

namespace {

// Silences HDF5's own error-stack printing: every failure becomes a lumen::Error instead.
void quiet_hdf5() {
    static std::once_flag once;
    std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = -1; }
    Handle& operator=(Handle&& o) noexcept {
        if (this != &o) {
            reset();
            id_ = o.id_;
            closer_ = o.closer_;
            o.id_ = -1;
        }
        return *this;
    }
    ~Handle() { reset(); }
    void reset() noexcept {
        if (id_ >= 0 && closer_) closer_(id_);
        id_ = -1;
    }
    hid_t get() const noexcept { return id_; }
    bool valid() const noexcept { return id_ >= 0; }
    // Gives up ownership (the caller closes it and checks the result).
    hid_t release() noexcept {
        const hid_t id = id_;
        id_ = -1;
        return id;
    }

private:
    hid_t id_ = -1;
    Closer closer_ = nullptr;
};

struct ComplexNames {
    std::string re, im;
};

std::string member_name(hid_t type, unsigned i) {
    char* c = H5Tget_member_name(type, i);
    std::string s(c ? c : "");
    if (c) H5free_memory(c);
    return s;
}

// "{a, b, c}" for messages.
std::string compound_members(hid_t type) {
    const int n = H5Tget_nmembers(type);
    std::string s = "{";
    for (int i = 0; i < n && i < 8; ++i) s += (i ? ", " : "") + member_name(type, unsigned(i));
    return s + (n > 8 ? ", ...}" : "}");
}

// The real and imaginary members of a complex compound, found by NAME: members are matched by
// name, never by position, so {i, r} reads as correctly as {r, i}. Exactly two floating-point
// members of the same size, with one real and one imaginary name; anything else is not complex.
std::optional<ComplexNames> complex_member_names(hid_t type) {
    if (H5Tget_class(type) != H5T_COMPOUND || H5Tget_nmembers(type) != 2) return std::nullopt;
    if (H5Tget_member_class(type, 0) != H5T_FLOAT || H5Tget_member_class(type, 1) != H5T_FLOAT) return std::nullopt;
    Handle m0(H5Tget_member_type(type, 0), H5Tclose), m1(H5Tget_member_type(type, 1), H5Tclose);
    if (H5Tget_size(m0.get()) != H5Tget_size(m1.get())) return std::nullopt;
    auto lower = [](std::string s) {
        for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    auto is_re = [&](const std::string& n) {
        const std::string l = lower(n);
        return l == "r" || l == "re" || l == "real";
    };
    auto is_im = [&](const std::string& n) {
        const std::string l = lower(n);
        return l == "i" || l == "im" || l == "imag" || l == "imaginary";
    };
    const std::string a = member_name(type, 0), b = member_name(type, 1);
    if (is_re(a) && is_im(b)) return ComplexNames{a, b};
    if (is_im(a) && is_re(b)) return ComplexNames{b, a};
    return std::nullopt;
}

std::string dtype_name(hid_t type) {
    const H5T_class_t cls = H5Tget_class(type);
    const std::size_t size = H5Tget_size(type);
    switch (cls) {
        case H5T_FLOAT: return size == 4 ? "float32" : size == 8 ? "float64" : "float" + std::to_string(8 * size);
        case H5T_INTEGER: {
            const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
            return std::string(is_signed ? "int" : "uint") + std::to_string(8 * size);
        }
        case H5T_ENUM: {
            // h5py stores numpy bool as an enum {FALSE, TRUE} over int8.
            if (H5Tget_nmembers(type) == 2) return "bool";
            return "enum";
        }
        case H5T_STRING: return "string";
        case H5T_COMPOUND: {
            if (complex_member_names(type)) {
                Handle m0(H5Tget_member_type(type, 0), H5Tclose);
                return H5Tget_size(m0.get()) == 4 ? "complex64" : "complex128";
            }
            return "compound " + compound_members(type);
        }
        default: return "unsupported type";
    }
}

// Runs `read` in a forked child and returns what it returned. Variable-length strings live in
// the file's global heap, which libHDF5 1.10 trusts: a corrupt heap entry makes H5Aread/H5Dread
// copy past their buffers (H5HG_read) and crash the process, and nothing a caller can query
// first reveals it (fuzz/README.md). In a child, such a crash becomes a clean refusal naming the
// attribute or dataset, and a read that hangs is cut off after k_child_seconds. The child only
// reads (the file is open read-only, HDF5's sec2 driver uses pread) and leaves with _exit, so
// nothing of the parent's HDF5 state is flushed or closed twice.
constexpr int k_child_seconds = 10;
constexpr std::size_t k_child_max_bytes = std::size_t(16) << 20;

std::string read_isolated(const std::function<std::string()>& read, const std::string& what) {
    int fds[2];
    if (::pipe(fds) != 0) return read();  // no isolation available: read in this process
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return read();
    }
    if (pid == 0) {
        // The child dies with its parent (a parent killed by SIGKILL or a fuzzer's time-out must
        // not leave it spinning in libHDF5), and a crash in it is an ordinary signal death that
        // the parent reports: no inherited handler (the apps' output clean-up, a sanitizer's or
        // libFuzzer's crash report) runs in the child.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int sig : {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGINT, SIGTERM, SIGHUP, SIGQUIT})
            ::signal(sig, SIG_DFL);
        if (::getppid() == 1) ::_exit(1);  // the parent died before prctl took effect
        ::close(fds[0]);
        std::string text;
        char status = 0;
        try {
            text = read();
        } catch (...) {
            status = 1;
        }
        if (text.size() > k_child_max_bytes) text.resize(k_child_max_bytes);
        std::string out = std::string(1, status) + text;
        for (std::size_t done = 0; done < out.size();) {
            const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0) break;
            done += std::size_t(n);
        }
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string got;
    bool timed_out = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(k_child_seconds);
    char buf[65536];
    while (true) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{fds[0], POLLIN, 0};
        const int ready = ::poll(&pfd, 1, int(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) {
            timed_out = ready == 0;
            break;
        }
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (got.size() < k_child_max_bytes + 1) got.append(buf, std::size_t(n));
    }
    ::close(fds[0]);
    if (timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out)
        throw Error(ErrorCode::bad_input, what + ": reading it took over " + std::to_string(k_child_seconds) +
                                              " s (corrupt file?)");
    if (WIFSIGNALED(status))
        throw Error(ErrorCode::bad_input, what + " is corrupt: libHDF5 crashed reading it (signal " +
                                              std::to_string(WTERMSIG(status)) + "); the file cannot be read safely");
    require(!got.empty() && got[0] == 0, what + ": reading failed (corrupt file?)");
    return got.substr(1);
}

}  // namespace

bool DatasetInfo::is_real_number() const {
    return dtype.rfind("float", 0) == 0 || dtype.rfind("int", 0) == 0 || dtype.rfind("uint", 0) == 0 || dtype == "bool";
}

struct H5File::Impl {
    std::string path;
    Handle file;

    std::string where(const std::string& ds) const { return path + ": dataset " + ds; }

    Handle open_dataset(const std::string& ds) const {
        require(exists(ds), where(ds) + " is missing");
        Handle d(H5Dopen2(file.get(), ds.c_str(), H5P_DEFAULT), H5Dclose);
        require(d.valid(), where(ds) + " is not a dataset (a group?)");
        return d;
    }
    bool exists(const std::string& name) const {
        if (name == "/" || name.empty()) return true;
        // Every intermediate link must exist before the next is queried.
        std::size_t pos = 0;
        while (true) {
            pos = name.find('/', pos + 1);
            const std::string part = name.substr(0, pos);
            if (!part.empty() && part != "/" && H5Lexists(file.get(), part.c_str(), H5P_DEFAULT) <= 0) return false;
            if (pos == std::string::npos) return true;
        }
    }
    // The declared shape, checked: header sizes are untrusted, so a dimension beyond int64 or a
    // product that wraps is refused here, naming the dataset, before anything is allocated.
    Shape shape_of(hid_t dset, const std::string& ds) const {
        Handle space(H5Dget_space(dset), H5Sclose);
        require(space.valid(), where(ds) + ": cannot read its dataspace (corrupt file)");
        const int rank = H5Sget_simple_extent_ndims(space.get());
        require(rank >= 0 && rank <= Shape::max_rank,
                where(ds) + " has unsupported rank " + std::to_string(rank) + " (at most 6)");
        std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
        require(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) >= 0,
                where(ds) + ": cannot read its dimensions (corrupt file)");
        std::vector<index_t> d;
        std::string text = "(";
        for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? ", " : "") + std::to_string(dims[i]);
        text += ")";
        for (hsize_t v : dims) {
            require(v <= hsize_t(INT64_MAX), where(ds) + " declares shape " + text + ": a dimension beyond 2^63");
            d.push_back(index_t(v));
        }
        try {
            return Shape(d);
        } catch (const Error&) {
            throw Error(ErrorCode::bad_input,
                        where(ds) + " declares shape " + text + ": more elements than fit in 64 bits (corrupt header?)");
        }
    }
    DatasetInfo info(const std::string& ds) const {
        Handle d = open_dataset(ds);
        Handle type(H5Dget_type(d.get()), H5Tclose);
        return DatasetInfo{shape_of(d.get(), ds), dtype_name(type.get())};
    }
    void check_rank(const std::string& ds, const Shape& shape, int expected_rank) const {
        if (expected_rank < 0) return;
        require(shape.rank() == expected_rank, where(ds) + " has shape " + shape.str() + " (rank " +
                                                   std::to_string(shape.rank()) + "), expected rank " +
                                                   std::to_string(expected_rank));
    }

    // Reads `ds` (or items [first, first+count) of its first axis) into `out` with memory type mem.
    template <class T>
    Array<T> read_with(const std::string& ds, int expected_rank, hid_t mem_type, const std::function<void(hid_t)>& check,
                       index_t first = -1, index_t count = -1, index_t axis = 0) const {
        Handle d = open_dataset(ds);
        Handle ftype(H5Dget_type(d.get()), H5Tclose);
        check(ftype.get());
        Shape shape = shape_of(d.get(), ds);
        check_rank(ds, shape, expected_rank);
        Handle fspace(H5Dget_space(d.get()), H5Sclose);
        Handle mspace;
        if (first >= 0) {
            require(shape.rank() > axis, where(ds) + " has shape " + shape.str() + "; cannot select items of its axis " +
                                             std::to_string(axis));
            require(first + count <= shape[int(axis)] && count >= 0,
                    where(ds) + ": items [" + std::to_string(first) + ", " + std::to_string(first + count) +
                        ") are outside its axis " + std::to_string(axis) + " of length " + std::to_string(shape[int(axis)]));
            std::vector<hsize_t> start(std::size_t(shape.rank()), 0), cnt(std::size_t(shape.rank()));
            std::vector<index_t> dims(std::size_t(shape.rank()));
            for (int a = 0; a < shape.rank(); ++a) cnt[std::size_t(a)] = hsize_t(shape[a]);
            start[std::size_t(axis)] = hsize_t(first);
            cnt[std::size_t(axis)] = hsize_t(count);
            H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr);
            for (int a = 0; a < shape.rank(); ++a) dims[std::size_t(a)] = index_t(cnt[std::size_t(a)]);
            shape = Shape(dims);
            mspace = Handle(H5Screate_simple(int(cnt.size()), cnt.data(), nullptr), H5Sclose);
        }
        // The file's header says how much to allocate: check that first against what this machine
        // allows, so that a 2 MB file declaring terabytes is refused instead of swapping to death.
        require_memory(double(shape.bytes(sizeof(T))), where(ds) + " of shape " + shape.str());
        Array<T> out(shape);
        if (out.size() == 0) return out;
        const herr_t st = H5Dread(d.get(), mem_type, first >= 0 ? mspace.get() : H5S_ALL,
                                  first >= 0 ? fspace.get() : H5S_ALL, H5P_DEFAULT, out.data());
        require(st >= 0, where(ds) + ": reading failed (corrupt file or unconvertible type " +
                             dtype_name(ftype.get()) + ")");
        return out;
    }

    // Numeric conversions: integers, floats and enums (through their base integer type).
    static void check_real(const std::string& where_ds, hid_t ftype) {
        const H5T_class_t cls = H5Tget_class(ftype);
        require(cls == H5T_FLOAT || cls == H5T_INTEGER || cls == H5T_ENUM,
                where_ds + " has type " + dtype_name(ftype) + ", expected a real number type (float or integer)");
    }
    ComplexNames complex_names(const std::string& ds, hid_t ftype) const {
        const std::optional<ComplexNames> names = complex_member_names(ftype);
        require(names.has_value(),
                where(ds) + " has type " + dtype_name(ftype) +
                    ", expected complex: an HDF5 compound of two floats named {r, i} (as h5py writes complex64), "
                    "{re, im} or {real, imag}");
        return *names;
    }
};

H5File::H5File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
H5File::H5File(H5File&&) noexcept = default;
H5File& H5File::operator=(H5File&&) noexcept = default;
H5File::~H5File() = default;

H5File H5File::open(const std::string& path) {
    const ReadWatch watch(path);
    quiet_hdf5();
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    require(std::filesystem::exists(st), path + ": no such file");
    require(!std::filesystem::is_directory(st), path + ": is a directory, expected an HDF5 file");
    // Regular files only: opening a named pipe or a device would block or read forever.
    require(std::filesystem::is_regular_file(st),
            path + ": is not a regular file (a named pipe, socket or device?); expected an HDF5 file");
    require(H5Fis_hdf5(path.c_str()) > 0, path + ": not an HDF5 file");
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    impl->file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    require(impl->file.valid(), path + ": cannot open the HDF5 file (corrupt or unreadable)");
    return H5File(std::move(impl));
}

const std::string& H5File::path() const { return impl_->path; }
bool H5File::exists(const std::string& name) const {
    const ReadWatch watch(impl_->path);
    return impl_->exists(name);
}
bool H5File::is_dataset(const std::string& name) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    if (!impl_->exists(name)) return false;
    Handle o(H5Oopen(impl_->file.get(), name.c_str(), H5P_DEFAULT), H5Oclose);
    return o.valid() && H5Iget_type(o.get()) == H5I_DATASET;
}

std::vector<std::string> H5File::list(const std::string& group) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    require(impl_->exists(group), impl_->path + ": group " + group + " is missing");
    Handle g(H5Gopen2(impl_->file.get(), group.c_str(), H5P_DEFAULT), H5Gclose);
    require(g.valid(), impl_->path + ": " + group + " is not a group");
    H5G_info_t ginfo;
    H5Gget_info(g.get(), &ginfo);
    std::vector<std::string> names;
    for (hsize_t i = 0; i < ginfo.nlinks; ++i) {
        const ssize_t len = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
        if (len < 0) continue;
        std::string name(std::size_t(len) + 1, '\0');
        H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
        name.resize(std::size_t(len));
        names.push_back(name);
    }
    return names;
}

DatasetInfo H5File::info(const std::string& dataset) const {
    const ReadWatch watch(impl_->path);
    return impl_->info(dataset);
}

Array<float> H5File::read_float(const std::string& ds, int expected_rank) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->where(ds);
    return impl_->read_with<float>(ds, expected_rank, H5T_NATIVE_FLOAT, [&](hid_t t) { Impl::check_real(w, t); });
}

Array<double> H5File::read_double(const std::string& ds, int expected_rank) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->where(ds);
    return impl_->read_with<double>(ds, expected_rank, H5T_NATIVE_DOUBLE, [&](hid_t t) { Impl::check_real(w, t); });
}

Array<std::int64_t> H5File::read_int(const std::string& ds, int expected_rank) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->where(ds);
    Handle d = impl_->open_dataset(ds);
    Handle ftype(H5Dget_type(d.get()), H5Tclose);
    Impl::check_real(w, ftype.get());
    if (H5Tget_class(ftype.get()) == H5T_ENUM || H5Tget_class(ftype.get()) == H5T_FLOAT) {
        // HDF5 does not convert enums to integers; read through float (exact for small ints).
        Array<float> f = read_float(ds, expected_rank);
        Array<std::int64_t> out(f.shape());
        for (index_t i = 0; i < f.size(); ++i) {
            // A cast of NaN, Inf or a value beyond int64 is undefined; a fraction would be
            // truncated silently. Both are refused, naming the element.
            const float v = f[i];
            require(std::isfinite(v) && std::fabs(v) < 9.2e18f && v == std::floor(v),
                    w + " holds " + std::to_string(v) + " at index " + std::to_string(i) +
                        ", expected whole numbers");
            out[i] = std::int64_t(v);
        }
        return out;
    }
    return impl_->read_with<std::int64_t>(ds, expected_rank, H5T_NATIVE_INT64, [](hid_t) {});
}

Array<float> H5File::read_float_items(const std::string& ds, index_t first, index_t count) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->where(ds);
    return impl_->read_with<float>(ds, -1, H5T_NATIVE_FLOAT, [&](hid_t t) { Impl::check_real(w, t); }, first, count);
}

Array<float> H5File::read_float_items(const std::string& ds, int axis, index_t first, index_t count,
                                      int expected_rank) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->where(ds);
    require(axis >= 0, w + ": axis " + std::to_string(axis) + " is not an axis");
    return impl_->read_with<float>(ds, expected_rank, H5T_NATIVE_FLOAT, [&](hid_t t) { Impl::check_real(w, t); }, first,
                                   count, index_t(axis));
}

namespace {
Handle complex_mem_type(const ComplexNames& names) {
    Handle t(H5Tcreate(H5T_COMPOUND, sizeof(complex64)), H5Tclose);
    H5Tinsert(t.get(), names.re.c_str(), 0, H5T_NATIVE_FLOAT);
    H5Tinsert(t.get(), names.im.c_str(), sizeof(float), H5T_NATIVE_FLOAT);
    return t;
}
}  // namespace

Array<complex64> H5File::read_complex(const std::string& ds, int expected_rank) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    Handle d = impl_->open_dataset(ds);
    Handle ftype(H5Dget_type(d.get()), H5Tclose);
    const ComplexNames names = impl_->complex_names(ds, ftype.get());
    Handle mem = complex_mem_type(names);
    return impl_->read_with<complex64>(ds, expected_rank, mem.get(), [](hid_t) {});
}

Array<complex64> H5File::read_complex_items(const std::string& ds, index_t first, index_t count) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    Handle d = impl_->open_dataset(ds);
    Handle ftype(H5Dget_type(d.get()), H5Tclose);
    const ComplexNames names = impl_->complex_names(ds, ftype.get());
    Handle mem = complex_mem_type(names);
    return impl_->read_with<complex64>(ds, -1, mem.get(), [](hid_t) {}, first, count);
}

double H5File::read_scalar(const std::string& ds) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    Handle d = impl_->open_dataset(ds);
    Handle t(H5Dget_type(d.get()), H5Tclose);
    Impl::check_real(impl_->where(ds), t.get());
    const Shape shape = impl_->shape_of(d.get(), ds);
    require(shape.size() == 1, impl_->where(ds) + " has shape " + shape.str() + ", expected a single number");
    if (H5Tget_class(t.get()) == H5T_ENUM) return double(read_float(ds)[0]);
    double value = 0;
    require(H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) >= 0,
            impl_->where(ds) + ": reading failed");
    return value;
}

std::string H5File::read_string(const std::string& ds) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    Handle d = impl_->open_dataset(ds);
    Handle ftype(H5Dget_type(d.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(ftype.get());
    if (cls == H5T_INTEGER && H5Tget_size(ftype.get()) == 1) {
        Array<std::int64_t> bytes = read_int(ds, 1);
        std::string s;
        for (auto b : bytes) s.push_back(char(b));
        return s;
    }
    require(cls == H5T_STRING, impl_->where(ds) + " has type " + dtype_name(ftype.get()) + ", expected a string");
    const Shape shape = impl_->shape_of(d.get(), ds);
    require(shape.size() == 1, impl_->where(ds) + " has shape " + shape.str() + ", expected a single string");
    if (H5Tis_variable_str(ftype.get()) > 0) {
        // In a child process: see read_isolated.
        return read_isolated(
            [&] {
                Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
                H5Tset_size(mem.get(), H5T_VARIABLE);
                H5Tset_cset(mem.get(), H5Tget_cset(ftype.get()));
                char* text = nullptr;
                require(H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0,
                        impl_->where(ds) + ": reading the string failed");
                std::string s(text ? text : "");
                Handle space(H5Dget_space(d.get()), H5Sclose);
                H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, &text);
                return s;
            },
            impl_->where(ds));
    }
    const std::size_t size = H5Tget_size(ftype.get());
    std::string s(size, '\0');
    Handle mem(H5Tcopy(ftype.get()), H5Tclose);
    require(H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, s.data()) >= 0,
            impl_->where(ds) + ": reading the string failed");
    const auto end = s.find('\0');
    if (end != std::string::npos) s.resize(end);
    return s;
}

bool H5File::has_attr(const std::string& object, const std::string& name) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    if (!impl_->exists(object)) return false;
    return H5Aexists_by_name(impl_->file.get(), object.c_str(), name.c_str(), H5P_DEFAULT) > 0;
}

double H5File::attr_double(const std::string& object, const std::string& name) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->path + ": attribute " + name + " of " + object;
    require(has_attr(object, name), w + " is missing");
    Handle a(H5Aopen_by_name(impl_->file.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    Handle t(H5Aget_type(a.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(t.get());
    if (cls == H5T_STRING) {
        const std::string s = attr_string(object, name);
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        require(end && end != s.c_str(), w + " is the text '" + s + "', expected a number");
        return v;
    }
    require(cls == H5T_FLOAT || cls == H5T_INTEGER, w + " has type " + dtype_name(t.get()) + ", expected a number");
    Handle space(H5Aget_space(a.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    require(n == 1, w + " holds " + std::to_string(n) + " values, expected one");
    double v = 0;
    require(H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) >= 0, w + ": reading failed");
    return v;
}

std::string H5File::attr_string(const std::string& object, const std::string& name) const {
    const ReadWatch watch(impl_->path);  // issue #10: a bound on time inside libHDF5
    const std::string w = impl_->path + ": attribute " + name + " of " + object;
    require(has_attr(object, name), w + " is missing");
    Handle a(H5Aopen_by_name(impl_->file.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    Handle t(H5Aget_type(a.get()), H5Tclose);
    require(H5Tget_class(t.get()) == H5T_STRING, w + " has type " + dtype_name(t.get()) + ", expected a string");
    if (H5Tis_variable_str(t.get()) > 0) {
        // In a child process: see read_isolated.
        return read_isolated(
            [&] {
                Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
                H5Tset_size(mem.get(), H5T_VARIABLE);
                H5Tset_cset(mem.get(), H5Tget_cset(t.get()));
                char* text = nullptr;
                require(H5Aread(a.get(), mem.get(), &text) >= 0, w + ": reading failed");
                std::string s(text ? text : "");
                if (text) H5free_memory(text);
                return s;
            },
            w);
    }
    std::string s(H5Tget_size(t.get()), '\0');
    require(H5Aread(a.get(), t.get(), s.data()) >= 0, w + ": reading failed");
    const auto end = s.find('\0');
    if (end != std::string::npos) s.resize(end);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Writing

struct H5Writer::Impl {
    std::string path, temp_path;
    std::unique_ptr<OutputSet> own_set;  // when the writer stands alone
    OutputSet* set = nullptr;
    Handle file;
    bool committed = false;

    std::string where(const std::string& ds) const { return path + ": dataset " + ds; }

    Handle link_props() const {
        Handle lcpl(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
        H5Pset_create_intermediate_group(lcpl.get(), 1);
        return lcpl;
    }
    void write_raw(const std::string& ds, const Shape& shape, hid_t file_type, hid_t mem_type, const void* data) {
        std::vector<hsize_t> dims(static_cast<std::size_t>(shape.rank()));
        for (int a = 0; a < shape.rank(); ++a) dims[std::size_t(a)] = hsize_t(shape[a]);
        Handle space(shape.rank() == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(shape.rank(), dims.data(), nullptr),
                     H5Sclose);
        Handle lcpl = link_props();
        Handle d(H5Dcreate2(file.get(), ds.c_str(), file_type, space.get(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose);
        require(d.valid(), where(ds) + ": cannot create the dataset (does it exist already?)");
        if (shape.size() > 0)
            require(H5Dwrite(d.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0,
                    where(ds) + ": writing failed (disk full?)");
    }
    Handle open_object(const std::string& object) const {
        Handle o(H5Oopen(file.get(), object.c_str(), H5P_DEFAULT), H5Oclose);
        require(o.valid(), path + ": cannot set an attribute on " + object + ": it does not exist");
        return o;
    }
    void write_attr(const std::string& object, const std::string& name, hid_t type, const void* value) {
        Handle o = open_object(object);
        if (H5Aexists(o.get(), name.c_str()) > 0) H5Adelete(o.get(), name.c_str());
        Handle space(H5Screate(H5S_SCALAR), H5Sclose);
        Handle a(H5Acreate2(o.get(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
        require(a.valid() && H5Awrite(a.get(), type, value) >= 0,
                path + ": cannot write attribute " + name + " on " + object);
    }
};

H5Writer::H5Writer(const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->own_set = std::make_unique<OutputSet>();
    impl_->set = impl_->own_set.get();
    start(path);
}

H5Writer::H5Writer(OutputSet& set, const std::string& path) : impl_(std::make_unique<Impl>()) {
    impl_->set = &set;
    start(path);
}

void H5Writer::start(const std::string& path) {
    quiet_hdf5();
    impl_->path = path;
    impl_->temp_path = impl_->set->stage(path);
    // H5F_ACC_EXCL: O_CREAT | O_EXCL, so the staged name is created fresh and never opened
    // through a link that someone placed there.
    impl_->file = Handle(H5Fcreate(impl_->temp_path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    require(impl_->file.valid(), path + ": cannot create the output file (permissions? disk full?)");
}

H5Writer::H5Writer(H5Writer&&) noexcept = default;
H5Writer& H5Writer::operator=(H5Writer&&) noexcept = default;

// Without commit() the file is closed and the OutputSet removes it (at once for a writer on
// its own, when the set is destroyed otherwise).
H5Writer::~H5Writer() {
    if (impl_) impl_->file.reset();
}

const std::string& H5Writer::path() const { return impl_->path; }

namespace {
template <class T>
Array<T> on_host(View<const T> v) {
    return Array<T>::copy_of(v, Device::cpu);
}
}  // namespace

void H5Writer::write(const std::string& ds, View<const float> data) {
    const Array<float> h = on_host(data);
    impl_->write_raw(ds, data.shape(), H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, h.data());
}

void H5Writer::write(const std::string& ds, View<const complex64> data) {
    const Array<complex64> h = on_host(data);
    Handle t = complex_mem_type({"r", "i"});
    Handle ft(H5Tcreate(H5T_COMPOUND, 8), H5Tclose);
    H5Tinsert(ft.get(), "r", 0, H5T_IEEE_F32LE);
    H5Tinsert(ft.get(), "i", 4, H5T_IEEE_F32LE);
    impl_->write_raw(ds, data.shape(), ft.get(), t.get(), h.data());
}

void H5Writer::write(const std::string& ds, View<const std::int64_t> data) {
    const Array<std::int64_t> h = on_host(data);
    impl_->write_raw(ds, data.shape(), H5T_STD_I64LE, H5T_NATIVE_INT64, h.data());
}

void H5Writer::write(const std::string& ds, View<const std::uint8_t> data) {
    const Array<std::uint8_t> h = on_host(data);
    impl_->write_raw(ds, data.shape(), H5T_STD_U8LE, H5T_NATIVE_UINT8, h.data());
}

void H5Writer::write(const std::string& ds, const std::vector<double>& values) {
    impl_->write_raw(ds, Shape{index_t(values.size())}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, values.data());
}

void H5Writer::write_string(const std::string& ds, const std::string& text) {
    // A fixed-length scalar byte string, as h5py writes numpy bytes (fastMRI's ismrmrd_header).
    Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), std::max<std::size_t>(text.size(), 1));
    H5Tset_strpad(t.get(), H5T_STR_NULLPAD);
    std::string padded = text.empty() ? std::string(1, '\0') : text;
    impl_->write_raw(ds, Shape{}, t.get(), t.get(), padded.data());
}

void H5Writer::write_scalar(const std::string& ds, double value) {
    impl_->write_raw(ds, Shape{}, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

void H5Writer::create_group(const std::string& group) {
    if (group == "/" || H5Lexists(impl_->file.get(), group.c_str(), H5P_DEFAULT) > 0) return;
    Handle lcpl = impl_->link_props();
    Handle g(H5Gcreate2(impl_->file.get(), group.c_str(), lcpl.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    require(g.valid(), impl_->path + ": cannot create group " + group);
}

void H5Writer::set_attr(const std::string& object, const std::string& name, double value) {
    impl_->write_attr(object, name, H5T_NATIVE_DOUBLE, &value);
}
void H5Writer::set_attr(const std::string& object, const std::string& name, std::int64_t value) {
    impl_->write_attr(object, name, H5T_NATIVE_INT64, &value);
}
void H5Writer::set_attr(const std::string& object, const std::string& name, const std::string& value) {
    // Variable-length UTF-8, which h5py reads back as str.
    Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
    const char* p = value.c_str();
    impl_->write_attr(object, name, t.get(), &p);
}

void H5Writer::commit() {
    require(!impl_->committed, impl_->path + ": output committed twice");
    const bool flushed = H5Fflush(impl_->file.get(), H5F_SCOPE_GLOBAL) >= 0;
    const bool closed = H5Fclose(impl_->file.release()) >= 0;
    if (!(flushed && closed)) throw Error(ErrorCode::failure, impl_->path + ": writing failed (disk full?)");
    impl_->set->finished(impl_->temp_path);
    if (impl_->own_set) impl_->own_set->commit();
    impl_->committed = true;
}

void require_distinct_paths(const std::string& input, const std::string& output) {
    std::error_code ec;
    const bool same = std::filesystem::exists(output, ec) && std::filesystem::equivalent(input, output, ec);
    if (same || input == output ||
        std::filesystem::weakly_canonical(input, ec) == std::filesystem::weakly_canonical(output, ec))
        throw Error(ErrorCode::invalid_option, "output: " + output + " is the input file; choose another output path",
                    "output");
}

}  // namespace lumen::io
