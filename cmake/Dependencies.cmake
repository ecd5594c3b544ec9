# Every third-party library, found once and gathered in one interface target.
# Their headers are SYSTEM includes so that -Werror applies to our code only.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)
find_package(dnnl REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(CURL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(LibArchive REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# Debian builds cpp-httplib as a shared library with OpenSSL, zlib and brotli support: every
# file including httplib.h must see the same CPPHTTPLIB_* definitions (they change the class
# layouts) and link libcpp-httplib, which pkg-config provides.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

add_library(tg_deps INTERFACE)
add_library(tg::deps ALIAS tg_deps)
target_link_libraries(tg_deps INTERFACE
  DNNL::dnnl OpenMP::OpenMP_CXX Threads::Threads nlohmann_json::nlohmann_json
  tomlplusplus::tomlplusplus fmt::fmt CURL::libcurl ZLIB::ZLIB OpenSSL::Crypto OpenSSL::SSL
  LibArchive::LibArchive PkgConfig::UTF8PROC PkgConfig::HTTPLIB)
# Imported targets' include directories are already SYSTEM for consumers.

set(TG_ARCH_FLAGS "")
if(TG_NATIVE)
  set(TG_ARCH_FLAGS "-march=native")
endif()
