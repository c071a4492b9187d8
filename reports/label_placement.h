#pragma once
// Greedy placement of point labels in a chart so that no two labels overlap (and none covers a marker or
// leaves the plot area when it can be avoided): for each label in turn, try positions around its marker on
// growing rings (right, left, above, below and the diagonals) and take the first free one; a label moved off
// the first ring gets a leader line to its marker. Text sizes are estimated from the font size (a DejaVu Sans
// glyph averages about 0.6 em; the estimate is deliberately wider) and the headless-Chromium test checks the
// real rendered boxes.
#include <string>
#include <vector>

namespace hb::reports {

struct Box {
  double x = 0, y = 0, w = 0, h = 0;
  double area() const { return w * h; }
};

// Area of the intersection of two boxes (0 when they do not overlap).
double overlap(const Box& a, const Box& b);

struct LabelRequest {
  double px = 0, py = 0;  // the marker, in pixels
  std::string text;
};

struct LabelPlacement {
  Box box;                  // the estimated text box
  double x = 0, y = 0;      // text anchor: start (left) of the baseline
  bool leader = false;      // draw a line from the marker to the box
  bool overlaps = false;    // no free position was found (the least-overlapping one is used)
};

// Estimated box size of `text` at `font_size` px.
Box text_box(const std::string& text, double font_size);
// Places every label (in order) inside `area`, avoiding the given obstacles (markers) and each other.
std::vector<LabelPlacement> place_labels(const std::vector<LabelRequest>& labels, const Box& area,
                                         const std::vector<Box>& obstacles, double font_size);

}  // namespace hb::reports
