// Fuzz target: SafeTensorsFile::parse on arbitrary bytes. Every input must either give an Error
// or a file whose every tensor can be read in full; a valid file must survive a write/read round
// trip unchanged. Anything else (a crash, a sanitizer report, another exception) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/safetensors.hpp"

namespace {

using tensorgraph::DType;
using tensorgraph::Error;
using tensorgraph::Tensor;
using tensorgraph::io::SafeTensorsFile;

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "safetensors_fuzz: property violated: %s\n", what);
  std::abort();
}

// Reads every element (so that ASan sees any byte out of bounds) and exercises the Tensor API.
double touch(const Tensor& t) {
  double sum = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i) sum += t.value_as_double(i);
  (void)t.shape().strides();
  (void)t.description();
  if (t.numel() <= 4096 && t.dtype() != DType::F32) (void)t.to(DType::F32);
  return sum;
}

void check_round_trip(const SafeTensorsFile& f) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& info : f.tensors()) {
    if (info.name.empty()) return;  // readable, but the writer refuses empty names
    tensors.emplace_back(info.name, f.tensor(info));
  }
  const std::vector<std::byte> image =
      tensorgraph::io::serialize_safetensors(tensors, f.metadata());
  const SafeTensorsFile again = SafeTensorsFile::parse(image, nullptr, "round-trip");
  if (again.size() != f.size() || again.metadata() != f.metadata()) violated("round trip size");
  for (std::size_t i = 0; i < f.size(); ++i) {
    const auto& a = f.tensors()[i];
    const auto* b = again.find(a.name);
    if (!b || b->dtype != a.dtype || !(b->shape == a.shape) || b->nbytes() != a.nbytes())
      violated("round trip header");
    const auto x = f.bytes(a);
    const auto y = again.bytes(*b);
    if (!x.empty() && std::memcmp(x.data(), y.data(), x.size()) != 0) violated("round trip bytes");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::optional<SafeTensorsFile> parsed;
  try {
    parsed.emplace(SafeTensorsFile::parse(bytes, nullptr, "fuzz-input"));
  } catch (const Error&) {
    return 0;  // rejected with a message: fine
  }
  const SafeTensorsFile& f = *parsed;
  bool all_readable = true;
  volatile double sink = 0;
  for (const auto& info : f.tensors()) {
    if (&f.info(info.name) != &info) violated("lookup by name");
    try {
      sink = sink + touch(f.tensor(info));
    } catch (const Error&) {
      all_readable = false;  // a BOOL byte other than 0/1
    }
  }
  try {
    const auto& found = f.info("fuzz: no such tensor");
    if (found.name != "fuzz: no such tensor") violated("lookup of a missing name");
  } catch (const Error&) {
  }
  if (all_readable) check_round_trip(f);
  return 0;
}
