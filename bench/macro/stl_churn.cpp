// STL-heavy service churn: requests with string keys update a session table
// (std::unordered_map), an ordered index (std::map) with eviction, and per-session event
// vectors; responses are built by string concatenation. Single-threaded, like one request
// worker; the container nodes and string buffers are the allocations a service makes.
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.hpp"

namespace {

constexpr long kRequests = 1200000;
constexpr std::size_t kMaxSessions = 50000;  // live-set bound: oldest sessions are evicted

struct Session {
  std::string user;
  std::vector<std::uint64_t> events;
  std::uint64_t last_seen = 0;
};

std::string key_for(std::uint64_t id) {
  return "session:" + std::to_string(id) + ":eu-west";
}

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  const long requests = bench::scaled(kRequests, args);
  bench::Rng rng(42);

  std::unordered_map<std::string, Session> sessions;
  std::map<std::uint64_t, std::string> by_age;  // last_seen -> key, for eviction
  std::uint64_t response_bytes = 0;

  for (long now = 1; now <= requests; ++now) {
    const std::uint64_t id = rng.range(0, kMaxSessions * 2);
    const std::string key = key_for(id);
    Session& s = sessions[key];
    if (s.user.empty()) {
      s.user = "user-" + std::to_string(id) + "-" + std::string(rng.range(0, 40), 'x');
    } else {
      by_age.erase(s.last_seen);
    }
    s.last_seen = static_cast<std::uint64_t>(now);
    s.events.push_back(id ^ static_cast<std::uint64_t>(now));
    if (s.events.size() > 64) s.events.erase(s.events.begin(), s.events.begin() + 32);
    by_age.emplace(s.last_seen, key);

    std::string response = "{\"user\":\"" + s.user + "\",\"events\":[";
    for (std::uint64_t e : s.events) response += std::to_string(e & 0xffff) + ",";
    response += "]}";
    response_bytes += response.size();

    if (sessions.size() > kMaxSessions) {  // evict the least recently seen session
      auto oldest = by_age.begin();
      sessions.erase(oldest->second);
      by_age.erase(oldest);
    }
  }

  // Self-check: the two indexes agree and every session still holds what was written.
  bench::check(sessions.size() == by_age.size(), "indexes disagree");
  for (const auto& [age, key] : by_age) {
    const auto it = sessions.find(key);
    bench::check(it != sessions.end() && it->second.last_seen == age, "session index corrupted");
    bench::check(it->second.user.compare(0, 5, "user-") == 0, "session user corrupted");
    bench::check(!it->second.events.empty(), "session events lost");
  }
  bench::check(response_bytes > 0, "no responses built");
  return 0;
}
