// Small helpers the integration tests share: reading JSON replies, signing
// in, tus requests, and counting files. One copy here: the tests build as a
// unity build, where two files' copies of a name would clash.
#pragma once

#include "support/api.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <filesystem>
#include <map>
#include <set>
#include <string>

namespace reel::test {

using headers = std::map<std::string, std::string>;

// The string at `key` of a JSON object.
inline std::string text(const boost::json::value& v, const char* key) { return std::string(v.at(key).as_string()); }

// The id of the video in a reply ({"video": {"id": ...}}).
inline std::string id_of(const api_reply& r) { return std::string(r.json.at("video").at("id").as_string()); }

// The keys of an object, and of the objects inside it (as "outer.inner").
inline std::set<std::string> shape(const boost::json::object& o, const std::string& prefix = "") {
  std::set<std::string> keys;
  for (const auto& [k, v] : o) {
    keys.insert(prefix + std::string(k));
    if (v.is_object()) keys.merge(shape(v.as_object(), prefix + std::string(k) + "."));
  }
  return keys;
}

inline api_reply login(unsigned short port, const std::string& email, const std::string& password) {
  return call_json(port, "POST", "/api/auth/login", "", {{"email", email}, {"password", password}});
}

// `extra` with the header every tus request carries.
inline headers tus(headers extra = {}) {
  extra["Tus-Resumable"] = "1.0.0";
  return extra;
}

// PATCHes `bytes` at `offset` of the tus upload at `location`.
inline api_reply patch(unsigned short port, const std::string& token, const std::string& location, std::size_t offset,
                       const std::string& bytes, headers extra = {}) {
  extra["Upload-Offset"] = std::to_string(offset);
  extra["Content-Type"] = "application/offset+octet-stream";
  return call(port, "PATCH", location, token, bytes, tus(extra));
}

// The Upload-Offset of the tus upload at `location` ("HEAD <status>" when HEAD fails).
inline std::string offset_of(unsigned short port, const std::string& token, const std::string& location) {
  auto r = call(port, "HEAD", location, token, "", tus());
  return r.status() == 200 ? r.header("Upload-Offset") : "HEAD " + std::to_string(r.status());
}

// Regular files under `dir` (uploads in progress under tmp/, in the
// process's scratch directory; its lock file is no upload).
inline std::size_t files_in(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (!fs::exists(dir)) return 0;
  std::size_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != ".lock") ++n;
  return n;
}

}  // namespace reel::test
