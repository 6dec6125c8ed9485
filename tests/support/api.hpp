// JSON API calls against a running server, for integration tests.
#pragma once

#include "support/http_client.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace reel::test {

struct api_reply {
  http_response raw;
  boost::json::value json;  // null when the body is not JSON
  unsigned status() const { return raw.result_int(); }
  std::string error_code() const {
    if (!json.is_object() || !json.as_object().contains("error")) return "";
    return std::string(json.at("error").at("code").as_string());
  }
  std::string header(const std::string& name) const { return std::string(raw[name]); }
};

inline api_reply call(unsigned short port, const std::string& method, const std::string& path,
                      const std::string& token = "", const std::string& body = "",
                      std::map<std::string, std::string> headers = {}) {
  if (!token.empty()) headers["Authorization"] = "Bearer " + token;
  if (!body.empty() && !headers.count("Content-Type")) headers["Content-Type"] = "application/json";
  api_reply r{request(port, method, path, body, headers), nullptr};
  boost::system::error_code ec;
  if (!r.raw.body().empty()) r.json = boost::json::parse(r.raw.body(), ec);
  if (ec) r.json = nullptr;
  return r;
}

inline api_reply call_json(unsigned short port, const std::string& method, const std::string& path,
                           const std::string& token, const boost::json::value& body,
                           std::map<std::string, std::string> headers = {}) {
  return call(port, method, path, token, boost::json::serialize(body), std::move(headers));
}

// A registered user: their token and first organization.
struct account {
  std::string token, user_id, org_id, email;
};

inline account register_account(unsigned short port, const std::string& email, const std::string& org_name,
                                const std::string& password = "correct horse") {
  auto r =
      call_json(port, "POST", "/api/auth/register", "",
                {{"email", email}, {"password", password}, {"name", "User " + email}, {"organizationName", org_name}});
  if (r.status() != 201) throw std::runtime_error("register failed: " + r.raw.body());
  return {std::string(r.json.at("token").as_string()), std::string(r.json.at("user").at("id").as_string()),
          std::string(r.json.at("organization").at("id").as_string()), email};
}

// `who` joins `org_id` with `role` the only way there is: `by` invites
// their email and they accept. Returns the invitation's id.
inline std::string invite_and_accept(unsigned short port, const account& by, const std::string& org_id,
                                     const account& who, const std::string& role) {
  auto sent =
      call_json(port, "POST", "/api/orgs/" + org_id + "/invitations", by.token, {{"email", who.email}, {"role", role}});
  if (sent.status() != 202) throw std::runtime_error("invite failed: " + sent.raw.body());
  std::string id(sent.json.at("invitation").at("id").as_string());
  auto accepted = call(port, "POST", "/api/auth/invitations/" + id + "/accept", who.token);
  if (accepted.status() != 200) throw std::runtime_error("accept failed: " + accepted.raw.body());
  return id;
}

}  // namespace reel::test

namespace reel::test {

// A multipart/form-data body with text fields and one file part.
inline std::string multipart_body(const std::string& boundary, const std::map<std::string, std::string>& fields,
                                  const std::string& filename, const std::string& file_type, const std::string& bytes,
                                  const std::string& file_field = "file") {
  std::string b;
  for (const auto& [k, v] : fields)
    b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n";
  b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field + "\"; filename=\"" + filename +
       "\"\r\nContent-Type: " + file_type + "\r\n\r\n" + bytes + "\r\n--" + boundary + "--\r\n";
  return b;
}

inline api_reply upload(unsigned short port, const std::string& token, const std::string& bytes,
                        const std::map<std::string, std::string>& fields = {},
                        const std::string& filename = "clip.mp4") {
  return call(port, "POST", "/api/videos", token,
              multipart_body("reelTestBoundary", fields, filename, "video/mp4", bytes),
              {{"Content-Type", "multipart/form-data; boundary=reelTestBoundary"}});
}

// The whole content of a file ("" when it cannot be read).
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline std::string random_bytes(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

}  // namespace reel::test
