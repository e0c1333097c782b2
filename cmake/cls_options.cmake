# Per-target build options: nothing here touches global flags.

function(cls_target_options target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
  if(CLS_SANITIZE)
    target_compile_options(${target} PRIVATE
      -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
  if(CLS_BUILD_FUZZERS)
    # Coverage instrumentation for libFuzzer in every library a target links, without
    # libFuzzer's main; the fuzz targets themselves link -fsanitize=fuzzer (tests/fuzzing).
    # -O1 over the Debug build's -O0 for speed; Debug keeps the asserts on.
    target_compile_options(${target} PRIVATE
      -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined -O1)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
