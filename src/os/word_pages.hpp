// Pages that read as one repeated word and cost no memory until written: views of one
// shared, read-only page holding the word (MAP_SHARED, so that mremap can duplicate
// it), each swapped for a private copy when its owner first needs to write it.
//
// For tables whose every entry starts as the same non-zero value (the page map's
// leaves, all sentinel pointers): written out, each would cost all its pages at once,
// and one built into the library's data would be dirtied whole by its relocations.
//
// REQUIRES: callers serialise (one lock around every call), and every call names the
// same word (the views share one page).
#pragma once

#include <cstdint>

namespace fastpool::os {

// Replaces the page at `at` (page-aligned, any mapping) by a read-only view of the
// shared page of `word`. False when the kernel refuses; the page is then as it was.
bool map_word_view(void* at, std::uintptr_t word) noexcept;
// Replaces the page at `at` by a private, writable page filled with `word`, in one step
// for readers (the copy is made aside and moved in): a reader sees the word throughout.
// False when the kernel refuses; the page is then as it was.
bool make_word_page_private(void* at, std::uintptr_t word) noexcept;

}  // namespace fastpool::os
