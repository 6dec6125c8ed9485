// The data directory's ballast (storage::ballast at <data>/reserve) wired to
// the database: given up when a database write finds the volume full, so
// that logins, reads and deletes still go through and space can be freed
// through the API; made again, every few seconds, once there is room. Loop
// thread only, except where said.
#pragma once

#include "core/async.hpp"
#include "core/config.hpp"
#include "core/offload.hpp"
#include "db/database.hpp"
#include "storage/space.hpp"

#include <boost/asio/io_context.hpp>

#include <filesystem>

namespace reel::app {

// Where the data directory keeps its ballast.
std::filesystem::path ballast_path_of(const config& cfg);

class storage_reserve {
 public:
  // `space`: the storage volume's floor, kept free besides the ballast when
  // it is made again. Both must outlive this object.
  storage_reserve(boost::asio::io_context& io, worker_pool& pool, const config& cfg, storage::space_guard& space);

  // Makes the ballast now (blocking: call at start-up), has `db` give it up
  // when a write finds the volume full, and from now on makes it again once
  // there is room.
  void start(db::gateway& db);
  void stop() { keeper_.stop(); }

  // Gives the ballast up (any thread). True when it was there.
  bool release() noexcept;

 private:
  boost::asio::awaitable<void> restore();

  worker_pool& pool_;
  storage::space_guard& space_;
  storage::ballast ballast_;
  periodic_task keeper_;
};

}  // namespace reel::app
