// Whether this build runs under the sanitizers (make test's ASan+UBSan build).
#pragma once

namespace reel::test {

// UBSan's vptr check tells readable memory from unreadable by writing it to
// a pipe: with no descriptor left, every check of a dynamic type fails
// ("does not point to an object of type ..."), a false report. Tests that
// run a process out of descriptors skip themselves in that build.
inline constexpr bool k_sanitized =
#if defined(__SANITIZE_ADDRESS__)
    true;
#else
    false;
#endif

inline constexpr const char* k_no_descriptors_under_sanitizers =
    "out of descriptors, UBSan's vptr check cannot tell readable memory (it writes it to a pipe) and reports "
    "every dynamic type as wrong: this test runs in the release build";

}  // namespace reel::test
