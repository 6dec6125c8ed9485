#include "core/digest.hpp"

#include <sodium.h>
#include <boost/beast/core/detail/sha1.hpp>

#include <algorithm>
#include <new>

namespace reel {

namespace sha1_detail = boost::beast::detail;
static_assert(sizeof(sha1_detail::sha1_context) <= 128, "sha1's state buffer is too small");

sha1::sha1() { sha1_detail::init(*new (state_) sha1_detail::sha1_context()); }

void sha1::update(std::string_view bytes) noexcept {
  sha1_detail::update(*std::launder(reinterpret_cast<sha1_detail::sha1_context*>(state_)), bytes.data(), bytes.size());
}

std::array<std::uint8_t, 20> sha1::finish() noexcept {
  std::array<std::uint8_t, 20> out{};
  sha1_detail::finish(*std::launder(reinterpret_cast<sha1_detail::sha1_context*>(state_)), out.data());
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  // libsodium's decoder takes some bytes outside the alphabet (0x80 and up)
  // for digits: only the alphabet and padding go to it.
  auto in_alphabet = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
           c == '=';
  };
  if (!std::all_of(text.begin(), text.end(), in_alphabet)) return std::nullopt;
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != text.data() + text.size())
    return std::nullopt;
  out.resize(len);
  return out;
}

}  // namespace reel
