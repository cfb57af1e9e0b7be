// A character-level language model, as Keras's "Character-level text generation with LSTM"
// tutorial: it reads windows of 40 characters and learns to predict the next character, then
// writes new text one character at a time, sampled at temperatures 0.2, 0.5 and 1.0.
//   Embedding(vocabulary, 32) -> LSTM(128, return_sequences) -> Dense(vocabulary, softmax);
//   RMSprop(learning_rate 0.01) as the tutorial; sparse categorical cross-entropy.
// Where the tutorial predicts only the character after each window, this model predicts the
// next character at every position of the window (labels [batch, 40]): the same recurrence and
// loss, forty times the training signal per window.
//
// The text: the English quotations of Debian's `fortunes` package (the fortune-cookie files in
// /usr/share/games/fortunes: fortunes, literature, wisdom, people, humorists, platitudes, work,
// love, men-women, education, science, politics, miscellaneous; about 930 kB). Chosen because
// it is real English prose by many authors (Twain, Shakespeare, Wilde, ...) stored as plain
// text, so the loader is a few lines; the Bible of bible-kjv-text is in a compressed format of
// its own, and miscfiles and dict-jargon hold word lists and dictionary entries rather than
// prose. As the tutorial, the text is lower-cased; tabs and runs of spaces become one space,
// the "%" lines between quotations a blank line, nroff underlining (_ backspace x) the letter,
// and anything outside printable ASCII is dropped.
//
// Prints Keras-style logs and, after each epoch, 200 sampled characters at each temperature;
// writes out/text/samples.txt (the samples of every epoch), out/text/model.safetensors,
// out/text/history.csv and out/text/curves.svg. --load FILE samples from a saved model instead.
// --limit N trains on the first N windows only. --data DIR reads the fortune files from DIR.
//   build/release/examples/text [--epochs 10] [--batch-size 128] [--limit N] [--data DIR]
//                               [--load FILE] [--help]

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "common/cli.hpp"
#include "common/report.hpp"

namespace {

using lamina::index_t;
using lamina::Tensor;

/// Characters per training window (the tutorial's maxlen).
constexpr index_t kWindow = 40;
/// Characters sampled per temperature after each epoch.
constexpr int kSampleLength = 200;
constexpr std::array<double, 3> kTemperatures = {0.2, 0.5, 1.0};
/// The fortune files read, in this order.
const std::array<const char*, 13> kFortuneFiles = {
    "fortunes", "literature", "wisdom",    "people",  "humorists", "platitudes",   "work",
    "love",     "men-women",  "education", "science", "politics",  "miscellaneous"};

/// The cleaned, lower-cased text of the fortune files in `dir` (see the header comment). Throws
/// lamina::IoError naming the `fortunes` package when a file is missing.
std::string load_fortunes(const std::string& dir) {
  std::string text;
  for (const char* name : kFortuneFiles) {
    const std::string path = dir + "/" + name;
    std::ifstream in(path, std::ios::binary);
    lamina::check<lamina::IoError>(
        in.is_open(), "text: cannot read ", path,
        "; the text example trains on Debian's fortunes package: install it with "
        "`apt-get install fortunes` (or pass --data DIR with its files)");
    std::string line;
    while (std::getline(in, line)) {
      if (line == "%") {
        text += '\n';
        continue;
      }
      std::string clean;
      for (char ch : line) {
        if (ch == '\b') {  // nroff underlining: "_\bx" is x
          if (!clean.empty()) clean.pop_back();
          continue;
        }
        if (ch == '\t') ch = ' ';
        if (ch < ' ' || ch > '~') continue;
        if (ch == ' ' && (clean.empty() || clean.back() == ' ')) continue;
        clean += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      }
      while (!clean.empty() && clean.back() == ' ') clean.pop_back();
      text += clean;
      text += '\n';
    }
  }
  return text;
}

/// The characters of a text and their indices.
struct Vocabulary {
  std::string chars;                // sorted
  std::array<int, 256> index_of{};  // -1 for characters not in the text
  explicit Vocabulary(const std::string& text) {
    std::array<bool, 256> seen{};
    for (char ch : text) seen[static_cast<unsigned char>(ch)] = true;
    index_of.fill(-1);
    for (int c = 0; c < 256; ++c)
      if (seen[std::size_t(c)]) {
        index_of[std::size_t(c)] = int(chars.size());
        chars += static_cast<char>(c);
      }
  }
  index_t size() const { return index_t(chars.size()); }
  float operator[](char ch) const { return float(index_of[static_cast<unsigned char>(ch)]); }
};

/// Non-overlapping windows of the text: x [n, 40] the characters' indices, y [n, 40] the index
/// of the character after each of them.
std::pair<Tensor<float>, Tensor<float>> make_windows(const std::string& text,
                                                     const Vocabulary& vocab, index_t limit) {
  index_t n = (index_t(text.size()) - 1) / kWindow;
  if (limit > 0) n = std::min(n, limit);
  Tensor<float> x = Tensor<float>::empty({n, kWindow}), y = Tensor<float>::empty({n, kWindow});
  for (index_t i = 0; i < n; ++i)
    for (index_t t = 0; t < kWindow; ++t) {
      x.data()[i * kWindow + t] = vocab[text[std::size_t(i * kWindow + t)]];
      y.data()[i * kWindow + t] = vocab[text[std::size_t(i * kWindow + t + 1)]];
    }
  return {std::move(x), std::move(y)};
}

/// The tutorial's sample(): draws an index from probabilities p reweighted as p^(1/temperature).
int sample(const float* p, index_t size, double temperature, lamina::Generator& gen) {
  std::vector<double> w(static_cast<std::size_t>(size));
  double total = 0;
  for (index_t i = 0; i < size; ++i) {
    w[std::size_t(i)] = std::exp(std::log(std::max(double(p[i]), 1e-12)) / temperature);
    total += w[std::size_t(i)];
  }
  double u = gen.uniform() * total;
  for (index_t i = 0; i < size; ++i) {
    u -= w[std::size_t(i)];
    if (u <= 0) return int(i);
  }
  return int(size - 1);
}

/// `length` characters generated after `seed` (kWindow characters): each step feeds the last
/// kWindow characters and samples the model's prediction at the last position.
std::string generate(lamina::Model<float>& model, const Vocabulary& vocab, std::string seed,
                     int length, double temperature, lamina::Generator& gen) {
  std::string out;
  Tensor<float> x = Tensor<float>::empty({1, kWindow});
  for (int k = 0; k < length; ++k) {
    for (index_t t = 0; t < kWindow; ++t) x.data()[t] = vocab[seed[std::size_t(t)]];
    const Tensor<float> probs = model.predict(x);  // [1, kWindow, vocabulary]
    const char next = vocab.chars[std::size_t(
        sample(probs.data() + (kWindow - 1) * vocab.size(), vocab.size(), temperature, gen))];
    out += next;
    seed = seed.substr(1) + next;
  }
  return out;
}

/// Samples at each temperature from a seed window drawn from the text; prints them and
/// appends them to `log`.
void write_samples(lamina::Model<float>& model, const Vocabulary& vocab, const std::string& text,
                   const std::string& heading, lamina::Generator& gen, std::ostream& log) {
  // A seed that starts at the beginning of a line.
  std::size_t start = std::size_t(gen.below(text.size() - 2 * kWindow));
  start = text.find('\n', start) + 1;
  const std::string seed = text.substr(start, std::size_t(kWindow));
  std::ostringstream block;
  std::string shown = seed;  // the seed on one line, its line breaks as \n
  for (std::size_t at = shown.find('\n'); at != std::string::npos; at = shown.find('\n', at + 2))
    shown.replace(at, 1, "\\n");
  block << "--- " << heading << ", seed: \"" << shown << "\"\n";
  for (double temperature : kTemperatures)
    block << "--- temperature " << temperature << ":\n"
          << seed << generate(model, vocab, seed, kSampleLength, temperature, gen) << "\n";
  std::cout << block.str();
  log << block.str() << std::flush;
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli(
      "A character-level LSTM language model trained on Debian's fortunes, sampling new text",
      {.name = "text",
       .epochs = 10,
       .batch_size = 128,
       .data = "/usr/share/games/fortunes",
       .data_help = "Directory of the fortune files (Debian's fortunes package)"});
  const examples::ExampleOptions options = cli.parse(argc, argv);

  const std::string text = load_fortunes(options.data);
  const Vocabulary vocab(text);
  auto [x, y] = make_windows(text, vocab, options.limit);
  std::cout << "Text: " << text.size() << " characters of the fortune files in " << options.data
            << ", " << vocab.size() << " distinct; " << x.dim(0) << " windows of " << kWindow
            << (options.limit > 0 ? " (--limit)" : "") << "\n";

  Generator sampler(options.seed + 1);
  std::ofstream samples(options.out + "/samples.txt");
  check<IoError>(samples.is_open(), options.out, "/samples.txt: cannot write");

  if (!options.load.empty()) {  // sample from a saved model instead of training
    const auto saved = load_model<float>(options.load);
    write_samples(*saved, vocab, text, "from " + options.load, sampler, samples);
    return 0;
  }

  Sequential<float> model({.seed = options.seed});
  model.add(Embedding(vocab.size(), 32, {.input_shape = {kWindow}}));
  model.add(LSTM(128, {.return_sequences = true}));
  model.add(Dense(vocab.size(), {.activation = "softmax"}));
  model.compile(RMSprop({.learning_rate = 0.01}), "sparse_categorical_crossentropy");
  model.summary();

  examples::EpochTimer timer;
  FitOptions<float> fit = examples::fit_options(options, timer);
  fit.on_epoch_end = [&, record = timer.callback()](int epoch, const Logs& logs) {
    record(epoch, logs);
    write_samples(model, vocab, text, "after epoch " + std::to_string(epoch + 1), sampler, samples);
    timer.start();  // the sampling is not training time
  };
  const History history = model.fit(x, y, fit);

  model.save(options.out + "/model.safetensors");
  std::cout << "Wrote " << options.out << "/samples.txt and " << options.out
            << "/model.safetensors\n";
  return examples::finish(options, history, timer);
} catch (...) {
  return lamina::examples::report_error("text");
}
