// Umbrella header: the whole public API of lumen.
#pragma once

#include "lumen/core/array.hpp"
#include "lumen/core/complex.hpp"
#include "lumen/core/device.hpp"
#include "lumen/core/error.hpp"
#include "lumen/fft.hpp"
#include "lumen/linalg.hpp"
#include "lumen/linop.hpp"
#include "lumen/metrics.hpp"
#include "lumen/ct/ct.hpp"
#include "lumen/mri/mri.hpp"
#include "lumen/ptycho/ptycho.hpp"
#include "lumen/solvers/regularizers.hpp"
#include "lumen/solvers/solvers.hpp"
#include "lumen/version.hpp"
#include "lumen/io/hdf5.hpp"
#include "lumen/io/png.hpp"
