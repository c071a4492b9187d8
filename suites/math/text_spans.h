#pragma once
// Where the math is in a whole solution text, and the numbers that stand in its prose.
//   find_math_spans   every complete $...$, $$...$$, \(...\), \[...\] and \begin{equation|align|gather}...\end
//                     block, in order (an escaped \$ is a dollar sign; an unclosed opener is not a span), and
//                     the code regions ([asy] figures, ``` fences) marked as such: no span starts inside one
//   prose_numbers     numbers outside math spans and outside LaTeX commands and their {} arguments (never the
//                     11 of a bare \frac{6}{11}), not glued to letters ("x2", "2x", "3rd"), not list or step
//                     labels ("1. ", "Step 2"), with the sentence each belongs to and whether it follows an
//                     approximation word ("about 0.55")
//   last_prose_number the last of them as the answer: when its sentence lists it with others ("12 and 18",
//                     "3, 4 or 5") the whole list, one set (never one number of it); none when the text from its
//                     sentence on says there is no answer ("no solution", "does not exist")
// Every scan is linear in the text.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hb::suites::math {

struct MathSpan {
  size_t open = 0, close = 0;  // the whole span, delimiters included: [open, close)
  size_t begin = 0, end = 0;   // its content: [begin, end)
  bool code = false;           // an [asy]...[/asy] figure or a ``` fence: neither math nor prose
};

std::vector<MathSpan> find_math_spans(std::string_view text);

struct ProseNumber {
  size_t begin = 0, end = 0;   // the literal in the text
  std::string value;           // normalised ("1,234.50" -> "1234.5")
  size_t sentence = 0;         // index of its sentence (numbers with the same index share one)
  bool approximate = false;    // after "about", "approximately", "roughly", "nearly", "~"
};

std::vector<ProseNumber> prose_numbers(std::string_view text, const std::vector<MathSpan>& spans);

struct ProseAnswer {
  std::optional<ProseNumber> number;  // set when found; a listed group is one number whose value is "a, b"
  std::string reason;                 // why this number, or why none
};

ProseAnswer last_prose_number(std::string_view text, const std::vector<MathSpan>& spans);

// Where the sentence holding pos begins (after ". ", "! ", "? " or a newline).
size_t sentence_start(std::string_view text, size_t pos);

// True when the text says there is no answer ("no solution", "does not exist", "impossible", ...).
bool says_no_answer(std::string_view text);

}  // namespace hb::suites::math
