# Writes OUTPUT, a C++ source defining reel::api::openapi_document() and
# openapi_etag() from INPUT (docs/openapi.json), so that the server serves
# the document without reading the repository at run time. Run by the build
# (cmake -P) whenever INPUT changes. The text goes in raw string literals of
# at most 8000 bytes each (well under any compiler's limit on one literal).
file(READ "${INPUT}" content)
string(SHA256 digest "${content}")
string(SUBSTRING "${digest}" 0 32 tag)
if(content MATCHES "\\)reel_openapi\"")
  message(FATAL_ERROR "${INPUT} holds the raw string delimiter )reel_openapi\"")
endif()
string(LENGTH "${content}" size)
set(chunks "")
set(at 0)
while(at LESS size)
  string(SUBSTRING "${content}" ${at} 8000 piece)
  string(APPEND chunks "    R\"reel_openapi(${piece})reel_openapi\"\n")
  math(EXPR at "${at} + 8000")
endwhile()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from docs/openapi.json by cmake/embed_openapi.cmake: do not edit.\n"
  "#include \"api/openapi.hpp\"\n\n"
  "namespace reel::api {\n\n"
  "namespace {\n"
  "constexpr char document[] =\n${chunks};\n"
  "}  // namespace\n\n"
  "std::string_view openapi_document() { return {document, sizeof document - 1}; }\n"
  "std::string_view openapi_etag() { return \"\\\"${tag}\\\"\"; }\n\n"
  "}  // namespace reel::api\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
