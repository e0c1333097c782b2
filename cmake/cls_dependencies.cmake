# Dependencies as interface targets. Natively they come from Debian's CMake packages (libzip
# and libdeflate from pkg-config; OpenSSL and zlib through CMake's own find modules).
# Under Emscripten the find root excludes /usr, and -I/usr/include would let glibc's headers
# shadow Emscripten's libc, so Eigen is reached as its own folder and nlohmann_json through a
# shim folder holding only a link to it.

if(EMSCRIPTEN)
  set(_shim "${CMAKE_BINARY_DIR}/include-shim")
  file(MAKE_DIRECTORY "${_shim}")
  file(CREATE_LINK /usr/include/nlohmann "${_shim}/nlohmann" SYMBOLIC)
  add_library(cls_eigen INTERFACE)
  target_include_directories(cls_eigen SYSTEM INTERFACE /usr/include/eigen3)
  add_library(cls_json INTERFACE)
  target_include_directories(cls_json SYSTEM INTERFACE "${_shim}")
else()
  find_package(Eigen3 3.4 REQUIRED NO_MODULE)
  find_package(nlohmann_json 3.10 REQUIRED)
  find_package(ZLIB REQUIRED)
  # SHA-256 of every input file (libcrypto's EVP digests use the CPU's SHA extensions).
  find_package(OpenSSL 3.0 REQUIRED COMPONENTS Crypto)
  # The CLI's option parsing and per-command --help (header-only, Debian's libcli11-dev).
  find_package(CLI11 2.1 REQUIRED CONFIG)
  # libzip reads nnU-Net's .npz probability files at the native edge (Debian ships no CMake
  # package for it, only libzip.pc); the browser reads .npz in JS (web/npz.js) instead.
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
  # libdeflate inflates a whole .nii.gz in one call into a buffer of the size its header
  # declares, 2-3x zlib's speed (bench/cli_bench.py); zlib stays for prefixes and compression.
  pkg_check_modules(LIBDEFLATE REQUIRED IMPORTED_TARGET libdeflate)
  add_library(cls_eigen INTERFACE)
  target_link_libraries(cls_eigen INTERFACE Eigen3::Eigen)
  add_library(cls_json INTERFACE)
  target_link_libraries(cls_json INTERFACE nlohmann_json::nlohmann_json)
endif()
add_library(cls::eigen ALIAS cls_eigen)
add_library(cls::json ALIAS cls_json)
