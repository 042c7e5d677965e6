#include "core/conn/out_queue.h"

#include <algorithm>

#include "base/assert.h"

namespace ringtail::core {

std::string OutBlocks::take(size_t bytes) {
    if (bytes <= kBlockBytes && !free_.empty()) {
        std::string block = std::move(free_.back());
        free_.pop_back();
        unused_ = std::min(unused_, free_.size());
        return block;
    }
    std::string block;
    block.reserve(std::max(bytes, kBlockBytes));
    return block;
}

void OutBlocks::give(std::string block) {
    // Only blocks of the usual size are kept: one grown for a large message goes.
    if (block.capacity() != kBlockBytes) return;
    block.clear();
    free_.push_back(std::move(block));
}

void OutBlocks::trim() {
    const size_t surplus = free_.size() > kKeptMin ? std::min(unused_, free_.size() - kKeptMin) : 0;
    // The front was used longest ago.
    free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(surplus));
    unused_ = free_.size();
}

std::string& OutQueue::tail(size_t bytes) {
    bool appendable = queue_.size() > in_flight_blocks_;
    if (appendable && queue_.back().capacity() - queue_.back().size() >= bytes) return queue_.back();
    if (!queue_.empty()) settled_ = size();
    queue_.push_back(blocks_->take(bytes));
    return queue_.back();
}

void OutQueue::recount() {
    settled_ = 0;
    for (size_t i = 0; i + 1 < queue_.size(); ++i) settled_ += queue_[i].size() - (i == 0 ? front_offset_ : 0);
}

void OutQueue::clear() {
    while (queue_.size() > in_flight_blocks_) {
        if (queue_.size() == 1) front_offset_ = 0;
        blocks_->give(std::move(queue_.back()));
        queue_.pop_back();
    }
    recount();
}

void OutQueue::move_to(OutBlocks& blocks) {
    RT_ASSERT(in_flight_blocks_ == 0 && empty());
    clear();
    blocks_ = &blocks;
}

void OutQueue::truncate(size_t size) {
    RT_ASSERT(size <= this->size());
    while (this->size() > size) {
        RT_ASSERT(queue_.size() > in_flight_blocks_);
        std::string& last = queue_.back();
        size_t unsent = last.size() - (queue_.size() == 1 ? front_offset_ : 0);
        size_t drop = std::min(this->size() - size, unsent);
        last.resize(last.size() - drop);
        if (drop == unsent && this->size() > size) {
            if (queue_.size() == 1) front_offset_ = 0;
            blocks_->give(std::move(last));
            queue_.pop_back();
            recount();
        }
    }
}

const msghdr* OutQueue::prepare_send() {
    RT_ASSERT(in_flight_blocks_ == 0 && !empty());
    size_t count = 0;
    for (size_t i = 0; i < queue_.size() && count < kIovecsMax; ++i) {
        std::string& block = queue_[i];
        size_t from = i == 0 ? front_offset_ : 0;
        in_flight_blocks_ = i + 1;
        if (block.size() == from) continue;
        iov_[count++] = {block.data() + from, block.size() - from};
    }
    message_ = {};
    message_.msg_iov = iov_;
    message_.msg_iovlen = count;
    return &message_;
}

void OutQueue::sent(size_t bytes) {
    in_flight_blocks_ = 0;
    while (!queue_.empty()) {
        std::string& front = queue_.front();
        size_t here = std::min(bytes, front.size() - front_offset_);
        front_offset_ += here;
        bytes -= here;
        if (front_offset_ < front.size()) break;
        blocks_->give(std::move(front));
        queue_.pop_front();
        front_offset_ = 0;
    }
    RT_ASSERT(bytes == 0);
    recount();
}

}  // namespace ringtail::core
