// The one translation unit that compiles Asio, Beast, Boost.JSON and
// Boost.Process v2 (BOOST_*_SEPARATE_COMPILATION everywhere else), so a
// rebuild stays quick. The order matters (see core/process_v2.hpp).

// clang-format off
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
#include "core/process_v2.hpp"
#include <boost/process/v2/src.hpp>
// clang-format on
