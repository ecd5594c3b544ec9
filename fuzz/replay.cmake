# Included by tests/CMakeLists.txt: every libFuzzer target fuzz/<name>_fuzz.cpp is also built with
# the project's compiler (g++) and a replay main (fuzz/replay_main.cpp) into the test
# fuzz_replay_<name>, which runs every file of fuzz/corpus/<name>/ through the same entry point.
# Labelled `sanitize` (so it runs in the asan build of scripts/test) and `fuzz`.
file(GLOB TG_FUZZ_TARGET_SOURCES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/fuzz/*_fuzz.cpp")
foreach(source IN LISTS TG_FUZZ_TARGET_SOURCES)
  get_filename_component(stem "${source}" NAME_WE)
  string(REGEX REPLACE "_fuzz$" "" fuzz_name "${stem}")
  set(target fuzz_replay_${fuzz_name})
  add_executable(${target} "${source}" "${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp")
  target_link_libraries(${target} PRIVATE tensorgraph)
  tg_set_warnings(${target})
  add_test(NAME ${target} COMMAND ${target} "${PROJECT_SOURCE_DIR}/fuzz/corpus/${fuzz_name}")
  set_tests_properties(${target} PROPERTIES LABELS "sanitize;fuzz" TIMEOUT 120)
endforeach()
