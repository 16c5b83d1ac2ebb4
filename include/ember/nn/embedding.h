// nn::Embedding: a lookup table of num_embeddings vectors of embedding_dim, like torch.nn.Embedding: weight
// (num_embeddings, embedding_dim) drawn from N(0, 1) with the padding_idx row zeroed; that row gets no
// gradient. forward takes int64 indices of any shape and returns indices.shape + (embedding_dim,).
//
//   auto emb = std::make_shared<ember::nn::Embedding>(ember::nn::EmbeddingOptions(10000,
//   128).padding_idx(0)); ember::Tensor e = emb->forward(token_ids);   // (N, T) int64 -> (N, T, 128)
#pragma once

#include <cstdint>
#include <optional>

#include "ember/core/random.h"
#include "ember/nn/module.h"

namespace ember::nn {

class EmbeddingOptions {
 public:
  EmbeddingOptions(int64_t num_embeddings, int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}
  // A row that stays zero and receives no gradient (negative counts from num_embeddings, like PyTorch).
  EmbeddingOptions& padding_idx(int64_t i) {
    padding_idx_ = i;
    return *this;
  }
  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  std::optional<int64_t> padding_idx() const { return padding_idx_; }

 private:
  int64_t num_embeddings_, embedding_dim_;
  std::optional<int64_t> padding_idx_;
};

class Embedding : public Module {
 public:
  explicit Embedding(const EmbeddingOptions& options, Generator* gen = nullptr);
  Embedding(int64_t num_embeddings, int64_t embedding_dim)
      : Embedding(EmbeddingOptions(num_embeddings, embedding_dim)) {}

  Tensor forward(const Tensor& indices) override;
  // N(0, 1), padding row zeroed.
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  const EmbeddingOptions& options() const { return options_; }

  Tensor weight;  // (num_embeddings, embedding_dim)

 private:
  EmbeddingOptions options_;
  std::optional<int64_t> padding_idx_;  // normalised to [0, num_embeddings)
};

}  // namespace ember::nn
