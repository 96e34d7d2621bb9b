# cmake --install: headers, the shared library, the apps and a package config, so that
#   find_package(lumen) + target_link_libraries(app lumen::lumen)
# works in a user's project (tests/consumer checks it).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS lumen EXPORT lumenTargets
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
install(FILES ${PROJECT_BINARY_DIR}/lumenConfig.cmake ${PROJECT_BINARY_DIR}/lumenConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/lumen)
