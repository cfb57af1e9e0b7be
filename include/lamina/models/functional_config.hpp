#pragma once

/// A functional model's configuration as Keras writes it (Model::get_config) and the model
/// rebuilt from one (detail::functional_from_config, load_model's "Functional"). Included by
/// functional.hpp after the graph.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/registry.hpp"
#include "lamina/models/functional.hpp"

namespace lamina {

/// Keras's functional config: {"name", "layers": [{"class_name", "config", "name",
/// "inbound_nodes": [[["input_layer", 0, 0, {}]], ...]}, ...], "input_layers": [["input_layer",
/// 0, 0]], "output_layers": [["dense_1", 0, 0]]}.
template <class T>
Json Model<T>::get_config() const {
  if (!graph_) return {{"name", name_}};
  const detail::FunctionalGraph<T>& g = *graph_;
  Json layers = Json::array();
  std::map<const Layer<T>*, std::size_t> at;
  for (const detail::GraphNode<T>* n : g.nodes) {
    if (!at.contains(n->layer.get())) {
      at[n->layer.get()] = layers.size();
      Json spec = layer_spec(*n->layer);
      spec["name"] = n->layer->name();
      spec["inbound_nodes"] = Json::array();
      layers.push_back(std::move(spec));
    }
    if (n->inputs.empty()) continue;
    Json call = Json::array();
    for (const KerasTensor<T>& x : n->inputs) {
      Json r = g.ref(&x.node());
      r.push_back(Json::object());
      call.push_back(std::move(r));
    }
    layers[at[n->layer.get()]]["inbound_nodes"].push_back(std::move(call));
  }
  Json ins = Json::array(), outs = Json::array();
  for (const KerasTensor<T>& x : g.input_tensors) ins.push_back(g.ref(&x.node()));
  for (const KerasTensor<T>& x : g.output_tensors) outs.push_back(g.ref(&x.node()));
  return {{"name", name_}, {"layers", layers}, {"input_layers", ins}, {"output_layers", outs}};
}

namespace detail {

/// The functional model a Model::get_config() of one describes (load_model's "Functional").
template <class T>
std::shared_ptr<Model<T>> functional_from_config(const Json& config) {
  ConfigReader r(config, "Functional");
  const auto name = r.get<std::string>("name");
  const auto layers = r.get<Json>("layers");
  const auto input_layers = r.get<Json>("input_layers");
  const auto output_layers = r.get<Json>("output_layers");
  r.finish();
  check<ValueError>(
      layers.is_array() && input_layers.is_array() && output_layers.is_array(),
      "Functional config: 'layers', 'input_layers' and 'output_layers' must be lists");
  struct Pending {
    std::shared_ptr<Layer<T>> layer;
    Json calls;  // inbound_nodes
    std::size_t done = 0;
  };
  std::vector<Pending> pending;
  std::map<std::string, std::vector<KerasTensor<T>>> made;  // each layer's outputs by node
  for (const Json& spec : layers) {
    ConfigReader lr(spec, "Functional layer");
    const auto class_name = lr.get<std::string>("class_name");
    const auto layer_config = lr.get<Json>("config");
    const auto layer_name = lr.get<std::string>("name");
    const auto inbound = lr.get<Json>("inbound_nodes");
    lr.finish();
    auto layer = layer_from_spec<T>({{"class_name", class_name}, {"config", layer_config}});
    check<ValueError>(layer->name() == layer_name, "Functional config: layer '", layer_name,
                      "' has the name '", layer->name(), "' in its config");
    check<ValueError>(!made.contains(layer_name), "Functional config: two layers are named '",
                      layer_name, "'");
    check<ValueError>(inbound.is_array(), "Functional config: inbound_nodes of '", layer_name,
                      "' must be a list");
    made[layer_name] = {};
    if (class_name == "InputLayer") {
      check<ValueError>(inbound.empty() && layer->declared_input_shape(),
                        "Functional config: InputLayer '", layer_name,
                        "' needs an input_shape and no inbound nodes");
      made[layer_name].push_back(SymbolicCall<T>::input(layer));
    } else {
      pending.push_back({std::move(layer), inbound, 0});
    }
  }
  // A reference ["dense", 0, 0(, {})] to an output made already, or null.
  const auto find = [&](const Json& ref) -> const KerasTensor<T>* {
    check<ValueError>(
        ref.is_array() && (ref.size() == 3 || ref.size() == 4) && ref[0].is_string() &&
            ref[1].is_number_integer() && ref[2].is_number_integer(),
        "Functional config: a connection must be [layer, node, tensor], got ", ref.dump());
    const auto it = made.find(ref[0].get<std::string>());
    check<ValueError>(it != made.end(), "Functional config: a connection names layer ",
                      ref[0].dump(), ", which the config does not have");
    const auto node = ref[1].get<std::int64_t>();
    check<ValueError>(node >= 0 && ref[2].get<std::int64_t>() == 0,
                      "Functional config: bad node or tensor index in ", ref.dump());
    return std::size_t(node) < it->second.size() ? &it->second[std::size_t(node)] : nullptr;
  };
  for (bool progress = true; progress;) {
    progress = false;
    for (Pending& p : pending) {
      while (p.done < p.calls.size()) {
        const Json& call = p.calls[p.done];
        check<ValueError>(call.is_array() && !call.empty(),
                          "Functional config: an inbound node of '", p.layer->name(),
                          "' must be a non-empty list, got ", call.dump());
        std::vector<KerasTensor<T>> args;
        for (const Json& ref : call) {
          const KerasTensor<T>* x = find(ref);
          if (!x) break;
          args.push_back(*x);
        }
        if (args.size() < call.size()) break;
        made[p.layer->name()].push_back(args.size() == 1 ? (*p.layer)(args.front())
                                                         : (*p.layer)(args));
        ++p.done;
        progress = true;
      }
    }
  }
  for (const Pending& p : pending)
    check<ValueError>(p.done == p.calls.size(), "Functional config: the inputs of layer '",
                      p.layer->name(), "' call ", p.done, " are never computed");
  const auto tensors = [&](const Json& refs) {
    std::vector<KerasTensor<T>> out;
    for (const Json& ref : refs) {
      const KerasTensor<T>* x = find(ref);
      check<ValueError>(x != nullptr, "Functional config: no tensor ", ref.dump());
      out.push_back(*x);
    }
    return out;
  };
  return std::make_shared<Model<T>>(tensors(input_layers), tensors(output_layers),
                                    FunctionalOptions{.name = name});
}

}  // namespace detail

}  // namespace lamina
