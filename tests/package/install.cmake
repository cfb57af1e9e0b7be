# Fixture for the consumer tests: empty WORK_DIR, then install lamina from BUILD_DIR into PREFIX
# exactly as a user would (`cmake --install <build> --prefix <dir>`).
# Usage: cmake -DBUILD_DIR=... -DPREFIX=... -DWORK_DIR=... [-DCONFIG=...] -P install.cmake
foreach(_var IN ITEMS BUILD_DIR PREFIX WORK_DIR)
  if(NOT ${_var})
    message(FATAL_ERROR "install.cmake: -D${_var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK_DIR}")
set(_config "")
if(CONFIG)
  set(_config --config "${CONFIG}")
endif()
execute_process(
  COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}" ${_config}
  COMMAND_ERROR_IS_FATAL ANY)
