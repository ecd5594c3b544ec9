# Runs an example for ctest: fails unless it exits with 0 and prints EXPECT.
#   cmake -DPROGRAM=path [-DARGS=arg] -DEXPECT=text -P run_example.cmake
execute_process(COMMAND ${PROGRAM} ${ARGS} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${status}")
endif()
string(FIND "${out}" "${EXPECT}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${PROGRAM} did not print '${EXPECT}'")
endif()
