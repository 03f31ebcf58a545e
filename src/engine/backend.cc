#include "engine/backend.h"

namespace seghub::engine {

void BackendRegistry::Register(std::unique_ptr<Backend> backend) {
  std::string name(backend->name());
  backends_[name] = std::move(backend);
}

Backend* BackendRegistry::Find(std::string_view name) const {
  auto it = backends_.find(name);
  return it == backends_.end() ? nullptr : it->second.get();
}

}  // namespace seghub::engine
