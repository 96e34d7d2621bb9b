# cmake --install: headers, the libraries, the apps and a package config, so that
#   find_package(lumen) + target_link_libraries(app lumen::core)   (or lumen::io, or lumen::lumen: both)
# works in a user's project (tests/consumer checks it).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(_lumen_installed lumen_core lumen)
if(LUMEN_IO)
  list(APPEND _lumen_installed lumen_io)
endif()
install(TARGETS ${_lumen_installed} EXPORT lumenTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/lumen DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${PROJECT_BINARY_DIR}/include/lumen/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/lumen)
install(EXPORT lumenTargets NAMESPACE lumen:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
configure_package_config_file(cmake/lumenConfig.cmake.in ${PROJECT_BINARY_DIR}/lumenConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/lumenConfigVersion.cmake COMPATIBILITY SameMinorVersion)
# LumenDependencies.cmake: a static lumen's private dependencies, found again by the config.
install(FILES ${PROJECT_BINARY_DIR}/lumenConfig.cmake ${PROJECT_BINARY_DIR}/lumenConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/LumenDependencies.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
