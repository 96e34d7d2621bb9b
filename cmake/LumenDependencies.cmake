# Third-party libraries, all from Debian 12 packages (README: set-up). Nothing is downloaded.
# Each part is looked for only when what needs it is built:
#   lumen_find_core_dependencies()  lumen_core: OpenMP, FFTW 3 (float, with its OpenMP threads)
#   lumen_find_io_dependencies()    lumen_io: HDF5, libpng, pugixml, ISMRMRD
#   lumen_find_app_dependencies()   the apps: CLI11, nlohmann-json
# lumenConfig.cmake includes this file too: a static lumen passes its private dependencies on
# to the programs that link it, which must then find them as well.

macro(lumen_find_core_dependencies)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(FFTW3F REQUIRED IMPORTED_TARGET fftw3f)
  find_library(LUMEN_FFTW3F_OMP fftw3f_omp HINTS ${FFTW3F_LIBRARY_DIRS} REQUIRED)
  if(NOT TARGET lumen_deps::fftw3f)
    add_library(lumen_deps::fftw3f INTERFACE IMPORTED)
    target_link_libraries(lumen_deps::fftw3f INTERFACE ${LUMEN_FFTW3F_OMP} PkgConfig::FFTW3F)
  endif()
endmacro()

macro(lumen_find_io_dependencies)
  find_package(HDF5 REQUIRED COMPONENTS C)
  find_package(PNG REQUIRED)
  find_package(pugixml REQUIRED)
  find_package(ISMRMRD REQUIRED)
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
endmacro()

macro(lumen_find_app_dependencies)
  find_package(CLI11 REQUIRED)
  find_package(nlohmann_json REQUIRED)
endmacro()
