// Text to integer sequences, with the semantics of Keras' preprocessing (tf.keras.preprocessing.text and
// .sequence): index 0 is reserved (padding), an oov_token gets index 1, words are numbered by descending
// count (ties: first seen first), and num_words keeps the num_words-1 most frequent.
//
//   ember::data::Tokenizer tok(ember::data::TokenizerOptions().num_words(10000).oov_token("<oov>"));
//   tok.fit_on_texts(train_texts);
//   auto seqs = tok.texts_to_sequences(test_texts);
//   Tensor x = ember::data::pad_sequences(seqs, /*maxlen=*/200);      // int64 (N, 200), pre-padded with 0
//   tok.sequences_to_texts({seqs[0]});                                 // decode
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::data {

class TokenizerOptions {
 public:
  // Keep only the num_words-1 most frequent words in sequences (0: keep all).
  TokenizerOptions& num_words(int64_t v) {
    num_words_ = v;
    return *this;
  }
  // Token for words not in the vocabulary (empty: such words are dropped).
  TokenizerOptions& oov_token(std::string v) {
    oov_token_ = std::move(v);
    return *this;
  }
  TokenizerOptions& lower(bool v) {
    lower_ = v;
    return *this;
  }
  // Every character is a token (after lowercasing), instead of words.
  TokenizerOptions& char_level(bool v) {
    char_level_ = v;
    return *this;
  }
  int64_t num_words_ = 0;
  std::string oov_token_;
  bool lower_ = true;
  bool char_level_ = false;
};

// Words are maximal runs of letters (ASCII letters and any byte >= 0x80, so UTF-8 letters stay whole);
// everything else separates words. (Keras instead strips a fixed punctuation list and splits on spaces, so it
// keeps digits and apostrophes; indexing, num_words, oov and padding follow Keras exactly.)
std::vector<std::string> split_words(const std::string& text, bool lower = true);

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerOptions options = {});
  void fit_on_texts(const std::vector<std::string>& texts);
  std::vector<int64_t> text_to_sequence(const std::string& text) const;
  std::vector<std::vector<int64_t>> texts_to_sequences(const std::vector<std::string>& texts) const;
  // Indices back to words joined by spaces (no separator at char level). 0 is skipped; an index that is
  // unknown or beyond num_words becomes the oov token if there is one, else is skipped (as in Keras).
  std::string sequence_to_text(const std::vector<int64_t>& seq) const;
  std::vector<std::string> sequences_to_texts(const std::vector<std::vector<int64_t>>& seqs) const;

  // word -> index (1-based; every word seen, like Keras' word_index) and back.
  int64_t index_of(const std::string& word) const;  // 0 if unknown
  const std::string& word_of(int64_t index) const;  // throws IndexError if unknown
  const std::unordered_map<std::string, int64_t>& word_index() const { return word_index_; }
  const std::vector<std::string>& index_word() const { return index_word_; }  // [0] = ""
  int64_t word_count(const std::string& word) const;
  // The number of distinct indices a model needs: min(num_words, index_word().size()) or all (+1 for 0).
  int64_t vocab_size() const;
  int64_t oov_index() const { return options_.oov_token_.empty() ? 0 : 1; }

 private:
  std::vector<std::string> tokens(const std::string& text) const;
  TokenizerOptions options_;
  std::unordered_map<std::string, int64_t> counts_;
  std::vector<std::string> first_seen_;
  std::unordered_map<std::string, int64_t> word_index_;
  std::vector<std::string> index_word_;
};

enum class Pad { Pre, Post };
// Pads/truncates to (N, maxlen) int64 exactly like keras pad_sequences: maxlen < 0 means the longest
// sequence; padding/truncating 'pre' (the defaults) adds/removes at the start, 'post' at the end; value
// fills.
Tensor pad_sequences(const std::vector<std::vector<int64_t>>& seqs, int64_t maxlen = -1,
                     Pad padding = Pad::Pre, Pad truncating = Pad::Pre, int64_t value = 0);

// The body of an RFC 822 mail: everything after the first empty line (LF or CRLF). A text with no empty line
// has no body and yields "" if its first line looks like a header ("Name: value" or "From "), else itself.
std::string strip_mail_headers(const std::string& mail);

}  // namespace ember::data
