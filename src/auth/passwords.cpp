#include "auth/passwords.hpp"

#include "auth/argon2_string.hpp"

#include <argon2.h>
#include <sodium.h>
#include <sys/mman.h>

#include <stdexcept>

namespace reel::auth {

namespace {

void ensure_sodium() {
  static const int init = sodium_init();
  if (init < 0) throw std::runtime_error("libsodium failed to initialise");
}

// The working memory of argon2id, kept by each thread that hashes: mapped
// and faulted in once, then reused by every hash on that thread. Mapping
// and unmapping 64 MiB per hash (what libsodium does) costs page faults,
// and each unmap of a large mapping in a process with many threads
// interrupts every core running one of them to flush its TLB, the event
// loop's core included. argon2 wipes the memory after each hash.
class working_memory {
 public:
  working_memory() = default;
  working_memory(const working_memory&) = delete;
  working_memory& operator=(const working_memory&) = delete;
  ~working_memory() {
    if (base_) ::munmap(base_, size_);
  }

  // At least `bytes` of memory, or nullptr when it cannot be mapped.
  std::uint8_t* get(std::size_t bytes) noexcept {
    if (bytes <= size_) return static_cast<std::uint8_t*>(base_);
    if (base_) ::munmap(base_, size_);
    base_ = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    size_ = base_ == MAP_FAILED ? 0 : bytes;
    if (base_ == MAP_FAILED) base_ = nullptr;
    return static_cast<std::uint8_t*>(base_);
  }

 private:
  void* base_ = nullptr;
  std::size_t size_ = 0;
};

thread_local working_memory t_memory;

int lend_memory(std::uint8_t** memory, std::size_t bytes) {
  *memory = t_memory.get(bytes);
  return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}
void keep_memory(std::uint8_t*, std::size_t) {}

// argon2id (version 19) of `password` with the parameters and salt of `h`,
// into `out`; ARGON2_OK or the library's error code.
int compute(const argon2id_string& h, std::string_view password, std::string& out) {
  argon2_context c{};
  c.out = reinterpret_cast<std::uint8_t*>(out.data());
  c.outlen = static_cast<std::uint32_t>(out.size());
  // argon2 reads the password and salt only (flags 0: nothing is cleared).
  c.pwd = reinterpret_cast<std::uint8_t*>(const_cast<char*>(password.data()));
  c.pwdlen = static_cast<std::uint32_t>(password.size());
  c.salt = reinterpret_cast<std::uint8_t*>(const_cast<char*>(h.salt.data()));
  c.saltlen = static_cast<std::uint32_t>(h.salt.size());
  c.t_cost = h.passes;
  c.m_cost = h.memory_kib;
  c.lanes = h.lanes;
  c.threads = 1;
  c.version = ARGON2_VERSION_13;
  c.allocate_cbk = lend_memory;
  c.free_cbk = keep_memory;
  c.flags = ARGON2_DEFAULT_FLAGS;
  return argon2_ctx(&c, Argon2_id);
}

}  // namespace

std::string hash_password(std::string_view password, const password_cost& cost) {
  ensure_sodium();
  if (password.size() > ARGON2_MAX_PWD_LENGTH) throw std::invalid_argument("password too long to hash");
  argon2id_string h;
  h.memory_kib = static_cast<std::uint32_t>(cost.memlimit >> 10);
  h.passes = static_cast<std::uint32_t>(cost.opslimit);
  h.lanes = 1;
  h.salt.resize(16);  // libsodium's crypto_pwhash_SALTBYTES
  randombytes_buf(h.salt.data(), h.salt.size());
  h.hash.resize(32);  // libsodium's crypto_pwhash_STRHASHBYTES
  if (int rc = compute(h, password, h.hash); rc != ARGON2_OK)
    throw std::runtime_error(std::string("argon2id hashing failed: ") + argon2_error_message(rc));
  return format_argon2id(h);
}

bool verify_password(const std::string& encoded, std::string_view password) {
  ensure_sodium();
  auto h = parse_argon2id(encoded);
  if (!h || password.size() > ARGON2_MAX_PWD_LENGTH) return false;
  std::string computed(h->hash.size(), '\0');
  if (compute(*h, password, computed) != ARGON2_OK) return false;
  return sodium_memcmp(computed.data(), h->hash.data(), computed.size()) == 0;
}

bool hashed_at_other_cost(const std::string& encoded, const password_cost& cost) {
  auto h = parse_argon2id(encoded);
  return !h || h->memory_kib != (cost.memlimit >> 10) || h->passes != cost.opslimit || h->lanes != 1;
}

}  // namespace reel::auth
