#include "app/reserve.hpp"

#include "core/log.hpp"

namespace reel::app {

namespace asio = boost::asio;

std::filesystem::path ballast_path_of(const config& cfg) { return std::filesystem::path(cfg.data_dir) / "reserve"; }

storage_reserve::storage_reserve(asio::io_context& io, worker_pool& pool, const config& cfg,
                                 storage::space_guard& space)
    : pool_(pool),
      space_(space),
      ballast_(ballast_path_of(cfg)),
      keeper_(io, "storage ballast", std::chrono::seconds(5), [this] { return restore(); }) {}

void storage_reserve::start(db::gateway& db) {
  std::uint64_t keep = 0;
  try {
    keep = space_.reserve();
  } catch (const std::exception& e) {
    log::warn("the storage volume cannot be measured", {{"error", e.what()}});
  }
  if (!ballast_.restore(keep))
    log::warn("the storage ballast cannot be made: the volume is (nearly) full", {{"path", ballast_.path().string()}});
  db.on_storage_full([this] { return release(); });
  keeper_.start();
}

bool storage_reserve::release() noexcept {
  // Something filled the volume since the guard last looked: uploads must
  // not take the room the ballast gives the database.
  space_.forget();
  if (!ballast_.release()) return false;
  log::warn("the volume is full: the storage ballast was given up so that the database can write",
            {{"path", ballast_.path().string()}});
  return true;
}

asio::awaitable<void> storage_reserve::restore() {
  // Given up by this process or another one on the data directory (a `reel worker`).
  auto job = [this] { return !ballast_.in_place() && ballast_.restore(space_.reserve()); };
  if (co_await pool_.offload(job))
    log::info("there is room again: the storage ballast was made again", {{"path", ballast_.path().string()}});
}

}  // namespace reel::app
