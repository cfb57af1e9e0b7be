#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"

namespace lamina {

/// The JSON value of configs (Keras's get_config dicts) and file headers; keys keep their
/// insertion order, as Keras's dicts do.
using Json = nlohmann::ordered_json;

/// Reads the options of a config object (a layer's, a model's, an optimizer's) with checks:
/// each value must have the expected type and range, a required option must be present, and
/// finish() rejects options nobody asked for, so a typo or a config from a newer version is an
/// error rather than silently ignored. Every error is a ValueError starting with `who`:
/// `Dense config: option 'units' must be an integer, got "ten"`.
class ConfigReader {
 public:
  ConfigReader(const Json& config, std::string who) : config_(config), who_(std::move(who)) {
    check<ValueError>(config.is_object(), who_, " config: expected an object, got ", config.dump());
  }

  const std::string& who() const { return who_; }
  bool has(const char* key) const { return config_.contains(key); }

  /// The required option `key`, as V: bool, std::string, index_t (and other integers), double,
  /// Shape (sizes >= 0), Size2 or std::array<index_t, 2> (an integer n is [n, n]), std::optional<V>
  /// (JSON null is nullopt), Json.
  template <class V>
  V get(const char* key) {
    const auto it = config_.find(key);
    check<ValueError>(it != config_.end(), who_, " config: option '", key, "' is missing");
    used_.insert(key);
    return convert<V>(key, *it);
  }
  /// The option `key` as V, or `fallback` when absent.
  template <class V>
  V get(const char* key, V fallback) {
    return has(key) ? get<V>(key) : std::move(fallback);
  }
  /// Throws when the config holds an option that no get() asked for.
  void finish() const {
    for (auto it = config_.begin(); it != config_.end(); ++it) {
      check<ValueError>(used_.count(it.key()) != 0, who_, " config: unknown option '", it.key(),
                        "'");
    }
  }

 private:
  template <class V>
  V convert(const char* key, const Json& v) const {
    if constexpr (std::is_same_v<V, Json>) {
      return v;
    } else if constexpr (std::is_same_v<V, bool>) {
      expect(v.is_boolean(), key, "a boolean", v);
      return v.get<bool>();
    } else if constexpr (std::is_same_v<V, std::string>) {
      expect(v.is_string(), key, "a string", v);
      return v.get<std::string>();
    } else if constexpr (std::is_integral_v<V>) {
      expect(v.is_number_integer(), key, "an integer", v);
      if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        expect(u <= std::uint64_t(std::numeric_limits<V>::max()), key, "a smaller integer", v);
        return static_cast<V>(u);
      }
      const auto s = v.get<std::int64_t>();
      expect(s >= std::int64_t(std::numeric_limits<V>::min()) &&
                 (s < 0 || std::uint64_t(s) <= std::uint64_t(std::numeric_limits<V>::max())),
             key, "an integer in range", v);
      return static_cast<V>(s);
    } else if constexpr (std::is_floating_point_v<V>) {
      expect(v.is_number(), key, "a number", v);
      return v.get<V>();
    } else if constexpr (std::is_same_v<V, Shape>) {
      expect(v.is_array() && v.size() <= 32, key, "a list of sizes", v);
      std::vector<index_t> dims;
      for (const Json& d : v) dims.push_back(size(key, d));
      return Shape(std::move(dims));
    } else if constexpr (std::is_same_v<V, std::array<index_t, 2>> || std::is_same_v<V, Size2>) {
      // An integer n stands for [n, n] (Keras accepts either; its configs hold the list).
      if (v.is_number_integer()) return V{size(key, v), size(key, v)};
      expect(v.is_array() && v.size() == 2, key, "an integer or a list of two integers", v);
      return V{size(key, v[0]), size(key, v[1])};
    } else if constexpr (requires { V::from_json(v); }) {
      return V::from_json(v);
    } else {
      // std::optional<U>
      if (v.is_null()) return V{};
      return V{convert<typename V::value_type>(key, v)};
    }
  }
  index_t size(const char* key, const Json& d) const {
    // Parsed text gives unsigned integers; a get_config() still in memory holds Shape's signed
    // ones. Either is a size when in [0, 2^40] (a huge unsigned one reads as negative here).
    expect(d.is_number_integer() && d.get<std::int64_t>() >= 0 &&
               d.get<std::int64_t>() <= (std::int64_t(1) << 40),
           key, "a list of sizes", d);
    return static_cast<index_t>(d.get<std::int64_t>());
  }
  void expect(bool ok, const char* key, const char* what, const Json& v) const {
    check<ValueError>(ok, who_, " config: option '", key, "' must be ", what, ", got ", v.dump());
  }

  Json config_;
  std::string who_;
  std::set<std::string> used_;
};

}  // namespace lamina
