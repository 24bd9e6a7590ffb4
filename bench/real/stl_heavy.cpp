// Input for the g++ workload: compiling this file (-O1 -c) exercises the compiler's own
// allocator-heavy work — parsing most of the standard library and instantiating templates.
// It is compiled, never run.
#include <algorithm>
#include <any>
#include <array>
#include <chrono>
#include <complex>
#include <deque>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <queue>
#include <random>
#include <ranges>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace heavy {

template <typename K, typename V>
std::map<K, std::vector<V>> group(const std::vector<std::pair<K, V>>& in) {
  std::map<K, std::vector<V>> out;
  for (const auto& [k, v] : in) out[k].push_back(v);
  return out;
}

using Value = std::variant<int, double, std::string, std::vector<int>>;

std::string describe(const Value& v) {
  return std::visit(
      [](const auto& x) {
        std::ostringstream os;
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::vector<int>>) {
          for (int i : x) os << i << ',';
        } else {
          os << x;
        }
        return os.str();
      },
      v);
}

int run() {
  std::mt19937 rng(1);
  std::vector<std::pair<std::string, int>> pairs;
  for (int i = 0; i < 100; ++i) pairs.emplace_back(std::to_string(rng() % 10), i);
  auto grouped = group(pairs);
  std::unordered_map<std::string, std::set<int>> index;
  for (const auto& [k, vs] : grouped) index[k].insert(vs.begin(), vs.end());
  std::string s = "42-answer";
  int found = std::stoi(s);
  auto evens = std::views::iota(0, 100) | std::views::filter([](int x) { return x % 2 == 0; }) |
               std::views::transform([](int x) { return x * x; });
  long total = std::accumulate(evens.begin(), evens.end(), 0L);
  std::deque<std::function<int(int)>> fs{[](int x) { return x + 1; }, [](int x) { return x * 2; }};
  std::priority_queue<std::tuple<int, std::string, double>> pq;
  pq.emplace(1, "a", 2.0);
  std::list<std::unique_ptr<Value>> values;
  values.push_back(std::make_unique<Value>(std::vector<int>{1, 2, 3}));
  values.push_back(std::make_unique<Value>(std::string("x")));
  std::string out;
  for (const auto& v : values) out += describe(*v);
  std::cout << found << total << out << fs.size() << std::setw(4) << std::complex<double>(1, 2)
            << std::filesystem::path("a/b").filename() << '\n';
  std::optional<std::any> any = std::any(index.size());
  return any ? static_cast<int>(std::any_cast<std::size_t>(*any)) : 0;
}

}  // namespace heavy

int main() {
  return heavy::run();
}
