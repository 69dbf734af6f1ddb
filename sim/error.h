// convoy::Error is the one exception type the engine throws on the host. Its message names
// the bad value and what is allowed, so the CLI can print it as is and exit 2 and Python can
// surface it as ValueError. CUDA runtime failures go through CONVOY_CUDA_CHECK, which names
// the call, the file and the line.
#pragma once

#include <stdexcept>
#include <string>

namespace convoy {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
// Throws convoy::Error for a failed CUDA runtime call (defined in sim/device.cpp).
[[noreturn]] void cuda_fail(int code, const char* call, const char* file, int line);
}  // namespace detail

}  // namespace convoy

#define CONVOY_CUDA_CHECK(call)                                                           \
  do {                                                                                    \
    auto convoy_cuda_status_ = (call);                                                    \
    if (convoy_cuda_status_ != 0) {                                                       \
      ::convoy::detail::cuda_fail(static_cast<int>(convoy_cuda_status_), #call, __FILE__, \
                                  __LINE__);                                              \
    }                                                                                     \
  } while (0)
