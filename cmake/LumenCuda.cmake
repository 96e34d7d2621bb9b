# Decides whether CUDA is built (LUMEN_CUDA = AUTO|ON|OFF) and for which architectures.
#
# The compiler is CMake's to find (nvcc on PATH, or CUDACXX / -DCMAKE_CUDA_COMPILER): no toolkit
# path is assumed here. The architectures are the caller's (-DCMAKE_CUDA_ARCHITECTURES=90; CI and
# scripts/build pass them). Without them: `native` (CMake asks the GPUs present) when nvidia-smi
# sees a GPU, else CMake's default for the compiler.
set(LUMEN_WITH_CUDA OFF)
if(NOT LUMEN_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(LUMEN_WITH_CUDA ON)
  elseif(LUMEN_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LUMEN_CUDA=ON but no CUDA compiler (nvcc) was found: put nvcc on PATH, set "
                        "CUDACXX or -DCMAKE_CUDA_COMPILER, or configure with -DLUMEN_CUDA=OFF")
  else()
    message(STATUS "lumen: nvcc not found, building the CPU path only")
  endif()
endif()

if(LUMEN_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "")
    find_program(LUMEN_NVIDIA_SMI nvidia-smi)
    mark_as_advanced(LUMEN_NVIDIA_SMI)
    if(LUMEN_NVIDIA_SMI)
      execute_process(COMMAND ${LUMEN_NVIDIA_SMI} --query-gpu=compute_cap --format=csv,noheader
                      OUTPUT_VARIABLE _lumen_cc RESULT_VARIABLE _lumen_rc ERROR_QUIET)
      if(_lumen_rc EQUAL 0 AND _lumen_cc MATCHES "[0-9]+\\.[0-9]+")
        set(CMAKE_CUDA_ARCHITECTURES native CACHE STRING "CUDA architectures")
      endif()
    endif()
  endif()
  enable_language(CUDA)
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
endif()
# In the cache too, for scripts that read a build directory (scripts/gpu-bundle).
set(LUMEN_WITH_CUDA ${LUMEN_WITH_CUDA} CACHE INTERNAL "Whether the CUDA kernels are built")
