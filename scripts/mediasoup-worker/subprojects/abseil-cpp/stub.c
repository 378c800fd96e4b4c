/* A translation unit with no symbols: the worker link_whole()s this library; the real code comes from the system library. */
typedef int spaces_system_library_stub;
