// The one HDF5 layer of lumen (C API behind RAII; no HDF5 header leaks into this API).
//
// Reading converts any real numeric dataset to float32 and any complex compound ({r, i} as h5py
// writes it, or {real, imag}; float or double members) to complex64, checking ranks, and every
// error names the file, the dataset, what was found and what was expected.
//
// Writing goes through H5Writer, which writes to a staged file beside the target (lumen/io/output.hpp:
// a private mkdtemp directory, exclusive creation) and renames it over the target only when its
// OutputSet commits: a failed or interrupted run leaves no partial output and never writes
// through a link.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/io/output.hpp"

namespace lumen::io {

struct DatasetInfo {
    Shape shape;
    std::string dtype;  // "float32", "float64", "int32", "uint8", "bool", "complex64", "complex128", "string", ...
    bool is_real_number() const;
    bool is_complex() const { return dtype == "complex64" || dtype == "complex128"; }
    bool is_string() const { return dtype == "string"; }
};

class H5File {
public:
    // Opens an existing file read-only. Throws Error(bad_input) naming the path if it is missing,
    // not a regular file (a directory or a named pipe, which would block) or not HDF5.
    static H5File open(const std::string& path);
    H5File(H5File&&) noexcept;
    H5File& operator=(H5File&&) noexcept;
    ~H5File();

    const std::string& path() const;
    bool exists(const std::string& name) const;          // a dataset or group at this path
    bool is_dataset(const std::string& name) const;
    std::vector<std::string> list(const std::string& group = "/") const;  // member names
    DatasetInfo info(const std::string& dataset) const;

    // expected_rank < 0 accepts any rank. A scalar dataset has rank 0 and one element.
    Array<float> read_float(const std::string& dataset, int expected_rank = -1) const;
    Array<complex64> read_complex(const std::string& dataset, int expected_rank = -1) const;
    Array<std::int64_t> read_int(const std::string& dataset, int expected_rank = -1) const;
    // Real numbers as float64 (histories and checkpoints, which must come back exactly).
    Array<double> read_double(const std::string& dataset, int expected_rank = -1) const;
    // Items [first, first + count) along the first axis only (e.g. some slices of a large volume).
    Array<float> read_float_items(const std::string& dataset, index_t first, index_t count) const;
    Array<complex64> read_complex_items(const std::string& dataset, index_t first, index_t count) const;
    // Items [first, first + count) along `axis`, all of every other axis (e.g. some detector rows of
    // every projection: one HDF5 hyperslab, the rest is not read).
    Array<float> read_float_items(const std::string& dataset, int axis, index_t first, index_t count,
                                  int expected_rank = -1) const;
    // A scalar or 1-element dataset as a number.
    double read_scalar(const std::string& dataset) const;
    // A scalar string (fixed or variable length) or a 1-D uint8/int8 array, as text.
    std::string read_string(const std::string& dataset) const;

    bool has_attr(const std::string& object, const std::string& name) const;
    double attr_double(const std::string& object, const std::string& name) const;
    std::string attr_string(const std::string& object, const std::string& name) const;

    struct Impl;

private:
    explicit H5File(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

class H5Writer {
public:
    // Starts writing `path` on its own: commit() puts it in place.
    explicit H5Writer(const std::string& path);
    // Starts writing `path` as one file of `set` (which must outlive the writer): commit() only
    // finishes the file; set.commit() puts it in place together with the set's other files.
    H5Writer(OutputSet& set, const std::string& path);
    H5Writer(H5Writer&&) noexcept;
    H5Writer& operator=(H5Writer&&) noexcept;
    // Without commit() the temporary file is removed and `path` is left as it was.
    ~H5Writer();

    const std::string& path() const;
    // Datasets; parent groups are created as needed. Device arrays are copied to the host.
    void write(const std::string& dataset, View<const float> data);
    void write(const std::string& dataset, View<const complex64> data);  // compound {r, i} like h5py
    void write(const std::string& dataset, View<const std::int64_t> data);
    void write(const std::string& dataset, View<const std::uint8_t> data);
    // A float64 vector (histories, per-slice figures).
    void write(const std::string& dataset, const std::vector<double>& values);
    void write_string(const std::string& dataset, const std::string& text);
    void write_scalar(const std::string& dataset, double value);
    void create_group(const std::string& group);

    // Attributes on a dataset or group that exists already ("/" for the file).
    void set_attr(const std::string& object, const std::string& name, double value);
    void set_attr(const std::string& object, const std::string& name, std::int64_t value);
    void set_attr(const std::string& object, const std::string& name, int value) {
        set_attr(object, name, std::int64_t(value));
    }
    void set_attr(const std::string& object, const std::string& name, const std::string& value);
    void set_attr(const std::string& object, const std::string& name, const char* value) {
        set_attr(object, name, std::string(value));
    }

    // Closes the file; renames it onto the target path unless it belongs to an OutputSet.
    void commit();

    struct Impl;

private:
    void start(const std::string& path);
    std::unique_ptr<Impl> impl_;
};

// Throws Error(usage) when an output path would overwrite the input (the same name, or a link to
// the same file).
void require_distinct_paths(const std::string& input, const std::string& output);

}  // namespace lumen::io
