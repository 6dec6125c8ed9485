// Boost.Process v2 as this project includes it. Boost 1.81's
// environment.hpp names `remove_pointer` unqualified; bring std's into its
// namespace before it is parsed.
#pragma once

#include <boost/asio.hpp>
#include <boost/optional.hpp>

#include <type_traits>

namespace boost::process::v2 {
using std::remove_pointer;
namespace environment {
using std::remove_pointer;
}
}  // namespace boost::process::v2

#include <boost/process/v2/process.hpp>
#include <boost/process/v2/stdio.hpp>
