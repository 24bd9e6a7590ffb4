// Released blocks of the hardened layer: what they hold until they are handed out again.
// A small block's [b+16, end-8) is filled with keys().fill_byte and [end-8, end) holds a
// marker bound to the block and its page's generation; anything else found there is a
// write after free. (The core keeps its free-list link and tag in [b, b+16).)
#pragma once

#include "segment/page.hpp"

namespace fastpool::secure {

inline constexpr std::size_t kHeader = 16;  // the block header, and where the fill starts

// The end of the core's block that starts at b, on page pg.
char* block_end(const Page* pg, char* b) noexcept;
// The first of n bytes from c that is not `byte`, or null.
const unsigned char* first_other(const unsigned char* c, std::size_t n,
                                 unsigned char byte) noexcept;
// REQUIRES: pg is small. Fills and marks the released block [b, end).
void fill_freed(char* b, char* end, const Page* pg) noexcept;
// A block the core hands out: checked if it was released here (and its page lived on).
void check_reused(char* b, char* end, const Page* pg) noexcept;
// A block leaving the quarantine for the core: checked in full.
void check_evicted(char* b) noexcept;

}  // namespace fastpool::secure
