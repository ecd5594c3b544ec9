#pragma once
// benchmarks/RESULTS.md, generated (never hand-edited) from the latest report of every benchmark
// (benchmarks/*/results/*.json; a full run is preferred to a --quick one) plus the hand-written
// notes kept beside the benchmarks (benchmarks/*/NOTES.md), which are carried over verbatim.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tensorgraph::bench {

// The newest report of each benchmarks/<name>/results/ directory, in directory-name order.
std::vector<std::filesystem::path> latest_reports(const std::filesystem::path& benchmarks_dir);
// benchmarks/<name>/NOTES.md files, in directory-name order.
std::vector<std::filesystem::path> note_files(const std::filesystem::path& benchmarks_dir);

struct Note {
  std::string source;  // "benchmarks/tokenizer/NOTES.md"
  std::string markdown;
};

std::string results_page(const std::vector<nlohmann::json>& reports,
                         const std::vector<Note>& notes);

// Reads what latest_reports() and note_files() find and renders the page.
std::string generate_results_page(const std::filesystem::path& benchmarks_dir);

}  // namespace tensorgraph::bench
