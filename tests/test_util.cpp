#include "tests/test_util.h"

namespace convoy::test {

std::vector<std::string> backends() {
  std::vector<std::string> out = {"cpu"};
  if (built_with_cuda()) out.push_back("cuda");
  return out;
}

Device device_or_skip(const std::string& backend, std::string* skip) {
  if (backend == "cuda") {
    if (cuda_device_count() == 0) {
      *skip = "no usable CUDA GPU: " + cuda_unavailable_reason();
      return Device::cpu();
    }
    return Device::cuda(0);
  }
  return Device::cpu();
}

}  // namespace convoy::test
