#include "src/io/ismrmrd_check.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lumen/core/error.hpp"
#include "lumen/io/output.hpp"

namespace lumen::io {

namespace {

// Closes an HDF5 id of any kind when it goes out of scope.
struct Id {
    hid_t id;
    herr_t (*close)(hid_t);
    ~Id() {
        if (id >= 0) close(id);
    }
};

// The three header fields lumen needs; HDF5 converts compounds by member name, so this subset
// reads from the full AcquisitionHeader whatever its layout.
struct Head {
    std::uint16_t samples, channels, traj_dims;
};
struct Record {
    Head head;
    hvl_t traj;
    hvl_t data;
};

}  // namespace

void check_ismrmrd_acquisitions(const std::string& path, const std::string& dataset) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    const std::string w = path + ": dataset " + dataset;
    Id file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
    require(file.id >= 0, path + ": cannot open the HDF5 file (corrupt or unreadable)");
    Id d{H5Dopen2(file.id, dataset.c_str(), H5P_DEFAULT), H5Dclose};
    require(d.id >= 0, w + " cannot be opened (missing, or not a dataset)");
    Id ftype{H5Dget_type(d.id), H5Tclose};
    require(ftype.id >= 0 && H5Tget_class(ftype.id) == H5T_COMPOUND,
            w + " is not a table of ISMRMRD acquisitions (a compound {head, traj, data})");
    const int ih = H5Tget_member_index(ftype.id, "head"), it = H5Tget_member_index(ftype.id, "traj"),
              id = H5Tget_member_index(ftype.id, "data");
    require(ih >= 0 && it >= 0 && id >= 0, w + " lacks the members head, traj and data of ISMRMRD acquisitions");
    Id fhead{H5Tget_member_type(ftype.id, unsigned(ih)), H5Tclose};
    Id ftraj{H5Tget_member_type(ftype.id, unsigned(it)), H5Tclose};
    Id fdata{H5Tget_member_type(ftype.id, unsigned(id)), H5Tclose};
    require(H5Tget_class(fhead.id) == H5T_COMPOUND && H5Tget_member_index(fhead.id, "number_of_samples") >= 0 &&
                H5Tget_member_index(fhead.id, "active_channels") >= 0 &&
                H5Tget_member_index(fhead.id, "trajectory_dimensions") >= 0,
            w + ": the acquisition header lacks number_of_samples, active_channels or trajectory_dimensions");
    require(H5Tget_class(ftraj.id) == H5T_VLEN && H5Tget_class(fdata.id) == H5T_VLEN,
            w + ": traj and data are not variable-length arrays as ISMRMRD stores them");
    // The stored element types: data holds complex floats (8 bytes), traj floats (4 bytes).
    Id data_base{H5Tget_super(fdata.id), H5Tclose}, traj_base{H5Tget_super(ftraj.id), H5Tclose};
    Id data_native{H5Tget_native_type(data_base.id, H5T_DIR_ASCEND), H5Tclose};
    Id traj_native{H5Tget_native_type(traj_base.id, H5T_DIR_ASCEND), H5Tclose};
    require(data_native.id >= 0 && traj_native.id >= 0, w + ": unreadable traj or data element types");
    const std::size_t data_elem = H5Tget_size(data_native.id), traj_elem = H5Tget_size(traj_native.id);
    require(data_elem == 8 || data_elem == 4, w + ": data elements of " + std::to_string(data_elem) +
                                                   " bytes, expected complex float32 (8) or float32 (4)");
    require(traj_elem == 4, w + ": traj elements of " + std::to_string(traj_elem) + " bytes, expected float32 (4)");

    Id head_mem{H5Tcreate(H5T_COMPOUND, sizeof(Head)), H5Tclose};
    H5Tinsert(head_mem.id, "number_of_samples", offsetof(Head, samples), H5T_NATIVE_UINT16);
    H5Tinsert(head_mem.id, "active_channels", offsetof(Head, channels), H5T_NATIVE_UINT16);
    H5Tinsert(head_mem.id, "trajectory_dimensions", offsetof(Head, traj_dims), H5T_NATIVE_UINT16);
    Id traj_mem{H5Tvlen_create(traj_native.id), H5Tclose}, data_mem{H5Tvlen_create(data_native.id), H5Tclose};
    Id rec_mem{H5Tcreate(H5T_COMPOUND, sizeof(Record)), H5Tclose};
    H5Tinsert(rec_mem.id, "head", offsetof(Record, head), head_mem.id);
    H5Tinsert(rec_mem.id, "traj", offsetof(Record, traj), traj_mem.id);
    H5Tinsert(rec_mem.id, "data", offsetof(Record, data), data_mem.id);

    Id space{H5Dget_space(d.id), H5Sclose};
    require(space.id >= 0 && H5Sget_simple_extent_ndims(space.id) == 1, w + " is not a 1-D table of acquisitions");
    hsize_t n = 0;
    H5Sget_simple_extent_dims(space.id, &n, nullptr);
    // Every stored acquisition takes its header (over 300 bytes) in the file: a table declaring
    // more records than the file could hold is a corrupt or crafted header, and reading its fill
    // values record by record would take practically forever.
    hsize_t file_size = 0;
    H5Fget_filesize(file.id, &file_size);
    require(n <= file_size / 64, w + " declares " + std::to_string(n) + " acquisitions, more than a file of " +
                                     std::to_string(file_size) + " bytes can hold");
    // In blocks: a record's payload is allocated by HDF5 while it is read, so a block bounds the
    // memory held at once; the payload of the whole table is what libismrmrd reads next anyway.
    const hsize_t block = 256;
    std::vector<Record> recs(block);
    for (hsize_t first = 0; first < n; first += block) {
        const hsize_t count = std::min(block, n - first);
        Id fspace{H5Scopy(space.id), H5Sclose};
        H5Sselect_hyperslab(fspace.id, H5S_SELECT_SET, &first, nullptr, &count, nullptr);
        Id mspace{H5Screate_simple(1, &count, nullptr), H5Sclose};
        std::fill(recs.begin(), recs.end(), Record{});
        const herr_t st = H5Dread(d.id, rec_mem.id, mspace.id, fspace.id, H5P_DEFAULT, recs.data());
        if (st < 0) {
            H5Dvlen_reclaim(rec_mem.id, mspace.id, H5P_DEFAULT, recs.data());
            throw Error(ErrorCode::bad_input, w + ": acquisitions " + std::to_string(first) + " to " +
                                                  std::to_string(first + count - 1) + " cannot be read (corrupt file)");
        }
        std::string problem;
        for (hsize_t k = 0; k < count && problem.empty(); ++k) {
            const Record& r = recs[k];
            const std::uint64_t want_data = 8ull * r.head.samples * r.head.channels;
            const std::uint64_t want_traj = 4ull * r.head.samples * r.head.traj_dims;
            const std::uint64_t have_data = std::uint64_t(r.data.len) * data_elem;
            const std::uint64_t have_traj = std::uint64_t(r.traj.len) * traj_elem;
            if (have_data != want_data || have_traj != want_traj)
                problem = w + ": acquisition " + std::to_string(first + k) + " declares " +
                          std::to_string(r.head.samples) + " samples x " + std::to_string(r.head.channels) +
                          " channels (and " + std::to_string(r.head.traj_dims) + " trajectory dimensions) but holds " +
                          std::to_string(have_data / 8) + " complex samples and " + std::to_string(have_traj / 4) +
                          " trajectory values; expected " + std::to_string(want_data / 8) + " and " +
                          std::to_string(want_traj / 4);
        }
        H5Dvlen_reclaim(rec_mem.id, mspace.id, H5P_DEFAULT, recs.data());
        require(problem.empty(), problem);
    }
}

}  // namespace lumen::io
