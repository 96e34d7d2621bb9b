// write_history: a solver's per-iteration history as float64 vectors in an output file.
#include <hdf5.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "lumen/core/error.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/solvers/solver.hpp"

namespace lumen {

namespace {

// H5Writer has no float64-vector write; the history is written through HDF5 into the writer's
// own open file. H5Writer writes to "<path>.tmp-<pid>" (src/io/hdf5.cpp); the open file ids of
// this process are searched for that name.
hid_t writer_file_id(const io::H5Writer& out) {
    const std::string wanted = out.path() + ".tmp-" + std::to_string(::getpid());
    const ssize_t count = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE);
    if (count <= 0) return H5I_INVALID_HID;
    std::vector<hid_t> ids(static_cast<std::size_t>(count));
    const ssize_t got = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, std::size_t(count), ids.data());
    for (ssize_t i = 0; i < got; ++i) {
        const ssize_t len = H5Fget_name(ids[std::size_t(i)], nullptr, 0);
        if (len <= 0) continue;
        std::string name(std::size_t(len) + 1, '\0');
        H5Fget_name(ids[std::size_t(i)], name.data(), name.size());
        name.resize(std::size_t(len));
        if (name == wanted) return ids[std::size_t(i)];
    }
    return H5I_INVALID_HID;
}

void write_f64(hid_t file, const std::string& path, const std::string& ds, const std::vector<double>& v) {
    const hsize_t dims[1] = {hsize_t(v.size())};
    const hid_t space = H5Screate_simple(1, dims, nullptr);
    const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    const hid_t d = H5Dcreate2(file, ds.c_str(), H5T_IEEE_F64LE, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    herr_t status = -1;
    if (d >= 0) {
        status = v.empty() ? 0 : H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
        H5Dclose(d);
    }
    H5Pclose(lcpl);
    H5Sclose(space);
    require(d >= 0, path + ": dataset " + ds + ": cannot create the dataset (does it exist already?)");
    require(status >= 0, path + ": dataset " + ds + ": writing failed (disk full?)");
}

}  // namespace

void write_history(io::H5Writer& out, const SolverResult& result, const std::string& group) {
    require(!group.empty() && group[0] == '/', out.path() + ": history group must be an absolute path, got '" +
                                                   group + "'");
    const hid_t file = writer_file_id(out);
    if (file == H5I_INVALID_HID)
        throw Error(ErrorCode::internal, out.path() + ": write_history cannot find the writer's open file");
    const std::size_t n = result.history.size();
    std::vector<double> iteration(n), objective(n), residual(n), step(n), elapsed(n);
    for (std::size_t i = 0; i < n; ++i) {
        const IterationInfo& h = result.history[i];
        iteration[i] = h.iteration;
        objective[i] = h.objective;
        residual[i] = h.residual;
        step[i] = h.step;
        elapsed[i] = h.elapsed_s;
    }
    out.create_group(group);
    const std::string base = group == "/" ? "/" : group + "/";
    write_f64(file, out.path(), base + "iteration", iteration);
    write_f64(file, out.path(), base + "objective", objective);
    write_f64(file, out.path(), base + "residual", residual);
    write_f64(file, out.path(), base + "step", step);
    write_f64(file, out.path(), base + "elapsed_s", elapsed);
    out.set_attr(group, "iterations", std::int64_t(result.iterations));
    out.set_attr(group, "stop_reason", result.stop_reason);
    out.set_attr(group, "converged", std::int64_t(result.converged ? 1 : 0));
    out.set_attr(group, "elapsed_s", result.elapsed_s);
}

}  // namespace lumen
