// Asio's TLS support, compiled once (BOOST_ASIO_SEPARATE_COMPILATION), for
// the command-line client's https:// servers. The server itself speaks
// plain HTTP behind a TLS-terminating proxy.
#include <boost/asio/ssl/impl/src.hpp>
