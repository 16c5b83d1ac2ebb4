#include "ember/nn/embedding.h"

#include "ember/nn/init.h"
#include "ember/ops/conv.h"

namespace ember::nn {

Embedding::Embedding(const EmbeddingOptions& options, Generator* gen)
    : Module("Embedding"), options_(options) {
  const int64_t V = options.num_embeddings(), D = options.embedding_dim();
  EMBER_CHECK(V >= 0 && D >= 0, ValueError, "Embedding: sizes must be non-negative, got num_embeddings=", V,
              ", embedding_dim=", D);
  if (auto p = options.padding_idx()) {
    EMBER_CHECK(*p >= -V && *p < V, IndexError, "Embedding: padding_idx ", *p, " is outside [", -V, ", ", V,
                ") for num_embeddings=", V);
    padding_idx_ = *p < 0 ? *p + V : *p;
  }
  weight = register_parameter("weight", empty({V, D}));
  reset_parameters(gen);
}

void Embedding::reset_parameters(Generator* gen) {
  init::normal_(weight, 0.0, 1.0, gen);
  if (padding_idx_) {
    const int64_t D = options_.embedding_dim();
    fill_(as_strided(weight, {D}, {1}, weight.offset() + *padding_idx_ * D), 0.0);
  }
}

Tensor Embedding::forward(const Tensor& indices) {
  EMBER_CHECK(indices.defined(), ValueError, describe(), ": undefined input");
  EMBER_CHECK(indices.dtype() == DType::Int64, DTypeError, describe(), ": expected int64 indices, got ",
              dtype_name(indices.dtype()), " of shape ", indices.shape());
  return embedding(weight, indices, padding_idx_);
}

std::string Embedding::extra_repr() const {
  std::string s = std::to_string(options_.num_embeddings()) + ", " + std::to_string(options_.embedding_dim());
  if (padding_idx_) s += ", padding_idx=" + std::to_string(*padding_idx_);
  return s;
}

}  // namespace ember::nn
