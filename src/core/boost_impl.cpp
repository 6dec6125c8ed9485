// The one translation unit that compiles Asio, Beast and Boost.JSON
// (BOOST_*_SEPARATE_COMPILATION everywhere else), so a rebuild stays quick.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
#include "core/process_v2.hpp"
#include <boost/process/v2/src.hpp>
