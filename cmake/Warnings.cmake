# rt_warnings(target [CONVERSION]): the project's warning set, errors included.
# CONVERSION adds -Wconversion for modules where a narrowed integer is a format bug.
function(rt_warnings target)
    cmake_parse_arguments(ARG "CONVERSION" "" "" ${ARGN})
    target_compile_options(${target} PRIVATE
        -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wimplicit-fallthrough -Werror
        -Wno-missing-field-initializers)
    if(ARG_CONVERSION)
        target_compile_options(${target} PRIVATE -Wconversion -Wsign-conversion)
    endif()
endfunction()
