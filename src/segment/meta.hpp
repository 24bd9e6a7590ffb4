// Memory for fastpool's own records (heaps, page-map leaves): a bump allocator over
// mappings of its own, never freed and never from the allocator itself, so the records
// stay readable by any thread for the life of the process.
#pragma once

#include <pthread.h>

#include <cstddef>

namespace fastpool::meta {

// `size` bytes aligned to `alignment` (a power of two <= 4096), zeroed. Null on OOM.
void* allocate(std::size_t size, std::size_t alignment) noexcept;
// Bytes mapped for records so far.
std::size_t bytes_mapped() noexcept;

// This layer's one mutex, held across fork by router/registry.cpp.
pthread_mutex_t& fork_lock() noexcept;

}  // namespace fastpool::meta
