// Crafting HDF5 files for tests and fuzz seeds, with the HDF5 C API directly: unlike
// io::H5Writer (which writes only what lumen itself writes), this writes what broken or
// foreign files hold: compounds with members in any order or with unknown names, huge declared
// shapes backed by no data (chunked, never written), attributes of any type.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lumen::test {

class H5Craft {
public:
    explicit H5Craft(const std::string& path);  // creates (truncates) the file
    H5Craft(const H5Craft&) = delete;
    H5Craft& operator=(const H5Craft&) = delete;
    ~H5Craft();  // closes the file

    void group(const std::string& name);
    // float32 data of the given shape (values.size() must match; empty shape: a scalar).
    void floats(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<float>& values);
    void doubles(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<double>& values);
    void ints(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<std::int64_t>& values);
    // Complex stored as a compound of two float32 members named first/second, in that order;
    // values are (first, second) pairs, interleaved.
    void complex(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<float>& pairs,
                 const std::string& first = "r", const std::string& second = "i");
    // A chunked dataset declaring `shape` with no data written: a tiny file claiming any size.
    // complex_type: the {r, i} compound; otherwise float32.
    void declared(const std::string& ds, const std::vector<std::uint64_t>& shape, bool complex_type);
    // A fixed-length scalar string dataset (as h5py writes bytes).
    void string(const std::string& ds, const std::string& text);
    // An ISMRMRD-like /dataset/data table ({head {number_of_samples, active_channels,
    // trajectory_dimensions}, traj, data}) declaring `records` acquisitions, none written, and
    // /dataset/xml holding `xml`.
    void declared_ismrmrd(std::uint64_t records, const std::string& xml);
    void attr(const std::string& object, const std::string& name, double value);
    void attr(const std::string& object, const std::string& name, const std::string& value);  // variable length

private:
    long long file_;
};

// Overwrites head.number_of_samples of one record of an ISMRMRD /dataset/data in place (the
// stored samples stay as they are): a header that claims more data than the record holds.
void set_ismrmrd_samples(const std::string& path, std::uint64_t record, std::uint16_t samples);

// Overwrites the stored length (elements) of one record's `data` sequence in /dataset/data's raw
// chunk, leaving its heap object as it is: a record whose length and header agree but whose
// stored object is shorter than both claim (fuzz_mri's heap over-read). The table must be
// chunked and unfiltered, as libismrmrd writes it.
void set_ismrmrd_data_length(const std::string& path, std::uint64_t record, std::uint32_t length);

// The bytes of a file ("" when missing), for before/after comparisons.
std::string file_bytes(const std::string& path);

}  // namespace lumen::test
