#include "ember/data/text.h"

#include <algorithm>
#include <cctype>

namespace ember::data {

namespace {
bool is_letter(unsigned char c) {
  return std::isalpha(c) || c >= 0x80;
}
char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
}  // namespace

std::vector<std::string> split_words(const std::string& text, bool lower) {
  std::vector<std::string> words;
  std::string cur;
  for (char ch : text) {
    if (is_letter(static_cast<unsigned char>(ch))) {
      cur += lower ? lower_ascii(ch) : ch;
    } else if (!cur.empty()) {
      words.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(std::move(cur));
  return words;
}

Tokenizer::Tokenizer(TokenizerOptions options) : options_(std::move(options)) {
  EMBER_CHECK(options_.num_words_ >= 0, ValueError, "Tokenizer: num_words must be >= 0, got ",
              options_.num_words_);
  index_word_.push_back("");
}

std::vector<std::string> Tokenizer::tokens(const std::string& text) const {
  if (!options_.char_level_) return split_words(text, options_.lower_);
  std::vector<std::string> t;
  t.reserve(text.size());
  for (char ch : text) t.emplace_back(1, options_.lower_ ? lower_ascii(ch) : ch);
  return t;
}

void Tokenizer::fit_on_texts(const std::vector<std::string>& texts) {
  for (const auto& text : texts) {
    for (auto& w : tokens(text)) {
      auto [it, inserted] = counts_.try_emplace(w, 0);
      if (inserted) first_seen_.push_back(w);
      ++it->second;
    }
  }
  // Keras: words by descending count, ties in first-seen order (a stable sort); the oov token first.
  std::vector<std::string> order = first_seen_;
  std::stable_sort(order.begin(), order.end(),
                   [&](const std::string& a, const std::string& b) { return counts_.at(a) > counts_.at(b); });
  word_index_.clear();
  index_word_.assign(1, "");
  if (!options_.oov_token_.empty()) {
    word_index_[options_.oov_token_] = 1;
    index_word_.push_back(options_.oov_token_);
  }
  for (const auto& w : order) {
    if (word_index_.count(w)) continue;
    word_index_[w] = static_cast<int64_t>(index_word_.size());
    index_word_.push_back(w);
  }
}

std::vector<int64_t> Tokenizer::text_to_sequence(const std::string& text) const {
  std::vector<int64_t> seq;
  const int64_t oov = oov_index(), nw = options_.num_words_;
  for (const auto& w : tokens(text)) {
    auto it = word_index_.find(w);
    if (it != word_index_.end()) {
      if (nw > 0 && it->second >= nw) {
        if (oov) seq.push_back(oov);
      } else {
        seq.push_back(it->second);
      }
    } else if (oov) {
      seq.push_back(oov);
    }
  }
  return seq;
}

std::vector<std::vector<int64_t>> Tokenizer::texts_to_sequences(const std::vector<std::string>& texts) const {
  std::vector<std::vector<int64_t>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(text_to_sequence(t));
  return out;
}

std::string Tokenizer::sequence_to_text(const std::vector<int64_t>& seq) const {
  std::string out;
  const int64_t oov = oov_index(), nw = options_.num_words_;
  const char* sep = options_.char_level_ ? "" : " ";
  bool first = true;
  auto add = [&](const std::string& w) {
    if (!first) out += sep;
    out += w;
    first = false;
  };
  for (int64_t i : seq) {
    const bool known = i >= 1 && i < static_cast<int64_t>(index_word_.size());
    if (known && !(nw > 0 && i >= nw)) {
      add(index_word_[i]);
    } else if (oov && i != 0) {
      add(index_word_[oov]);
    }
  }
  return out;
}

std::vector<std::string> Tokenizer::sequences_to_texts(const std::vector<std::vector<int64_t>>& seqs) const {
  std::vector<std::string> out;
  for (const auto& s : seqs) out.push_back(sequence_to_text(s));
  return out;
}

int64_t Tokenizer::index_of(const std::string& word) const {
  auto it = word_index_.find(word);
  return it == word_index_.end() ? 0 : it->second;
}

const std::string& Tokenizer::word_of(int64_t index) const {
  EMBER_CHECK(index >= 1 && index < static_cast<int64_t>(index_word_.size()), IndexError,
              "Tokenizer::word_of: index ", index, " is not in the vocabulary (1..", index_word_.size() - 1,
              ")");
  return index_word_[index];
}

int64_t Tokenizer::word_count(const std::string& word) const {
  auto it = counts_.find(word);
  return it == counts_.end() ? 0 : it->second;
}

int64_t Tokenizer::vocab_size() const {
  const int64_t all = static_cast<int64_t>(index_word_.size());
  return options_.num_words_ > 0 ? std::min(options_.num_words_, all) : all;
}

Tensor pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t maxlen, Pad padding,
                     Pad truncating, int64_t value) {
  if (maxlen < 0) {
    maxlen = 0;
    for (const auto& s : seqs) maxlen = std::max<int64_t>(maxlen, static_cast<int64_t>(s.size()));
  }
  const int64_t n = static_cast<int64_t>(seqs.size());
  Tensor out = empty({n, maxlen}, DType::Int64);
  int64_t* p = out.data<int64_t>();
  std::fill(p, p + n * maxlen, value);
  for (int64_t i = 0; i < n; ++i) {
    const auto& s = seqs[i];
    const int64_t len = static_cast<int64_t>(s.size());
    const int64_t keep = std::min(len, maxlen);
    const int64_t from = truncating == Pad::Pre ? len - keep : 0;  // which part of s survives
    const int64_t to = padding == Pad::Pre ? maxlen - keep : 0;    // where it goes in the row
    std::copy(s.begin() + from, s.begin() + from + keep, p + i * maxlen + to);
  }
  return out;
}

std::string strip_mail_headers(const std::string& mail) {
  size_t lf = mail.find("\n\n"), crlf = mail.find("\r\n\r\n");
  size_t cut = std::string::npos;
  if (lf != std::string::npos) cut = lf + 2;
  if (crlf != std::string::npos && (cut == std::string::npos || crlf + 4 <= cut)) cut = crlf + 4;
  if (cut != std::string::npos) return mail.substr(cut);
  // No empty line: all header, or no header at all.
  const size_t eol = mail.find('\n');
  const std::string first = mail.substr(0, eol);
  const size_t colon = first.find(':');
  const bool header = first.rfind("From ", 0) == 0 ||
                      (colon != std::string::npos && colon > 0 &&
                       std::all_of(first.begin(), first.begin() + colon,
                                   [](unsigned char c) { return std::isalnum(c) || c == '-'; }));
  return header ? std::string() : mail;
}

}  // namespace ember::data
