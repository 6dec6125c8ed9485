#include "domain/sharing.hpp"

#include "core/errors.hpp"
#include "db/accounts.hpp"
#include "db/database.hpp"
#include "db/videos.hpp"

namespace reel::domain {

namespace asio = boost::asio;

asio::awaitable<model::organization> sharing::organization(const std::string& org_id) {
  auto find = [&](db::transaction& tx) { return db::find_organization(tx, org_id); };
  auto org = co_await db_.read(find);
  if (!org) throw error(errc::not_found, "No such organization.");
  co_return std::move(*org);
}

asio::awaitable<std::string> sharing::public_videos(const std::string& org_id,
                                                    const std::optional<model::video_cursor>& after, int limit,
                                                    const page_renderer& render) {
  auto page = [&](db::transaction& tx) { return render(db::list_public_videos(tx, org_id, after, limit)); };
  co_return co_await db_.read(page);
}

}  // namespace reel::domain
