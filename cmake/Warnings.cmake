# Warning and sanitizer flags for targets built from our own sources.
function(tg_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wcast-align -Wno-unused-parameter)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 false positives inside libstdc++ at -O3 (clang does not know these flags).
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-stringop-overflow -Wno-array-bounds)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # "loop not vectorized" for `#pragma omp simd` loops that the sanitizers' instrumentation
    # (fuzz preset) keeps from vectorizing: an optimisation remark, not a defect of the code.
    target_compile_options(${target} PRIVATE -Wno-pass-failed)
  endif()
  if(TG_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

if(TG_ARCH_FLAGS)
  add_compile_options(${TG_ARCH_FLAGS})
endif()

if(TG_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(TG_SANITIZE=1)
endif()

if(TG_FUZZ)
  # Coverage instrumentation for libFuzzer plus ASan/UBSan on everything; the fuzz targets add
  # -fsanitize=fuzzer at link time (fuzz/CMakeLists.txt).
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  add_compile_definitions(TG_SANITIZE=1 TG_FUZZING=1)
endif()
