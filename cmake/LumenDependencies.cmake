# Third-party libraries, all from Debian 12 packages (README: set-up). Nothing is downloaded.
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(PNG REQUIRED)
find_package(pugixml REQUIRED)
find_package(ISMRMRD REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
find_library(LUMEN_FFTW3F_OMP fftw3f_omp HINTS ${FFTW3F_LIBRARY_DIRS} REQUIRED)

if(NOT TARGET hdf5::hdf5)
  add_library(hdf5::hdf5 INTERFACE IMPORTED)
  set_target_properties(hdf5::hdf5 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${HDF5_INCLUDE_DIRS}"
                                              INTERFACE_LINK_LIBRARIES "${HDF5_C_LIBRARIES}"
                                              INTERFACE_COMPILE_DEFINITIONS "${HDF5_DEFINITIONS}")
endif()
if(NOT TARGET ISMRMRD::ISMRMRD)
  add_library(ISMRMRD::ISMRMRD INTERFACE IMPORTED)
  set_target_properties(ISMRMRD::ISMRMRD PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${ISMRMRD_INCLUDE_DIR}"
                                                    INTERFACE_LINK_LIBRARIES "${ISMRMRD_LIBRARIES}")
endif()
add_library(lumen_deps::fftw3f INTERFACE IMPORTED)
target_link_libraries(lumen_deps::fftw3f INTERFACE ${LUMEN_FFTW3F_OMP} PkgConfig::FFTW3F)
