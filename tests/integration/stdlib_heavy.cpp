// Compiled by gxx_compile.sh with and without the preload: includes much of the standard
// library and instantiates a spread of templates so cc1plus allocates heavily. The
// program's output is compared too.
#include <algorithm>
#include <any>
#include <array>
#include <atomic>
#include <bitset>
#include <charconv>
#include <chrono>
#include <complex>
#include <deque>
#include <filesystem>
#include <forward_list>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <ranges>
#include <regex>
#include <set>
#include <shared_mutex>
#include <span>
#include <sstream>
#include <stack>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <valarray>
#include <variant>
#include <vector>

namespace {

template <class Map>
std::string summarise(const Map& m) {
  std::ostringstream out;
  for (const auto& [k, v] : m) out << k << '=' << v << ';';
  return out.str();
}

using Value = std::variant<int, double, std::string, std::vector<int>>;

std::string describe(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::vector<int>>) {
          return "vector of " + std::to_string(x.size());
        } else if constexpr (std::is_same_v<T, std::string>) {
          return "string " + x;
        } else {
          return "number " + std::to_string(x);
        }
      },
      v);
}

}  // namespace

int main() {
  std::mt19937 rng(42);
  std::vector<int> v(1000);
  std::iota(v.begin(), v.end(), 0);
  std::shuffle(v.begin(), v.end(), rng);
  std::ranges::sort(v);
  auto evens = v | std::views::filter([](int x) { return x % 2 == 0; }) |
               std::views::transform([](int x) { return x * x; });
  std::cout << "sum of even squares " << std::accumulate(evens.begin(), evens.end(), 0LL) << '\n';

  std::map<std::string, int> words;
  std::unordered_map<int, std::list<std::string>> by_length;
  std::regex word_re("[a-z]+");
  std::string text = "the quick brown fox jumps over the lazy dog the end";
  for (auto it = std::sregex_iterator(text.begin(), text.end(), word_re);
       it != std::sregex_iterator(); ++it) {
    ++words[it->str()];
    by_length[static_cast<int>(it->length())].push_back(it->str());
  }
  std::cout << summarise(words) << '\n';
  std::cout << "length 3 words " << by_length[3].size() << '\n';

  std::pmr::monotonic_buffer_resource arena;
  std::pmr::vector<std::pmr::string> names(&arena);
  for (int i = 0; i < 100; ++i) {
    std::ostringstream name;
    name << "name-" << std::setw(3) << std::setfill('0') << i;
    names.emplace_back(name.str());
  }
  std::cout << names.front() << ' ' << names.back() << '\n';

  std::vector<Value> values{1, 2.5, std::string("hi"), std::vector<int>{1, 2, 3}};
  for (const auto& x : values) std::cout << describe(x) << '\n';

  std::priority_queue<int> pq(v.begin(), v.begin() + 10);
  std::deque<int> dq;
  while (!pq.empty()) {
    dq.push_front(pq.top());
    pq.pop();
  }
  std::set<int> s(dq.begin(), dq.end());
  std::bitset<64> bits(0xF0F0);
  std::complex<double> z(1.0, 2.0);
  std::valarray<double> va{1.0, 2.0, 3.0};
  std::optional<int> maybe = s.empty() ? std::nullopt : std::optional<int>(*s.begin());
  std::cout << "set " << s.size() << " bits " << bits.count() << " |z|^2 " << std::norm(z) << " va "
            << (va * va).sum() << " first " << maybe.value_or(-1) << '\n';

  auto shared = std::make_shared<std::unordered_set<int>>(v.begin(), v.end());
  std::atomic<int> total{0};
  std::mutex m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::lock_guard lock(m);
      total += static_cast<int>(shared->count(t));
    });
  }
  for (auto& th : threads) th.join();
  std::cout << "threads found " << total << '\n';
  return 0;
}
