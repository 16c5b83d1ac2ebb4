#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "ember/data/readers.h"
#include "internal.h"

namespace ember::data {

namespace {
// Splits one line into cells; a cell may be quoted with "..." ("" inside is a quote).
std::vector<std::string> split_csv_line(const std::string& line, char delim, const std::string& path,
                                        int64_t line_no) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        cur += ch;
      }
    } else if (ch == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (ch == delim) {
      cells.push_back(cur);
      cur.clear();
      was_quoted = false;
    } else {
      cur += ch;
    }
  }
  EMBER_CHECK(!quoted, IOError, "CSV '", path, "' line ", line_no, ": unterminated quoted cell");
  cells.push_back(cur);
  for (auto& c : cells) {  // trim spaces
    const size_t a = c.find_first_not_of(" \t"), b = c.find_last_not_of(" \t");
    c = a == std::string::npos ? "" : c.substr(a, b - a + 1);
  }
  return cells;
}
bool parse_number(const std::string& s, double* v) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  *v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && errno != ERANGE && std::isfinite(*v);
}
}  // namespace

CsvData read_csv(const std::string& path, const CsvOptions& opt) {
  EMBER_CHECK(!opt.label_column_.empty(), ValueError, "read_csv('", path, "'): label_column is not set");
  const std::string text = read_text_file(path);
  std::vector<std::string> lines;
  {
    size_t start = 0;
    while (start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
      start = end + 1;
    }
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();  // trailing newline(s)
  EMBER_CHECK(!lines.empty(), IOError, "CSV '", path, "' is empty (no header line)");
  const std::vector<std::string> header = split_csv_line(lines[0], opt.delimiter_, path, 1);
  auto it = std::find(header.begin(), header.end(), opt.label_column_);
  EMBER_CHECK(it != header.end(), ValueError, "CSV '", path, "': no column named '", opt.label_column_,
              "' in the header");
  const size_t label_col = static_cast<size_t>(it - header.begin()), ncol = header.size();
  CsvData out;
  for (size_t c = 0; c < ncol; ++c)
    if (c != label_col) out.feature_names.push_back(header[c]);
  const int64_t nf = static_cast<int64_t>(ncol) - 1;
  std::vector<float> features;
  std::vector<std::string> label_text;
  for (size_t li = 1; li < lines.size(); ++li) {
    const int64_t line_no = static_cast<int64_t>(li) + 1;
    if (lines[li].empty()) continue;
    const std::vector<std::string> cells = split_csv_line(lines[li], opt.delimiter_, path, line_no);
    EMBER_CHECK(cells.size() == ncol, IOError, "CSV '", path, "' line ", line_no, ": ", cells.size(),
                " columns, the header has ", ncol);
    for (size_t c = 0; c < ncol; ++c) {
      if (c == label_col) {
        label_text.push_back(cells[c]);
        continue;
      }
      double v = 0;
      EMBER_CHECK(parse_number(cells[c], &v), IOError, "CSV '", path, "' line ", line_no, " column ", c + 1,
                  " ('", header[c], "'): '", cells[c], "' is not a number");
      features.push_back(static_cast<float>(v));
    }
  }
  const int64_t n = static_cast<int64_t>(label_text.size());
  EMBER_CHECK(n > 0, IOError, "CSV '", path, "' has a header but no data rows");
  Tensor x = from_vector(features, Shape{n, nf});
  Tensor y;
  auto label_error = [&](int64_t row) {
    int64_t seen = 0;  // line number of the row-th data line
    for (size_t li = 1; li < lines.size(); ++li) {
      if (lines[li].empty()) continue;
      if (seen++ == row) return static_cast<int64_t>(li) + 1;
    }
    return int64_t(0);
  };
  if (!opt.classification_) {
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      double d = 0;
      EMBER_CHECK(parse_number(label_text[i], &d), IOError, "CSV '", path, "' line ", label_error(i),
                  " column ", label_col + 1, " ('", opt.label_column_, "'): '", label_text[i],
                  "' is not a number");
      v[i] = static_cast<float>(d);
    }
    y = from_vector(v, Shape{n, 1});
  } else {
    // Integer labels stay as they are; anything else names classes, numbered in sorted order.
    bool all_int = true;
    for (const auto& s : label_text) {
      double d = 0;
      if (!parse_number(s, &d) || d != std::floor(d) || d < 0) {
        all_int = false;
        break;
      }
    }
    std::vector<int64_t> v(static_cast<size_t>(n));
    if (all_int) {
      int64_t mx = 0;
      for (int64_t i = 0; i < n; ++i)
        mx = std::max(mx, v[i] = static_cast<int64_t>(std::strtod(label_text[i].c_str(), nullptr)));
      for (int64_t c = 0; c <= mx; ++c) out.class_names.push_back(std::to_string(c));
    } else {
      std::map<std::string, int64_t> ids;
      for (const auto& s : label_text) {
        EMBER_CHECK(!s.empty(), IOError, "CSV '", path, "': empty label in column '", opt.label_column_, "'");
        ids[s] = 0;
      }
      int64_t k = 0;
      for (auto& [name, id] : ids) {
        id = k++;
        out.class_names.push_back(name);
      }
      for (int64_t i = 0; i < n; ++i) v[i] = ids[label_text[i]];
    }
    y = from_vector(v, Shape{n});
  }
  out.dataset = std::make_shared<TensorDataset>(x, y);
  return out;
}

}  // namespace ember::data
