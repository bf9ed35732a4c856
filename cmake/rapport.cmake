# rapport_module(NAME [DEPS targets...]): a static library rapport_NAME from
# src/NAME/*.cc and src/NAME/internal/*.cc. Headers are included as "NAME/x.h".
function(rapport_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS
       ${CMAKE_SOURCE_DIR}/src/${name}/*.cc
       ${CMAKE_SOURCE_DIR}/src/${name}/internal/*.cc)
  add_library(rapport_${name} STATIC ${srcs})
  target_include_directories(rapport_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(rapport_${name} PUBLIC ${M_DEPS})
endfunction()

# rapport_test(MODULE [DEPS targets...]): one GoogleTest binary per module
# from tests/MODULE/*_test.cc, registered with CTest test by test.
function(rapport_test name)
  cmake_parse_arguments(T "" "" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/${name}/*_test.cc)
  add_executable(${name}_test ${srcs})
  target_include_directories(${name}_test PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  target_link_libraries(${name}_test PRIVATE rapport_${name} ${T_DEPS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_compile_definitions(${name}_test PRIVATE
      RAPPORT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
      RAPPORT_SHARED_DIR="${CMAKE_SOURCE_DIR}/../shared"
      RAPPORT_BINARY_DIR="${CMAKE_BINARY_DIR}")
  include(GoogleTest)
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 300)
endfunction()
