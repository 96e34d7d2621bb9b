#include "tests/support/h5craft.hpp"

#include <hdf5.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lumen::test {

namespace {

hid_t lcpl() {
    const hid_t p = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(p, 1);
    return p;
}

void check(bool ok, const std::string& what) {
    if (!ok) throw std::runtime_error("H5Craft: " + what + " failed");
}

void write_dataset(hid_t file, const std::string& ds, const std::vector<std::uint64_t>& shape, hid_t type,
                   const void* data, std::size_t count) {
    std::size_t n = 1;
    for (auto d : shape) n *= d;
    check(n == count, ds + ": value count");
    std::vector<hsize_t> dims(shape.begin(), shape.end());
    const hid_t space = shape.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr);
    const hid_t props = lcpl();
    const hid_t d = H5Dcreate2(file, ds.c_str(), type, space, props, H5P_DEFAULT, H5P_DEFAULT);
    check(d >= 0, "creating " + ds);
    if (count) check(H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0, "writing " + ds);
    H5Dclose(d);
    H5Pclose(props);
    H5Sclose(space);
}

hid_t open_object(hid_t file, const std::string& object) {
    const hid_t o = H5Oopen(file, object.c_str(), H5P_DEFAULT);
    check(o >= 0, "opening " + object);
    return o;
}

}  // namespace

H5Craft::H5Craft(const std::string& path) {
    file_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    check(file_ >= 0, "creating " + path);
}

H5Craft::~H5Craft() { H5Fclose(hid_t(file_)); }

void H5Craft::group(const std::string& name) {
    const hid_t props = lcpl();
    const hid_t g = H5Gcreate2(hid_t(file_), name.c_str(), props, H5P_DEFAULT, H5P_DEFAULT);
    check(g >= 0, "creating group " + name);
    H5Gclose(g);
    H5Pclose(props);
}

void H5Craft::floats(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<float>& v) {
    write_dataset(hid_t(file_), ds, shape, H5T_NATIVE_FLOAT, v.data(), v.size());
}

void H5Craft::doubles(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<double>& v) {
    write_dataset(hid_t(file_), ds, shape, H5T_NATIVE_DOUBLE, v.data(), v.size());
}

void H5Craft::ints(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<std::int64_t>& v) {
    write_dataset(hid_t(file_), ds, shape, H5T_NATIVE_INT64, v.data(), v.size());
}

void H5Craft::complex(const std::string& ds, const std::vector<std::uint64_t>& shape, const std::vector<float>& pairs,
                      const std::string& first, const std::string& second) {
    const hid_t t = H5Tcreate(H5T_COMPOUND, 8);
    H5Tinsert(t, first.c_str(), 0, H5T_NATIVE_FLOAT);
    H5Tinsert(t, second.c_str(), 4, H5T_NATIVE_FLOAT);
    check(pairs.size() % 2 == 0, ds + ": pairs");
    write_dataset(hid_t(file_), ds, shape, t, pairs.data(), pairs.size() / 2);
    H5Tclose(t);
}

void H5Craft::declared(const std::string& ds, const std::vector<std::uint64_t>& shape, bool complex_type) {
    std::vector<hsize_t> dims(shape.begin(), shape.end()), chunk(shape.size(), 1);
    const hid_t space = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
    check(space >= 0, ds + ": dataspace");
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, int(chunk.size()), chunk.data());
    hid_t type = H5Tcopy(H5T_NATIVE_FLOAT);
    if (complex_type) {
        H5Tclose(type);
        type = H5Tcreate(H5T_COMPOUND, 8);
        H5Tinsert(type, "r", 0, H5T_NATIVE_FLOAT);
        H5Tinsert(type, "i", 4, H5T_NATIVE_FLOAT);
    }
    const hid_t props = lcpl();
    const hid_t d = H5Dcreate2(hid_t(file_), ds.c_str(), type, space, props, dcpl, H5P_DEFAULT);
    check(d >= 0, "creating " + ds);
    H5Dclose(d);
    H5Pclose(props);
    H5Tclose(type);
    H5Pclose(dcpl);
    H5Sclose(space);
}

void H5Craft::declared_ismrmrd(std::uint64_t records, const std::string& xml) {
    string("/dataset/xml", xml);
    const hid_t head = H5Tcreate(H5T_COMPOUND, 6);
    H5Tinsert(head, "number_of_samples", 0, H5T_NATIVE_UINT16);
    H5Tinsert(head, "active_channels", 2, H5T_NATIVE_UINT16);
    H5Tinsert(head, "trajectory_dimensions", 4, H5T_NATIVE_UINT16);
    const hid_t vl = H5Tvlen_create(H5T_NATIVE_FLOAT);
    const hid_t rec = H5Tcreate(H5T_COMPOUND, 6 + 2 * sizeof(hvl_t) + 2);
    H5Tinsert(rec, "head", 0, head);
    H5Tinsert(rec, "traj", 8, vl);
    H5Tinsert(rec, "data", 8 + sizeof(hvl_t), vl);
    const hsize_t dims = records, chunk = 1;
    const hid_t space = H5Screate_simple(1, &dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, &chunk);
    const hid_t props = lcpl();
    const hid_t d = H5Dcreate2(hid_t(file_), "/dataset/data", rec, space, props, dcpl, H5P_DEFAULT);
    check(d >= 0, "creating /dataset/data");
    H5Dclose(d);
    H5Pclose(props);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Tclose(rec);
    H5Tclose(vl);
    H5Tclose(head);
}

void H5Craft::string(const std::string& ds, const std::string& text) {
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, text.empty() ? 1 : text.size());
    std::string padded = text.empty() ? std::string(1, '\0') : text;
    write_dataset(hid_t(file_), ds, {}, t, padded.data(), 1);
    H5Tclose(t);
}

void H5Craft::attr(const std::string& object, const std::string& name, double value) {
    const hid_t o = open_object(hid_t(file_), object);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(o, name.c_str(), H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT);
    check(a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &value) >= 0, "attribute " + name);
    H5Aclose(a);
    H5Sclose(space);
    H5Oclose(o);
}

void H5Craft::attr(const std::string& object, const std::string& name, const std::string& value) {
    const hid_t o = open_object(hid_t(file_), object);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    const char* p = value.c_str();
    const hid_t a = H5Acreate2(o, name.c_str(), t, space, H5P_DEFAULT, H5P_DEFAULT);
    check(a >= 0 && H5Awrite(a, t, &p) >= 0, "attribute " + name);
    H5Aclose(a);
    H5Tclose(t);
    H5Sclose(space);
    H5Oclose(o);
}

void set_ismrmrd_samples(const std::string& path, std::uint64_t record, std::uint16_t samples) {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    check(f >= 0, "opening " + path);
    const hid_t d = H5Dopen2(f, "/dataset/data", H5P_DEFAULT);
    check(d >= 0, "opening /dataset/data");
    // A compound naming only head.number_of_samples: HDF5 writes just that field.
    const hid_t head = H5Tcreate(H5T_COMPOUND, sizeof(std::uint16_t));
    H5Tinsert(head, "number_of_samples", 0, H5T_NATIVE_UINT16);
    const hid_t rec = H5Tcreate(H5T_COMPOUND, sizeof(std::uint16_t));
    H5Tinsert(rec, "head", 0, head);
    const hid_t space = H5Dget_space(d);
    const hsize_t start = record, count = 1;
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &start, nullptr, &count, nullptr);
    const hid_t mem = H5Screate_simple(1, &count, nullptr);
    check(H5Dwrite(d, rec, mem, space, H5P_DEFAULT, &samples) >= 0, "writing number_of_samples");
    H5Sclose(mem);
    H5Sclose(space);
    H5Tclose(rec);
    H5Tclose(head);
    H5Dclose(d);
    H5Fclose(f);
}

void set_ismrmrd_data_length(const std::string& path, std::uint64_t record, std::uint32_t length) {
    std::uint64_t where = 0;
    {
        const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
        check(f >= 0, "opening " + path);
        const hid_t d = H5Dopen2(f, "/dataset/data", H5P_DEFAULT);
        check(d >= 0, "opening /dataset/data");
        const hid_t dcpl = H5Dget_create_plist(d);
        hsize_t chunk = 0;
        check(H5Pget_chunk(dcpl, 1, &chunk) == 1 && H5Pget_nfilters(dcpl) == 0, "a chunked, unfiltered table");
        const hid_t type = H5Dget_type(d);
        const std::size_t rec = H5Tget_size(type);
        const std::size_t data_offset = H5Tget_member_offset(type, unsigned(H5Tget_member_index(type, "data")));
        hsize_t first = record / chunk * chunk, bytes = 0;
        unsigned filters = 0;
        haddr_t addr = HADDR_UNDEF;
        check(H5Dget_chunk_info_by_coord(d, &first, &filters, &addr, &bytes) >= 0 && addr != HADDR_UNDEF,
              "locating the record's chunk");
        where = addr + (record - first) * rec + data_offset;  // no user block in lumen's files
        H5Tclose(type);
        H5Pclose(dcpl);
        H5Dclose(d);
        H5Fclose(f);
    }
    std::fstream io(path, std::ios::binary | std::ios::in | std::ios::out);
    check(bool(io), "reopening " + path);
    const unsigned char le[4] = {static_cast<unsigned char>(length), static_cast<unsigned char>(length >> 8),
                                 static_cast<unsigned char>(length >> 16), static_cast<unsigned char>(length >> 24)};
    io.seekp(std::streamoff(where));
    io.write(reinterpret_cast<const char*>(le), 4);
    check(bool(io), "writing the sequence length");
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace lumen::test
