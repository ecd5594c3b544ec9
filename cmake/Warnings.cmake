# Warning and sanitizer flags for targets built from our own sources.
function(tg_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wcast-align -Wno-unused-parameter
                                           # GCC 12 false positives inside libstdc++ at -O3:
                                           -Wno-restrict -Wno-stringop-overflow -Wno-array-bounds)
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
