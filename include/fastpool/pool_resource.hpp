// fastpool::PoolResource (synchronised) and UnsyncPoolResource (one thread): standard
// std::pmr::memory_resources with a pool per size class over the fastpool engines.
//
// Each size class is an engine::GrowingBlockPool whose chunks are 64 KiB blocks aligned
// to 64 KiB from the fastpool engine, so a block's chunk is found by masking its address
// (O(1) release, no search). Requests above the largest class, or aligned beyond what
// their class guarantees, go straight to fp_aligned_alloc. The lock is a compile-time
// policy over one shared implementation.
//
// Invariants: a chunk's header is at its 64 KiB-aligned start; every class block lies in
// a chunk of that class's pool; chunks are returned to the engine by the destructor or
// release(), wholly unused ones also as soon as they empty (beyond the current one).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <mutex>
#include <new>

#include "fastpool/detail/spin_lock.hpp"
#include "fastpool/engine/growing_pool.hpp"
#include "fastpool/errors.hpp"
#include "fastpool/fastpool.h"

namespace fastpool {

namespace detail {

struct NoLock {
  void lock() noexcept {}
  void unlock() noexcept {}
};

inline constexpr std::array<std::uint32_t, 26> kResourceClasses = {
    8,   16,  32,  48,  64,  80,  96,  112,  128,  160,  192,  224,  256,
    320, 384, 448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 4096};

template <class Lock>
class BasicPoolResource : public std::pmr::memory_resource {
  static constexpr std::size_t kChunkBytes = 64 * 1024;
  static constexpr std::size_t kClassCount = kResourceClasses.size();
  static constexpr std::size_t kMaxClassBytes = kResourceClasses.back();

  struct Chunk {
    engine::FixedBlockPool pool;
    Chunk* next = nullptr;
    Chunk* prev = nullptr;
    bool full = false;
  };
  static constexpr std::size_t kHeaderBytes = 128;  // keeps blocks 64-aligned
  static_assert(sizeof(Chunk) <= kHeaderBytes);

  struct Source {
    using Chunk = BasicPoolResource::Chunk;
    std::uint32_t block_size = 0;
    Chunk* grow(std::size_t) noexcept {
      void* memory = fp_aligned_alloc(kChunkBytes, kChunkBytes);
      if (memory == nullptr) return nullptr;
      auto* c = ::new (memory) Chunk;
      c->pool.init(static_cast<char*>(memory) + kHeaderBytes, block_size,
                   (kChunkBytes - kHeaderBytes) / block_size);
      return c;
    }
    void on_full(Chunk*) noexcept {}
    void on_available(Chunk*) noexcept {}
  };
  using ClassPool = engine::GrowingBlockPool<Source>;

 public:
  BasicPoolResource() noexcept { reset_classes(); }
  BasicPoolResource(const BasicPoolResource&) = delete;
  BasicPoolResource& operator=(const BasicPoolResource&) = delete;
  // Effects: returns every chunk to the engine (release()).
  ~BasicPoolResource() override { release(); }

  // Effects: returns all class chunks to the engine; blocks from them become invalid.
  // Blocks of large requests are not tracked: each is freed by its deallocate.
  void release() noexcept {
    std::lock_guard guard(lock_);
    for (auto& pool : classes_) pool.for_each_chunk([](Chunk* c) { fp_free(c); });
    reset_classes();
  }

 private:
  void reset_classes() noexcept {
    for (std::size_t i = 0; i < kClassCount; ++i) {
      Source s;
      s.block_size = kResourceClasses[i];
      classes_[i] = ClassPool(s);
    }
  }

  // The class serving `bytes` aligned to `align`, or kClassCount when none does: the
  // smallest class at least as large whose blocks are aligned enough (a class's blocks
  // are aligned to the largest power of two dividing its size, up to 64).
  static std::size_t class_of(std::size_t bytes, std::size_t align) noexcept {
    if (bytes > kMaxClassBytes || align > 64) return kClassCount;
    for (std::size_t i = 0; i < kClassCount; ++i) {
      std::size_t size = kResourceClasses[i];
      if (size >= bytes && (size & (align - 1)) == 0) return i;
    }
    return kClassCount;
  }

  void* do_allocate(std::size_t bytes, std::size_t align) override {
    if (bytes == 0) bytes = 1;
    std::size_t c = class_of(bytes, align);
    void* p;
    if (c < kClassCount) {
      std::lock_guard guard(lock_);
      p = classes_[c].allocate();
    } else {
      p = fp_aligned_alloc(align < 16 ? 16 : align, bytes);
    }
    if (p == nullptr) detail::raise<std::bad_alloc>();
    return p;
  }

  void do_deallocate(void* p, std::size_t bytes, std::size_t align) override {
    if (p == nullptr) return;
    if (bytes == 0) bytes = 1;
    std::size_t c = class_of(bytes, align);
    if (c >= kClassCount) return fp_free(p);
    auto* chunk =
        reinterpret_cast<Chunk*>(reinterpret_cast<std::uintptr_t>(p) & ~(kChunkBytes - 1));
    std::lock_guard guard(lock_);
    classes_[c].deallocate(chunk, p);
    // Give an emptied chunk back, unless it is the one serving allocations.
    if (chunk->pool.unused() && chunk != classes_[c].current()) {
      classes_[c].remove_unused(chunk);
      fp_free(chunk);
    }
  }

  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  Lock lock_;
  ClassPool classes_[kClassCount];
};

}  // namespace detail

// Synchronised: any thread may allocate and deallocate. Default-constructible.
class PoolResource : public detail::BasicPoolResource<detail::SpinLock> {};
// For one thread at a time: no lock.
class UnsyncPoolResource : public detail::BasicPoolResource<detail::NoLock> {};

}  // namespace fastpool
