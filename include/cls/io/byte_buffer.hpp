// Bytes a file is read or inflated into. Unlike std::vector<std::uint8_t> the buffer is not
// zero-filled when it is made: the reader or the inflater writes every byte kept once, and the
// megabytes of a volume are not written twice.
// [X] a fixed capacity, then `shrink_to` the bytes actually written
// [ ] growth: the size must be known (the file's, or the one its NIfTI header declares)
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace cls::io {

class ByteBuffer {
public:
    ByteBuffer() = default;
    // `size` bytes whose contents are indeterminate until written. Throws std::bad_alloc as
    // std::vector would; `try_allocate` is for sizes an input chose.
    explicit ByteBuffer(std::size_t size)
        : bytes_(std::make_unique_for_overwrite<std::uint8_t[]>(size)), size_(size) {}

    // `size` bytes, or an unallocated buffer (`allocated()` false) when memory is short.
    [[nodiscard]] static ByteBuffer try_allocate(std::size_t size) {
        ByteBuffer buffer;
        buffer.bytes_.reset(new (std::nothrow) std::uint8_t[size]);
        if (buffer.bytes_) buffer.size_ = size;
        return buffer;
    }
    [[nodiscard]] bool allocated() const { return bytes_ != nullptr; }

    [[nodiscard]] std::uint8_t* data() { return bytes_.get(); }
    [[nodiscard]] const std::uint8_t* data() const { return bytes_.get(); }
    [[nodiscard]] std::size_t size() const { return size_; }
    [[nodiscard]] bool empty() const { return size_ == 0; }
    [[nodiscard]] std::span<std::uint8_t> bytes() { return {data(), size_}; }
    [[nodiscard]] std::span<const std::uint8_t> bytes() const { return {data(), size_}; }
    operator std::span<const std::uint8_t>() const { return bytes(); }  // NOLINT: a view

    // Keeps the first `size` bytes (the memory stays allocated).
    void shrink_to(std::size_t size) {
        assert(size <= size_);
        size_ = size;
    }

private:
    std::unique_ptr<std::uint8_t[]> bytes_;
    std::size_t size_ = 0;
};

}  // namespace cls::io
