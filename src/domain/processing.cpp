#include "domain/processing.hpp"

#include "core/ids.hpp"
#include "db/videos.hpp"

namespace reel::domain {

void enqueue_processing(db::transaction& tx, const model::video& v, const std::string& now, int max_attempts) {
  model::job j;
  j.id = ids::random_id(12);
  j.kind = std::string(model::k_process_video);
  j.organization_id = v.organization_id;
  j.video_id = v.id;
  j.max_attempts = max_attempts;
  j.run_after = j.created_at = j.updated_at = now;
  db::insert_job(tx, j);
}

}  // namespace reel::domain
