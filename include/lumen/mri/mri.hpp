// The MRI module of lumen (docs/mri.md): masks, SENSE operators, ESPIRiT, simulation, files,
// noise pre-whitening, partial Fourier, readout crop and coil compression, reconstruction and
// fastMRI metrics, the file pipelines.
#pragma once

#include "lumen/mri/espirit.hpp"
#include "lumen/mri/io.hpp"
#include "lumen/mri/mask.hpp"
#include "lumen/mri/noise.hpp"
#include "lumen/mri/partial_fourier.hpp"
#include "lumen/mri/preprocess.hpp"
#include "lumen/mri/recon.hpp"
#include "lumen/mri/run.hpp"
#include "lumen/mri/sense.hpp"
#include "lumen/mri/simulate.hpp"
