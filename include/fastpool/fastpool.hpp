// fastpool's C++ API: typed object pools with RAII handles, and standard adapters.
//
//   FixedPool<T>        fixed capacity, one thread, O(1)
//   GrowingPool<T>      grows by a GrowthStrategy up to max_capacity, one thread
//   ThreadLocalPool<T>  owned by its creating thread (checked in debug builds)
//   ThreadSafePool<T>   shared by threads, behind a lock
//   LockFreePool<T>     shared by threads, lock-free
//   FrameArena          monotonic bump allocation with mark/rewind/reset
//   OwnedHandle / SharedHandle / WeakHandle, PoolConfig<T>, GrowthStrategy,
//   StackStrategy / FreeListStrategy / BitmapStrategy, PoolStatistics,
//   Allocator<T> (std allocator), PoolResource / UnsyncPoolResource (std::pmr).
//
// All of them are served by the engines of the fastpool allocator; link `fastpool`.
#pragma once

#include "fastpool/allocator.hpp"
#include "fastpool/config.hpp"
#include "fastpool/errors.hpp"
#include "fastpool/fixed_pool.hpp"
#include "fastpool/frame_arena.hpp"
#include "fastpool/growing_pool.hpp"
#include "fastpool/growth.hpp"
#include "fastpool/handles.hpp"
#include "fastpool/lock_free_pool.hpp"
#include "fastpool/pool_resource.hpp"
#include "fastpool/poolable.hpp"
#include "fastpool/slot_strategy.hpp"
#include "fastpool/statistics.hpp"
#include "fastpool/thread_local_pool.hpp"
#include "fastpool/thread_safe_pool.hpp"
