# Every dependency comes from a Debian package; see README.md.
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
# The monitoring port's HTTP server (core/monitor/).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# Ed25519 signatures of nkey users (core/auth/nkey.cc).
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
find_package(absl REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(mimalloc QUIET)
# libnats: the official C client, for ringtail-bench --client libnats and the integration tests.
find_library(NATS_C_LIB nats REQUIRED)
find_path(NATS_C_INCLUDE nats/nats.h REQUIRED)
if(RT_BUILD_TESTS)
    find_package(GTest REQUIRED)
endif()
