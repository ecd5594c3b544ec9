#include "tensorgraph/io/safetensors.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/atomic_file.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/mapped_file.hpp"
#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::io {

static_assert(std::endian::native == std::endian::little,
              "SafeTensors data is little-endian; tensors are used in place");

namespace {

using nlohmann::json;

// Dtypes of the format that DType cannot hold: "unsupported" rather than "unknown".
constexpr std::string_view kOtherFormatDTypes[] = {
    "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"};

constexpr int kMaxHeaderDepth = 32;  // a valid header nests 3 deep

std::string supported_dtype_list() {
  std::string s;
  for (DType d : kAllDTypes) {
    if (!s.empty()) s += ", ";
    s += dtype_safetensors_name(d);
  }
  return s;
}

const char* json_type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a floating-point number";
    default:
      return "an invalid value";
  }
}

// nlohmann's messages start with "[json.exception.parse_error.101] ": drop that part.
std::string json_reason(const json::exception& e) {
  std::string_view what = e.what();
  if (!what.empty() && what.front() == '[') {
    if (auto close = what.find("] "); close != std::string_view::npos)
      what.remove_prefix(close + 2);
  }
  return std::string(what);
}

// A JSON string for a message: quoted, and printable even when `s` is not valid UTF-8.
std::string quote_name(std::string_view s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7F)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  if (out.size() > 200) {
    std::size_t cut = 200;
    while (cut > 1 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    out = out.substr(0, cut) + "...";
  }
  return out + "'";
}

struct DuplicateKey {
  std::string key;
  std::string parent;  // the top-level key whose object holds the duplicate ("" at top level)
};
struct TooDeep {};

// Parses the header, detecting duplicate keys in every object (nlohmann keeps the last one
// silently) and absurd nesting.
json parse_header(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  std::string top_key;
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (depth > kMaxHeaderDepth) throw TooDeep{};
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key: {
        std::string key = parsed.get<std::string>();
        if (depth == 1) top_key = key;
        if (!open_objects.empty() && !open_objects.back().insert(key).second)
          throw DuplicateKey{std::move(key), depth == 1 ? std::string() : top_key};
        break;
      }
      default:
        break;
    }
    return true;
  };
  return json::parse(text.begin(), text.end(), callback);
}

std::uint64_t read_u64_le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
  return v;
}

// A non-negative integer that fits in int64, or nullopt.
std::optional<std::uint64_t> as_index(const json& j) {
  if (j.is_number_unsigned()) {
    const auto v = j.get<std::uint64_t>();
    if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return v;
    return std::nullopt;
  }
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v >= 0) return static_cast<std::uint64_t>(v);
  }
  return std::nullopt;
}

std::string dims_string(const json& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += shape[i].dump();
  }
  return s + "]";
}

// One header entry -> SafeTensorInfo; throws Error (without the file name) when invalid.
SafeTensorInfo parse_entry(const std::string& name, const json& entry, std::uint64_t data_size) {
  const std::string what = "tensor " + quote_name(name);
  TG_CHECK(entry.is_object(), "{}: the header entry must be a JSON object, found {}", what,
           json_type_name(entry));
  SafeTensorInfo info;
  info.name = name;

  // dtype
  const auto dtype_it = entry.find("dtype");
  TG_CHECK(dtype_it != entry.end(), "{}: missing \"dtype\"", what);
  TG_CHECK(dtype_it->is_string(), "{}: \"dtype\" must be a string, found {}", what,
           json_type_name(*dtype_it));
  const auto& dtype_name = dtype_it->get_ref<const std::string&>();
  if (auto dtype = dtype_from_safetensors_name(dtype_name)) {
    info.dtype = *dtype;
  } else if (std::find(std::begin(kOtherFormatDTypes), std::end(kOtherFormatDTypes), dtype_name) !=
             std::end(kOtherFormatDTypes)) {
    fail("{}: unsupported dtype {} (tensorgraph reads {})", what, quote_name(dtype_name),
         supported_dtype_list());
  } else {
    fail("{}: unknown dtype {} (SafeTensors dtypes tensorgraph reads: {})", what,
         quote_name(dtype_name), supported_dtype_list());
  }

  // shape
  const auto shape_it = entry.find("shape");
  TG_CHECK(shape_it != entry.end(), "{}: missing \"shape\"", what);
  TG_CHECK(shape_it->is_array(), "{}: \"shape\" must be an array of integers, found {}", what,
           json_type_name(*shape_it));
  const json& dims = *shape_it;
  TG_CHECK(dims.size() <= static_cast<std::size_t>(Shape::kMaxRank),
           "{}: shape {} has rank {}, more than the {} dimensions tensorgraph supports", what,
           dims_string(dims), dims.size(), Shape::kMaxRank);
  std::uint64_t numel = 1;
  bool overflow = false;
  for (const json& d : dims) {
    TG_CHECK(d.is_number_integer(), "{}: shape {} must hold integers, found {}", what,
             dims_string(dims), json_type_name(d));
    const auto dim = as_index(d);
    TG_CHECK(dim.has_value(), "{}: shape {} has a {} dimension {}", what, dims_string(dims),
             d.is_number_unsigned() ? "too large" : "negative", d.dump());
    info.shape.push_back(static_cast<std::int64_t>(*dim));
    if (__builtin_mul_overflow(numel, *dim, &numel)) overflow = true;
  }
  std::uint64_t shape_bytes = 0;
  overflow = overflow ||
             numel > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
             __builtin_mul_overflow(numel, dtype_size(info.dtype), &shape_bytes);
  TG_CHECK(!overflow, "{}: shape {} overflows (too many elements)", what, dims_string(dims));

  // data_offsets
  const auto offsets_it = entry.find("data_offsets");
  TG_CHECK(offsets_it != entry.end(), "{}: missing \"data_offsets\"", what);
  const json& offsets = *offsets_it;
  TG_CHECK(
      offsets.is_array() && offsets.size() == 2,
      "{}: \"data_offsets\" must be an array of two integers [begin, end], found {}", what,
      offsets.is_array() ? fmt::format("{} elements", offsets.size()) : json_type_name(offsets));
  for (const json& o : offsets) {
    TG_CHECK(o.is_number_integer(), "{}: \"data_offsets\" must hold integers, found {}", what,
             json_type_name(o));
    TG_CHECK(as_index(o).has_value(), "{}: data offset {} is out of range", what, o.dump());
  }
  info.begin = *as_index(offsets[0]);
  info.end = *as_index(offsets[1]);
  TG_CHECK(info.begin <= info.end, "{}: data_offsets [{}, {}] are reversed (begin > end)", what,
           info.begin, info.end);
  TG_CHECK(info.end <= data_size,
           "{}: data_offsets [{}, {}] go past the end of the data section ({} bytes)", what,
           info.begin, info.end, data_size);
  TG_CHECK(shape_bytes == info.nbytes(),
           "{}: shape {} of {} needs {} bytes but data_offsets [{}, {}] hold {} bytes", what,
           info.shape.to_string(), dtype_safetensors_name(info.dtype), shape_bytes, info.begin,
           info.end, info.nbytes());
  return info;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

SafeTensorsFile SafeTensorsFile::open(const std::filesystem::path& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  const auto bytes = file->bytes();
  return parse(bytes, std::move(file), path.string());
}

SafeTensorsFile SafeTensorsFile::parse(std::span<const std::byte> bytes,
                                       std::shared_ptr<const void> owner, std::string name) {
  SafeTensorsFile f;
  f.name_ = std::move(name);
  f.owner_ = std::move(owner);
  with_context(f.name_, [&] {
    TG_CHECK(bytes.size() >= 8,
             "file is too short ({} bytes) to be a SafeTensors file: it must start with an "
             "8-byte header length",
             bytes.size());
    const std::uint64_t n = read_u64_le(bytes.data());
    TG_CHECK(n <= kMaxSafeTensorsHeaderBytes,
             "header length {} is larger than the {}-byte limit (corrupt file, or not a "
             "SafeTensors file)",
             n, kMaxSafeTensorsHeaderBytes);
    TG_CHECK(n <= bytes.size() - 8, "header length {} goes past the end of the file ({} bytes)", n,
             bytes.size());
    TG_CHECK(n > 0, "the JSON header is empty (header length 0)");
    f.header_size_ = n;
    f.data_size_ = bytes.size() - 8 - n;
    f.data_ = bytes.data() + 8 + n;

    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + 8), n);
    json header;
    try {
      header = parse_header(text);
    } catch (const json::exception& e) {
      fail("invalid JSON header: {}", json_reason(e));
    } catch (const DuplicateKey& d) {
      if (d.parent.empty()) fail("duplicate tensor name {} in the header", quote_name(d.key));
      fail("duplicate key {} in the header entry {}", quote_name(d.key), quote_name(d.parent));
    } catch (const TooDeep&) {
      fail("invalid JSON header: nested more than {} levels deep", kMaxHeaderDepth);
    }
    TG_CHECK(header.is_object(), "the JSON header must be an object, found {}",
             json_type_name(header));

    f.tensors_.reserve(header.size());
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        if (value.is_null()) continue;
        TG_CHECK(value.is_object(),
                 "\"__metadata__\" must be an object mapping strings to strings, found {}",
                 json_type_name(value));
        for (const auto& [mkey, mvalue] : value.items()) {
          TG_CHECK(mvalue.is_string(), "\"__metadata__\" must map strings to strings, but {} is {}",
                   quote_name(mkey), json_type_name(mvalue));
          f.metadata_.emplace(mkey, mvalue.get<std::string>());
        }
        continue;
      }
      f.tensors_.push_back(parse_entry(key, value, f.data_size_));
    }

    // The byte ranges must tile the data section exactly: no overlap, no gap, nothing left over.
    std::sort(f.tensors_.begin(), f.tensors_.end(), [](const auto& a, const auto& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::uint64_t covered = 0;
    const SafeTensorInfo* previous = nullptr;
    for (const SafeTensorInfo& t : f.tensors_) {
      if (t.begin < covered)
        fail("tensor {}: data_offsets [{}, {}] overlap those of tensor {} [{}, {}]",
             quote_name(t.name), t.begin, t.end, quote_name(previous->name), previous->begin,
             previous->end);
      if (t.begin > covered)
        fail("data bytes [{}, {}) belong to no tensor (gap before tensor {})", covered, t.begin,
             quote_name(t.name));
      covered = t.end;
      previous = &t;
    }
    if (covered != f.data_size_)
      fail("data bytes [{}, {}) at the end of the file belong to no tensor", covered, f.data_size_);

    for (std::size_t i = 0; i < f.tensors_.size(); ++i) f.index_.emplace(f.tensors_[i].name, i);
  });
  return f;
}

std::vector<std::string> SafeTensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& t : tensors_) out.push_back(t.name);
  return out;
}

const SafeTensorInfo* SafeTensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const SafeTensorInfo& SafeTensorsFile::info(std::string_view name) const {
  if (const SafeTensorInfo* t = find(name)) return *t;
  // Suggest the names closest to the one asked for.
  std::vector<std::pair<std::size_t, const std::string*>> scored;
  const std::size_t threshold = std::max<std::size_t>(3, name.size() / 3);
  for (const auto& t : tensors_) {
    std::size_t d = edit_distance(name, t.name);
    const bool related = !name.empty() && (t.name.find(name) != std::string::npos ||
                                           name.find(t.name) != std::string_view::npos);
    if (related) d = std::min(d, threshold);
    if (d <= threshold) scored.emplace_back(d, &t.name);
  }
  std::sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : *a.second < *b.second;
  });
  std::string hint;
  for (std::size_t i = 0; i < scored.size() && i < 5; ++i)
    hint += fmt::format("{}'{}'", i ? ", " : "", *scored[i].second);
  if (!hint.empty()) {
    hint = "; close names: " + hint;
  } else if (tensors_.empty()) {
    hint = "; the file holds no tensors";
  } else {
    hint = fmt::format("; it holds {} tensors, e.g. '{}'", tensors_.size(), tensors_.front().name);
  }
  fail("no tensor {} in {}{}", quote_name(name), name_, hint);
}

bool SafeTensorsFile::is_zero_copy(const SafeTensorInfo& info) const {
  return reinterpret_cast<std::uintptr_t>(data_ + info.begin) % dtype_size(info.dtype) == 0;
}

std::span<const std::byte> SafeTensorsFile::bytes(const SafeTensorInfo& info) const {
  return {data_ + info.begin, static_cast<std::size_t>(info.nbytes())};
}

Tensor SafeTensorsFile::tensor(const SafeTensorInfo& info) const {
  const std::span<const std::byte> raw = bytes(info);
  if (info.dtype == DType::Bool) {
    // Only 0 and 1 are valid bools in C++: anything else would be undefined behaviour later.
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const auto b = static_cast<std::uint8_t>(raw[i]);
      if (b > 1)
        fail("{}: tensor {}: BOOL element {} has the byte value {} (expected 0 or 1)", name_,
             quote_name(info.name), i, b);
    }
  }
  if (is_zero_copy(info)) return Tensor::view(info.dtype, info.shape, raw.data(), owner_);
  Tensor copy = Tensor::empty(info.dtype, info.shape);
  if (!raw.empty()) std::memcpy(copy.raw_mutable(), raw.data(), raw.size());
  return copy;
}

// ---- writer ------------------------------------------------------------------------------------

namespace {

struct Layout {
  std::string header;  // padded JSON header
  std::uint64_t data_size = 0;
};

Layout plan_layout(const std::vector<std::pair<std::string, Tensor>>& tensors,
                   const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [key, value] : metadata) {
      check_utf8(key, "__metadata__ key");
      check_utf8(value, fmt::format("__metadata__ value of {}", quote_name(key)));
      meta[key] = value;
    }
    header["__metadata__"] = std::move(meta);
  }
  std::set<std::string_view> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    TG_CHECK(!name.empty(), "a tensor name is empty");
    check_utf8(name, fmt::format("tensor name {}", quote_name(name)));
    TG_CHECK(name != "__metadata__", "'__metadata__' is reserved and cannot name a tensor");
    TG_CHECK(seen.insert(name).second, "duplicate tensor name {}", quote_name(name));
    TG_CHECK(tensor.defined(), "tensor {} has no data", quote_name(name));
    const std::uint64_t nbytes = tensor.nbytes();
    header[name] = {{"dtype", std::string(dtype_safetensors_name(tensor.dtype()))},
                    {"shape", tensor.shape().to_vector()},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  Layout layout;
  layout.header = header.dump();
  // Pad with spaces so that the data section starts at a multiple of 8 (as the format does).
  layout.header.append((8 - layout.header.size() % 8) % 8, ' ');
  layout.data_size = offset;
  return layout;
}

std::array<std::byte, 8> u64_le(std::uint64_t v) {
  std::array<std::byte, 8> out{};
  for (auto& b : out) {
    b = static_cast<std::byte>(v & 0xFF);
    v >>= 8;
  }
  return out;
}

}  // namespace

std::vector<std::byte> serialize_safetensors(
    const std::vector<std::pair<std::string, Tensor>>& tensors,
    const std::map<std::string, std::string>& metadata) {
  const Layout layout = plan_layout(tensors, metadata);
  std::vector<std::byte> out;
  out.reserve(8 + layout.header.size() + layout.data_size);
  const auto length = u64_le(layout.header.size());
  out.insert(out.end(), length.begin(), length.end());
  const auto* h = reinterpret_cast<const std::byte*>(layout.header.data());
  out.insert(out.end(), h, h + layout.header.size());
  for (const auto& [name, tensor] : tensors) {
    const auto* p = static_cast<const std::byte*>(tensor.raw());
    if (tensor.nbytes()) out.insert(out.end(), p, p + tensor.nbytes());
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Everything is validated before the disk is touched.
  const Layout layout = with_context(path.string(), [&] { return plan_layout(tensors, metadata); });
  AtomicFileWriter out(path);  // its errors name the path
  const auto length = u64_le(layout.header.size());
  out.write(length.data(), length.size());
  out.write(layout.header.data(), layout.header.size());
  for (const auto& [name, tensor] : tensors)
    if (tensor.nbytes()) out.write(tensor.raw(), tensor.nbytes());
  out.commit();
}

}  // namespace tensorgraph::io
