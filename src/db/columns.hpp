// The model's enums at the database boundary: stored as their names, read
// back strictly. A name the database holds but this code does not know is
// an internal error (db_error), never silently a default.
#pragma once

#include "db/database.hpp"
#include "model/accounts.hpp"
#include "model/videos.hpp"

namespace reel::db {

// `R`: a row or a row_view.
template <class E, class R, class Parse>
E enum_column(const R& r, std::size_t i, Parse parse, const char* what) {
  std::string_view text = r.text(i);
  if (auto e = parse(text)) return *e;
  throw db_error(errc::internal, std::string("unknown ") + what + " \"" + std::string(text) + "\" in the database");
}

inline model::role role_column(const row& r, std::size_t i) {
  return enum_column<model::role>(r, i, model::parse_role, "role");
}
template <class R>
model::video_status status_column(const R& r, std::size_t i) {
  return enum_column<model::video_status>(r, i, model::parse_video_status, "video status");
}
inline model::job_state state_column(const row& r, std::size_t i) {
  return enum_column<model::job_state>(r, i, model::parse_job_state, "job state");
}

}  // namespace reel::db
