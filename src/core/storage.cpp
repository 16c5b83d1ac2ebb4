#include "ember/core/storage.h"

#include "ember/core/allocator.h"

namespace ember {

Storage::Storage(void* data, size_t nbytes, bool from_allocator, std::function<void(void*)> deleter)
    : data_(data), nbytes_(nbytes), from_allocator_(from_allocator), deleter_(std::move(deleter)) {}

Storage::~Storage() {
  if (from_allocator_)
    CachingAllocator::instance().deallocate(data_, nbytes_);
  else if (deleter_)
    deleter_(data_);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  void* p = CachingAllocator::instance().allocate(nbytes);
  return std::make_shared<Storage>(p, nbytes, true, nullptr);
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::function<void(void*)> deleter) {
  return std::make_shared<Storage>(data, nbytes, false, std::move(deleter));
}

}  // namespace ember
