// The game frame loop with every entity and particle from global new/delete.
#include <utility>

#include "game_frame.hpp"

namespace {

struct NewDelete {
  template <typename T, typename... Args>
  T* make(Args&&... args) {
    return new T(std::forward<Args>(args)...);
  }
  template <typename T>
  void drop(T* p) {
    delete p;
  }
};

}  // namespace

int main(int argc, char** argv) {
  const bench::Args args = bench::parse_args(argc, argv);
  NewDelete factory;
  const std::uint64_t spawned = bench::run_frames(factory, bench::scaled(bench::kFrames, args));
  bench::check(spawned > 0, "nothing spawned");
  return 0;
}
