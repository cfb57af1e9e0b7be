# Runs a test binary's Determinism.Fingerprint test in two processes and fails unless both print
# the same fingerprint line (the hashes of the tutorial models' weights, History and predictions
# trained at two threads; tests/models/reliability_test.cpp).
#   cmake -DTEST_BINARY=<lamina_models_tests> -P determinism.cmake
if(NOT TEST_BINARY)
  message(FATAL_ERROR "determinism.cmake: set TEST_BINARY")
endif()
set(_fingerprints "")
foreach(_run RANGE 1 2)
  execute_process(COMMAND "${TEST_BINARY}" --gtest_filter=Determinism.Fingerprint
                  OUTPUT_VARIABLE _out ERROR_VARIABLE _err RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "determinism.cmake: run ${_run} failed (${_rc}):\n${_out}\n${_err}")
  endif()
  if(NOT _out MATCHES "fingerprint: ([0-9a-f ]+)")
    message(FATAL_ERROR "determinism.cmake: run ${_run} printed no fingerprint:\n${_out}")
  endif()
  list(APPEND _fingerprints "${CMAKE_MATCH_1}")
  message(STATUS "run ${_run}: ${CMAKE_MATCH_1}")
endforeach()
list(GET _fingerprints 0 _first)
list(GET _fingerprints 1 _second)
if(NOT _first STREQUAL _second)
  message(FATAL_ERROR "determinism.cmake: two processes trained differently:\n"
                      "  ${_first}\n  ${_second}")
endif()
